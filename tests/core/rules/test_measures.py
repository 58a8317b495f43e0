"""Measures as configuration: loading with clear errors, and which measures a party's records
trigger for a matter (pure: no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.models import CreditStatus, RecordCategory, Severity
from core.rules.measures import (
    MeasureBook,
    MeasuresError,
    applicable_measures,
    load_measures,
    measures_path,
    parse_measures,
)
from tests.support.credit import credit_record

TODAY = date(2026, 6, 1)
SAMPLE = Path(__file__).resolve().parents[3] / "sample_data" / "measures.toml"


def measure(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": "m1",
        "name": "限制参与政府采购活动",
        "kind": "punishment",
        "effect": "prohibits",
        "memorandum": "备忘录",
        "legal_basis": "政府采购法第二十二条",
        "matters": ["government_procurement"],
        "triggers": [{"list": "失信被执行人名单"}],
    }
    values.update(overrides)
    return values


def book(*measures: dict[str, Any]) -> MeasureBook:
    return parse_measures({"measures": list(measures)})


def codes(found: list[Any]) -> list[str]:
    return [a.measure.code for a in found]


def test_the_sample_file_loads_and_covers_the_demo_lists() -> None:
    loaded = load_measures(SAMPLE)
    triggers = {(t.kind, v) for m in loaded.measures for t in m.triggers for v in t.values}
    assert ("list", "失信被执行人名单") in triggers
    assert ("list", "拖欠农民工工资失信联合惩戒对象名单") in triggers
    assert ("tax_grade", "A") in triggers and ("tax_grade", "D") in triggers
    assert ("customs_rating", "高级认证") in triggers and ("customs_rating", "失信") in triggers
    assert ("category", "penalty") in triggers
    assert {m.kind for m in loaded.measures} == {"punishment", "reward"}


def test_the_measures_file_beside_the_rules_file_is_found(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("", encoding="utf-8")
    assert measures_path(measures_file=None, rules_file=rules) is None
    (tmp_path / "measures.toml").write_text("", encoding="utf-8")
    assert measures_path(measures_file=None, rules_file=rules) == tmp_path / "measures.toml"
    assert measures_path(measures_file=SAMPLE, rules_file=rules) == SAMPLE
    assert load_measures(None).measures == ()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (measure(kind="penalty"), "kind must be one of"),
        (measure(effect="favours"), "a punishment has effect restricts or prohibits"),
        (measure(matters=["procurement"]), "unknown matters ['procurement']"),
        (measure(matters=[]), "at least one matter"),
        (measure(colour="red"), "unknown keys ['colour']"),
        (measure(name=""), "name must be a non-empty string"),
        (measure(triggers=[]), "triggers must be a non-empty array"),
        (measure(triggers=[{"list": "x", "tax_grade": ["A"]}]), "exactly one of"),
        (measure(triggers=[{"grade": "A"}]), "exactly one of"),
        (measure(triggers=[{"tax_grade": ["E"]}]), "tax_grade: letters are"),
        (measure(triggers=[{"category": "fines"}]), "'fines' is not a valid RecordCategory"),
        (
            measure(triggers=[{"category": "penalty", "severity": ["grave"]}]),
            "not a valid Severity",
        ),
        (measure(triggers=[{"category": "penalty", "min_count": 0}]), "min_count must be"),
        (measure(triggers=[{"list": "x", "min_count": 2}]), "unknown keys ['min_count']"),
    ],
)
def test_a_bad_measure_is_refused_naming_the_measure(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(MeasuresError) as caught:
        book(entry)
    assert "measure 1 ('m1')" in str(caught.value)
    assert message in str(caught.value)


def test_missing_keys_duplicates_and_bad_files_are_refused(tmp_path: Path) -> None:
    entry = measure()
    del entry["legal_basis"]
    with pytest.raises(MeasuresError, match=r"missing \['legal_basis'\]"):
        book(entry)
    with pytest.raises(MeasuresError, match="duplicate code 'm1'"):
        book(measure(), measure())
    with pytest.raises(MeasuresError, match=r"unknown top-level keys \['measure'\]"):
        parse_measures({"measure": []})
    broken = tmp_path / "measures.toml"
    broken.write_text("[[measures]\ncode = 1", encoding="utf-8")
    with pytest.raises(MeasuresError, match=f"measures file {broken}"):
        load_measures(broken)
    with pytest.raises(MeasuresError, match="measures file"):
        load_measures(tmp_path / "absent.toml")


def test_a_list_trigger_fires_on_an_in_force_entry_of_that_list_only() -> None:
    rules = book(measure())
    listed = credit_record(
        category=RecordCategory.LIST_ENTRY, severity=None, list_name="失信被执行人名单"
    )
    other = credit_record(category=RecordCategory.LIST_ENTRY, severity=None, list_name="其他名单")
    removed = credit_record(
        category=RecordCategory.LIST_ENTRY,
        severity=None,
        list_name="失信被执行人名单",
        removed_on=date(2026, 5, 1),
    )
    found = applicable_measures(
        book=rules, records=[listed, other, removed], matter="government_procurement", today=TODAY
    )
    assert codes(found) == ["m1"]
    assert found[0].fired[0].records == (listed,)
    assert not applicable_measures(book=rules, records=[listed], matter="subsidy", today=TODAY), (
        "a measure applies only to the matters it names"
    )
    assert not applicable_measures(
        book=rules, records=[other, removed], matter="government_procurement", today=TODAY
    )


def test_category_triggers_count_severity_and_window() -> None:
    rules = book(
        measure(
            code="serious",
            matters=["licensing"],
            triggers=[
                {
                    "category": "penalty",
                    "severity": ["serious"],
                    "within_months": 12,
                    "min_count": 2,
                }
            ],
        )
    )
    recent = credit_record(severity=Severity.SERIOUS, decision_date=date(2026, 1, 1))
    old = credit_record(severity=Severity.SERIOUS, decision_date=date(2025, 5, 31))
    general = credit_record(severity=Severity.GENERAL, decision_date=date(2026, 2, 1))
    repaired = credit_record(
        severity=Severity.SERIOUS, decision_date=date(2026, 2, 1), status=CreditStatus.REPAIRED
    )

    def fires(*records: Any) -> bool:
        return bool(
            applicable_measures(book=rules, records=records, matter="licensing", today=TODAY)
        )

    assert not fires(recent, old, general, repaired), "one serious penalty in the window"
    second = credit_record(severity=Severity.SERIOUS, decision_date=date(2025, 6, 1))
    assert fires(recent, second), "the window includes its first day"


def test_grade_and_rating_triggers_read_the_latest_in_force_value() -> None:
    rules = book(
        measure(
            code="tax_a",
            kind="reward",
            effect="favours",
            matters=["fast_track"],
            triggers=[{"tax_grade": ["A"]}],
        ),
        measure(
            code="customs",
            kind="reward",
            effect="favours",
            matters=["fast_track"],
            triggers=[{"customs_rating": ["高级认证"]}],
        ),
    )

    def tax(letter: str, year: int) -> Any:
        return credit_record(
            category=RecordCategory.TAX_GRADE,
            severity=None,
            grade=letter,
            decision_date=date(year, 12, 31),
        )

    customs = credit_record(
        category=RecordCategory.CUSTOMS_RATING, severity=None, grade="高级认证企业"
    )
    found = applicable_measures(
        book=rules,
        records=[tax("A", 2025), tax("B", 2024), customs],
        matter="fast_track",
        today=TODAY,
    )
    assert codes(found) == ["tax_a", "customs"]
    assert found[1].fired[0].records == (customs,)
    assert (
        codes(
            applicable_measures(
                book=rules,
                records=[tax("A", 2024), tax("B", 2025)],
                matter="fast_track",
                today=TODAY,
            )
        )
        == []
    ), "only the latest grade counts"
