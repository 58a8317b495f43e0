"""Exact-identifier keys of a record, and their cache for many records."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from matching.exact import PartyKeysCache, party_keys

USCC = "91110000600037341L"
BASE: dict[str, Any] = {"party_name": "北京星河科技有限公司", "uscc": USCC}
# Each differs from BASE in one field party_keys reads.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"party_name": "北京星河科技有限公司（分公司）"},
    {"party_name": "北京星河科技 有限公司"},
    {"party_kind": "individual_business"},
    {"party_kind": "natural_person"},
    {"uscc": "91110000600037341K"},
    {"uscc": "600037341"},
    {"uscc": None},
    {"org_code": "60003734-1"},
    {"registration_number": "110108000000016"},
    {"taxpayer_number": "110108600037341"},
    {"id_number": "11010519491231002X"},
    {"id_number": "110105********002X"},
    {"code": "ABC123"},
    {"legal_rep": "王五"},  # not read by party_keys: same keys as BASE
]


def test_cached_keys_are_the_keys_of_each_record() -> None:
    cache = PartyKeysCache()
    for _ in range(2):
        for variant in VARIANTS:
            record = {**BASE, **variant}
            assert cache(record) == party_keys(record), variant


def test_a_party_seen_before_gets_the_same_keys_object() -> None:
    cache = PartyKeysCache()
    first = cache(BASE)
    assert cache(dict(BASE)) is first
    assert cache({**BASE, "legal_rep": "王五"}) is first
    assert cache({**BASE, "party_kind": "natural_person"}) is not first


def test_equal_values_of_other_types_are_not_confused() -> None:
    cache = PartyKeysCache()
    for code in ("1", 1, 1.0, True, "1.0"):
        record = {"party_name": "甲", "code": code}
        assert cache(record) == party_keys(record), code


def test_a_full_cache_starts_again() -> None:
    cache = PartyKeysCache(maxsize=2)
    for _ in range(3):
        for variant in VARIANTS:
            record = {**BASE, **variant}
            assert cache(record) == party_keys(record), variant


_SHARED = PartyKeysCache(maxsize=64)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "party_name": st.sampled_from(["甲公司", "甲 公司", "乙公司", "", "王五"]),
            "party_kind": st.sampled_from(["legal_person", "natural_person", "nonsense"]),
            "uscc": st.sampled_from([USCC, "91110000600037341K", "600037341", ""]),
            "org_code": st.sampled_from(["60003734-1", "600037341", "12345"]),
            "id_number": st.sampled_from(["11010519491231002X", "110105********002X"]),
            "code": st.sampled_from(["ABC123", USCC, "x y"]),
            "address": st.sampled_from(["北京", "上海"]),
        },
    )
)
def test_the_cache_never_answers_for_another_record(record: dict[str, Any]) -> None:
    assert _SHARED(record) == party_keys(record)
