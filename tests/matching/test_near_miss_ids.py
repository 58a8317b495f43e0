"""Persons: a resident id one typo away (one digit changed, two neighbours swapped, a wrong
check character) is evidence when name and birth date agree, never a conflict; blocking finds
it, and the names that differ only in script or sound; still, no cluster ever holds two
different valid resident ids."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from matching.blocking import BlockIndex, blocking_keys
from matching.compare import compare_identifiers, compare_name
from matching.model import Decision, MatchConfig, score_pair
from matching.records import MatchRecord, Prepared
from matching.resolve import resolve
from tests.matching.test_persons import decide, make_person, resident_id

VALID = resident_id("19850302")  # 11010519850302031 + check


def substituted(number: str, position: int) -> str:
    """``number`` with the digit at ``position`` changed (the check character too)."""
    old = number[position]
    new = "5" if old != "5" else "6"
    return number[:position] + new + number[position + 1 :]


def swapped(number: str, position: int) -> str:
    return number[:position] + number[position + 1] + number[position] + number[position + 2 :]


# The typos the brief names, each failing the id's check: a digit of the date, a digit of the
# sequence, the check character, two neighbours in the region swapped.
TYPOS = [
    pytest.param(substituted(VALID, 9), id="date digit"),
    pytest.param(substituted(VALID, 15), id="sequence digit"),
    pytest.param(VALID[:17] + ("0" if VALID[17] != "0" else "1"), id="check character"),
    pytest.param(swapped(VALID, 14), id="neighbours swapped"),
]


@pytest.mark.parametrize("typo", TYPOS)
def test_a_mistyped_id_with_the_same_name_and_birth_date_links(typo: str) -> None:
    assert not ric.is_valid(typo)
    good = make_person(codes=(VALID,))
    bad = make_person(codes=(typo,), birth_date="1985年3月2日")
    comparison = compare_identifiers(good, bad)
    assert comparison.level == "near_id"
    assert "one typo apart" in comparison.why
    assert decide(good, bad) is Decision.POSITIVE


def test_a_mistyped_id_without_a_written_birth_date_takes_the_ids_date() -> None:
    bad = make_person(codes=(swapped(VALID, 15),))
    assert bad.flagged_residents and bad.birth_date == date(1985, 3, 2)
    assert decide(make_person(codes=(VALID,)), bad) is Decision.POSITIVE


def test_a_mistyped_id_under_another_name_does_not_link() -> None:
    good = make_person(codes=(VALID,))
    other = make_person(name="钱思远", codes=(substituted(VALID, 15),), birth_date="19850302")
    assert decide(good, other) is not Decision.POSITIVE


def test_two_valid_ids_stay_a_conflict_whatever_else_agrees() -> None:
    twin = resident_id("19850302", sequence="033")
    explanation = score_pair(make_person(codes=(VALID,)), make_person(codes=(twin,)), MatchConfig())
    assert explanation.rule == "different_valid_resident_id"
    assert explanation.decision is Decision.NEGATIVE


def test_a_mistyped_id_fitting_a_mask_is_masked_evidence() -> None:
    masked = make_person(codes=(VALID[:6] + "********" + VALID[-4:],))
    bad = make_person(codes=(substituted(VALID, 9),))
    assert compare_identifiers(masked, bad).level == "masked"


@pytest.mark.parametrize("position", range(18))
def test_every_substitution_shares_a_blocking_key(position: int) -> None:
    typo = substituted(VALID, position)
    assert blocking_keys(make_person(codes=(VALID,))) & blocking_keys(make_person(codes=(typo,)))


@pytest.mark.parametrize("position", range(17))
def test_every_swap_of_neighbours_shares_a_blocking_key(position: int) -> None:
    typo = swapped(VALID, position)
    if typo == VALID:
        pytest.skip("equal neighbours")
    assert blocking_keys(make_person(codes=(VALID,))) & blocking_keys(make_person(codes=(typo,)))


def test_near_miss_keys_keep_strangers_apart() -> None:
    # Ids of people born on other days or elsewhere share no key with VALID.
    strangers = [
        resident_id("19850303"),
        resident_id("19860302"),
        resident_id("19850302", region="110106"),
        resident_id("19850302", sequence="457"),
    ]
    keys = blocking_keys(make_person(codes=(VALID,), name="钱思远"))
    for number in strangers:
        assert not keys & blocking_keys(make_person(codes=(number,)))


def test_blocking_finds_name_and_birth_date_name_and_address_and_region_and_tail() -> None:
    with_id = make_person(codes=(VALID,), address="北京市朝阳区建国路88号")
    born = make_person(birth_date="1985-03-02")
    lives = make_person(address="朝阳区建国路88号")
    masked = make_person(name="", codes=(VALID[:6] + "********" + VALID[-4:],))
    keys = blocking_keys(with_id)
    assert any(k.startswith("B") for k in keys & blocking_keys(born))
    assert any(k.startswith("A") for k in keys & blocking_keys(lives))
    assert any(k.startswith("M") for k in keys & blocking_keys(masked))


def test_traditional_characters_are_the_same_name() -> None:
    simplified = make_person(name="赵子涵", birth_date="1985-03-02")
    traditional = make_person(name="趙子涵", birth_date="19850302")
    assert compare_name(simplified, traditional).level == "exact"
    assert decide(simplified, traditional) is Decision.POSITIVE


def test_a_homophone_name_is_weak_evidence() -> None:
    a = make_person(name="赵子涵", birth_date="1985-03-02")
    b = make_person(name="赵子含", birth_date="1985-03-02")
    assert compare_name(a, b).level == "homophone"
    assert decide(a, b) is Decision.UNSURE
    assert blocking_keys(a) & blocking_keys(b)
    # With the same address or an id that fits, it links; alone, it never does.
    home = "北京市朝阳区建国路88号"
    assert decide(make_person(**_with(a, address=home)), make_person(**_with(b, address=home))) is (
        Decision.POSITIVE
    )
    assert decide(make_person(name="赵子涵"), make_person(name="赵子含")) is Decision.NEGATIVE


def _with(p: Prepared, **extra: Any) -> dict[str, Any]:
    return {"name": p.raw_name, "birth_date": p.birth_date, **extra}


# --------------------------------------------------------------------------- property

_NAMES = ("王伟", "赵子涵", "赵子含", "钱思远")
_DAYS = ("19850302", "19850303", "19900101")


@st.composite
def _people(draw: st.DrawFn) -> list[MatchRecord]:
    """Records of a few people sharing names and birth days (one region), each record with
    the person's id as it is, mistyped, masked or left out: the worst case for near-misses."""
    people = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_NAMES),
                st.sampled_from(_DAYS),
                st.integers(min_value=0, max_value=4),
            ),
            min_size=2,
            max_size=7,
            unique_by=lambda p: (p[1], p[2]),
        )
    )
    records = []
    for n, (name, day, seq) in enumerate(people):
        number = resident_id(day, f"{30 + seq:03d}")
        for k in range(draw(st.integers(min_value=1, max_value=3))):
            form = draw(st.sampled_from(("valid", "substituted", "swapped", "masked", "none")))
            position = draw(st.integers(min_value=0, max_value=16))
            code = {
                "valid": number,
                "substituted": substituted(number, position),
                "swapped": swapped(number, position),
                "masked": number[:6] + "********" + number[-4:],
                "none": "",
            }[form]
            records.append(
                MatchRecord(
                    record_id=f"p{n}r{k}",
                    name=name,
                    kind="natural_person",
                    codes=(code,) if code else (),
                    birth_date=day,
                )
            )
    return records


@settings(max_examples=150, deadline=None)
@given(_people())
def test_no_cluster_ever_holds_two_different_valid_resident_ids(
    records: list[MatchRecord],
) -> None:
    result = resolve(records)
    valid: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for code in record.codes:
            if ric.is_valid(code):
                valid[result.clusters[record.record_id]].add(code)
    assert all(len(codes) <= 1 for codes in valid.values())


def test_near_miss_blocks_stay_small() -> None:
    # 2,000 people of one district born over a few years: no near-miss key holds more than a
    # handful of them, so the window keys never explode a block.
    index = BlockIndex()
    people = [
        make_person(
            record_id=str(i),
            codes=(resident_id(f"1985{1 + i % 12:02d}{1 + i % 28:02d}", f"{i % 1000:03d}"),),
        )
        for i in range(2000)
    ]
    index.add(people)
    sizes = [
        len(members)
        for key, members in index._blocks.items()
        if key.startswith("W") and isinstance(members, list)
    ]
    assert max(sizes, default=1) <= 10


def test_a_typo_in_the_date_digits_of_an_id_is_not_held_against_it() -> None:
    # 19850302 typed 19850305: the date the mistyped id shows is no evidence either way.
    bad = make_person(codes=(substituted(VALID, 13),))
    assert bad.birth_from_typo and bad.birth_date != date(1985, 3, 2)
    good = make_person(codes=(VALID,))
    assert score_pair(good, bad, MatchConfig()).comparisons[4].level == "missing"
    assert decide(good, bad) is Decision.POSITIVE
    # A birth date written next to it wins over the id's.
    written = make_person(codes=(substituted(VALID, 13),), birth_date="1985-03-02")
    assert not written.birth_from_typo and written.birth_date == date(1985, 3, 2)


def test_a_rare_name_at_one_home_address_links_a_common_one_goes_to_review() -> None:
    home = "北京市朝阳区建国路88号"
    with_id = make_person(codes=(VALID,), address=home)
    same_home = make_person(address="朝阳区建国路88号")  # the city left out
    assert score_pair(with_id, same_home, MatchConfig()).comparisons[3].level == "exact_home"
    assert decide(with_id, same_home) is Decision.POSITIVE
    common = make_person(name="王伟", codes=(VALID,), address=home)
    assert decide(common, make_person(name="王伟", address=home)) is Decision.UNSURE
