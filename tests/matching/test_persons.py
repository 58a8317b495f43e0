"""Persons in the matcher: birth date, gender and region read from full, old and masked ids
and weighed against a given birth date; a common name says less than a rare one; a name alone
never links."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from stdnum.cn import ric

from matching.model import Decision, MatchConfig, score_pair
from matching.records import MatchRecord, Prepared, prepare
from matching.resident_ids import PersonFacts, person_facts


def resident_id(born: str, sequence: str = "031", region: str = "110105") -> str:
    """A valid 18-digit resident id (odd sequence: male)."""
    body = f"{region}{born}{sequence}"
    return body + ric.calc_check_digit(body + "0")


def make_person(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "赵子涵", "kind": "natural_person"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


def decide(a: Prepared, b: Prepared) -> Decision:
    return score_pair(a, b, MatchConfig()).decision


@pytest.mark.parametrize(
    ("number", "facts"),
    [
        (resident_id("19850302", "031"), PersonFacts("110105", date(1985, 3, 2), "M")),
        (resident_id("19850302", "042"), PersonFacts("110105", date(1985, 3, 2), "F")),
        ("110105491231002", PersonFacts("110105", date(1949, 12, 31), "F")),
        ("110105********0031", PersonFacts("110105", None, "M")),
        ("11010519850302****", PersonFacts("110105", date(1985, 3, 2), None)),
        ("110105*****0031", PersonFacts("110105", None, "M")),
        ("北京星河科技", None),
    ],
)
def test_ids_full_old_and_masked_tell_region_birth_date_and_sex(
    number: str, facts: PersonFacts | None
) -> None:
    assert person_facts(number) == facts


def test_a_valid_ids_own_birth_date_and_sex_win_over_what_is_written_next_to_it() -> None:
    person = make_person(codes=(resident_id("19850302"),), birth_date="1990-01-01", gender="女")
    assert (person.birth_date, person.gender) == (date(1985, 3, 2), "M")
    masked = make_person(codes=("110105********0042",), gender="男")
    assert masked.gender == "F"
    given = make_person(birth_date="1985年3月2日", gender="男")
    assert (given.birth_date, given.gender) == (date(1985, 3, 2), "M")


def test_name_and_birth_date_link_to_the_person_whose_id_carries_that_date() -> None:
    holder = make_person(codes=(resident_id("19850302"),))
    assert decide(make_person(birth_date="1985-03-02"), holder) is Decision.POSITIVE
    assert decide(make_person(birth_date="1985-03-02", gender="M"), holder) is Decision.POSITIVE
    # another date, another gender, another name: not this person
    assert decide(make_person(birth_date="1985-03-03"), holder) is Decision.NEGATIVE
    assert decide(make_person(birth_date="1985-03-02", gender="F"), holder) is Decision.NEGATIVE
    assert decide(make_person(name="赵子轩", birth_date="1985-03-02"), holder) is not (
        Decision.POSITIVE
    )


def test_a_very_common_name_with_a_birth_date_goes_to_review_not_to_a_link() -> None:
    holder = make_person(name="王伟", codes=(resident_id("19850302"),))
    explanation = score_pair(
        make_person(name="王伟", birth_date="1985-03-02"), holder, MatchConfig()
    )
    assert explanation.decision is Decision.UNSURE
    rare = score_pair(
        make_person(birth_date="1985-03-02"),
        make_person(codes=(resident_id("19850302"),)),
        MatchConfig(),
    )
    assert rare.probability > explanation.probability
    name = next(c for c in explanation.comparisons if c.field == "name")
    assert "commonest" in name.why


def test_a_name_alone_never_links_two_persons() -> None:
    assert decide(make_person(), make_person(codes=(resident_id("19850302"),))) is Decision.NEGATIVE
    assert decide(make_person(), make_person()) is Decision.NEGATIVE
    assert decide(make_person(gender="M"), make_person(gender="M")) is Decision.NEGATIVE


def test_two_different_valid_ids_are_never_one_person_whatever_else_agrees() -> None:
    one = make_person(codes=(resident_id("19850302", "031"),), address="北京市朝阳区建国路1号")
    other = make_person(codes=(resident_id("19850302", "033"),), address="北京市朝阳区建国路1号")
    explanation = score_pair(one, other, MatchConfig())
    assert explanation.decision is Decision.NEGATIVE
    assert explanation.rule == "different_valid_resident_id"


def test_the_matcher_reads_gender_words_as_ingest_validates_them() -> None:
    """One table (matching.resident_ids.GENDER_WORDS) for ingest's validation and the
    matcher: 男性 / 女性 and the GB/T 2261.1 codes read the same on both paths."""
    assert [make_person(gender=g).gender for g in ("男性", "女性", "1", "２", "9", "未知")] == [
        "M",
        "F",
        "M",
        "F",
        None,
        None,
    ]
