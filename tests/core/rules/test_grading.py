"""The credit grade, rule by rule, with its window boundaries (pure: no database)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.models import CreditRecord, CreditStatus, RecordCategory, Severity
from core.rules.grading import Grade, grade_entity
from core.rules.settings import GradeRules
from tests.support.credit import credit_record

TODAY = date(2026, 6, 1)
RULES = GradeRules()  # serious window 36 months, general 12; D at 2 serious, C at 1, ...


def grade(*records: CreditRecord, rules: GradeRules = RULES) -> Grade:
    return grade_entity(records=list(records), today=TODAY, rules=rules)


def rules_of(result: Grade) -> list[str]:
    return [r.rule for r in result.reasons]


def serious(**overrides: Any) -> CreditRecord:
    return credit_record(severity=Severity.SERIOUS, **overrides)


def general(**overrides: Any) -> CreditRecord:
    return credit_record(severity=Severity.GENERAL, **overrides)


def tax(letter: str, year: int = 2025, **overrides: Any) -> CreditRecord:
    return credit_record(
        category=RecordCategory.TAX_GRADE,
        severity=Severity.SERIOUS if letter == "D" else None,
        grade=letter,
        decision_date=date(year, 12, 31),
        **overrides,
    )


def customs(rating: str, on: date = date(2026, 3, 1)) -> CreditRecord:
    return credit_record(
        category=RecordCategory.CUSTOMS_RATING, severity=None, grade=rating, decision_date=on
    )


def black(**overrides: Any) -> CreditRecord:
    return credit_record(
        category=RecordCategory.LIST_ENTRY,
        severity=Severity.SERIOUS,
        list_name="失信被执行人名单",
        **overrides,
    )


def red(**overrides: Any) -> CreditRecord:
    return credit_record(
        category=RecordCategory.RED_LIST, severity=None, list_name="守信激励名单", **overrides
    )


def test_no_records_is_an_a_with_a_reason() -> None:
    result = grade()
    assert result.letter == "A"
    assert rules_of(result) == ["no_adverse_records"]
    assert result.reasons[0].effect == "A"


def test_licences_and_registry_facts_do_not_count() -> None:
    licence = credit_record(category=RecordCategory.LICENSING, severity=None)
    assert grade(licence).letter == "A"


@pytest.mark.parametrize(
    "record",
    [
        black(status=CreditStatus.REPAIRED),
        black(status=CreditStatus.REVOKED),
        black(status=CreditStatus.EXPIRED),
        black(publicity_end=date(2026, 5, 31)),  # publicity over: expired by the calendar
        black(removed_on=date(2026, 5, 1)),  # taken off the list
        black(decision_date=date(2026, 7, 1)),  # not decided yet
    ],
    ids=["repaired", "revoked", "expired", "publicity-ended", "removed", "future"],
)
def test_records_not_in_force_are_ignored(record: CreditRecord) -> None:
    assert grade(record).letter == "A"


def test_black_list_entry_is_d_and_names_the_list_and_record() -> None:
    entry = black()
    result = grade(entry, general())
    assert result.letter == "D"
    reason = result.reasons[0]
    assert (reason.rule, reason.effect, reason.record_ids) == ("black_list_entry", "D", (entry.id,))
    assert "失信被执行人名单" in reason.detail
    # every rule that fired is listed, not only the worst
    assert "general_penalties_b" in rules_of(result)


def test_a_disputed_record_still_counts() -> None:
    assert grade(black(status=CreditStatus.DISPUTED)).letter == "D"


@pytest.mark.parametrize(
    ("letters", "expected", "rule"),
    [
        (["B", "D"], "D", "tax_grade_d"),
        (["D", "C"], "C", "tax_grade_c"),
        (["C", "M"], "B", "tax_grade_m_or_b"),
        (["D", "B"], "B", "tax_grade_m_or_b"),
        (["C", "A"], "A", "tax_grade_a"),
    ],
)
def test_the_latest_tax_grade_counts(letters: list[str], expected: str, rule: str) -> None:
    records = [tax(letter, year=2023 + i) for i, letter in enumerate(letters)]
    result = grade(*records)
    assert result.letter == expected
    assert rule in rules_of(result)
    latest = next(r for r in result.reasons if r.rule == rule)
    assert latest.record_ids == (records[-1].id,)


def test_customs_ratings_latest_counts() -> None:
    assert grade(customs("失信企业")).letter == "D"
    later_good = grade(customs("失信企业", date(2025, 1, 1)), customs("一般信用企业"))
    assert later_good.letter == "A"
    certified = grade(customs("高级认证企业"))
    assert certified.letter == "A"
    assert [(r.rule, r.effect) for r in certified.reasons] == [
        ("no_adverse_records", "A"),
        ("customs_advanced_certification", "positive"),
    ]


def test_serious_penalties_one_is_c_two_are_d() -> None:
    one = grade(serious())
    assert (one.letter, rules_of(one)) == ("C", ["serious_penalties_c"])
    two = grade(serious(), serious(decision_date=date(2024, 1, 1)))
    assert (two.letter, rules_of(two)) == ("D", ["serious_penalties_d"])
    assert len(two.reasons[0].record_ids) == 2


def test_serious_window_includes_its_first_day() -> None:
    # 36 months before 2026-06-01 is 2023-06-01
    first_day = serious(decision_date=date(2023, 6, 1))
    day_before = serious(decision_date=date(2023, 5, 31))
    assert grade(first_day).letter == "C"
    assert grade(day_before).letter == "A"
    assert grade(first_day, serious()).letter == "D"
    assert grade(day_before, serious()).letter == "C"


def test_general_penalties_one_is_b_three_are_c() -> None:
    assert grade(general()).letter == "B"
    assert grade(general(), general()).letter == "B"
    three = grade(general(), general(), general())
    assert (three.letter, rules_of(three)) == ("C", ["general_penalties_c"])


def test_general_window_includes_its_first_day() -> None:
    first_day = date(2025, 6, 1)  # 12 months before today
    assert grade(general(decision_date=first_day)).letter == "B"
    assert grade(general(decision_date=first_day - timedelta(days=1))).letter == "A"
    in_window = [general(decision_date=first_day), general(), general()]
    assert grade(*in_window).letter == "C"
    assert grade(general(decision_date=first_day - timedelta(days=1)), *in_window[1:]).letter == "B"


def test_minor_penalties_count_towards_b_but_not_c() -> None:
    minors = [credit_record(severity=Severity.MINOR) for _ in range(3)]
    result = grade(*minors)
    assert (result.letter, rules_of(result)) == ("B", ["general_penalties_b"])


def test_red_list_lifts_b_to_a_but_never_c() -> None:
    commendation = red()
    lifted = grade(general(), commendation)
    assert lifted.letter == "A"
    lift = next(r for r in lifted.reasons if r.rule == "red_list_entry")
    assert (lift.effect, lift.record_ids) == ("lift", (commendation.id,))
    # the B reason stays visible: the lift explains itself
    assert "general_penalties_b" in rules_of(lifted)
    assert grade(serious(), red()).letter == "C"
    alone = grade(red())
    assert alone.letter == "A"
    assert [(r.rule, r.effect) for r in alone.reasons] == [
        ("no_adverse_records", "A"),
        ("red_list_entry", "positive"),
    ]


def test_customs_certification_lifts_b_too() -> None:
    assert grade(tax("M"), customs("高级认证企业")).letter == "A"


def test_thresholds_come_from_the_rules_and_zero_turns_a_rule_off() -> None:
    lenient = GradeRules(serious_penalties_for_d=3, general_penalties_for_b=0)
    assert grade(serious(), serious(), rules=lenient).letter == "C"
    assert grade(general(), rules=lenient).letter == "A"
    short_window = GradeRules(general_window_months=1)
    assert grade(general(decision_date=date(2026, 4, 30)), rules=short_window).letter == "A"
    assert grade(general(decision_date=date(2026, 5, 1)), rules=short_window).letter == "B"


def test_reasons_serialise_with_their_record_ids() -> None:
    entry = black()
    body = grade(entry).as_dict()
    assert body["letter"] == "D" and body["as_of"] == TODAY
    assert body["reasons"][0]["record_ids"] == [entry.id]
    assert set(body["reasons"][0]) == {"rule", "effect", "detail", "record_ids"}
