"""The hard rule on strong codes, and the explanations its two callers give: a record against
an entity at ingest (``matching.exact.conflicts``) and one merge group against another."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matching.exact import PartyKeys, conflicts
from matching.strong_codes import STRONG_KINDS, StrongConflict, strong_conflicts

_CODES = st.sets(st.sampled_from(["A1", "B2", "C3", "D4"]), max_size=3)
_SIDE = st.dictionaries(st.sampled_from(STRONG_KINDS), _CODES)


def _keys(strong: dict[str, str]) -> PartyKeys:
    return PartyKeys(kind="legal_entity", name="x", keys=[], identifiers=[], strong=strong)


def test_different_valid_codes_of_one_kind_conflict() -> None:
    found = strong_conflicts({"uscc": {"A1"}}, {"uscc": {"B2"}, "resident_id": {"C3"}})
    assert found == (StrongConflict("uscc", frozenset({"A1"}), frozenset({"B2"})),)
    assert found[0].why == "different valid uscc (A1 vs B2): never the same entity"


def test_the_same_codes_or_a_side_without_codes_do_not_conflict() -> None:
    assert strong_conflicts({"uscc": {"A1"}}, {"uscc": {"A1"}}) == ()
    assert strong_conflicts({"uscc": {"A1"}}, {"resident_id": {"B2"}}) == ()
    assert strong_conflicts({"uscc": set()}, {"uscc": {"B2"}}) == ()
    assert strong_conflicts({}, {"uscc": {"B2"}}) == ()


def test_an_entity_holding_the_records_code_and_another_conflicts() -> None:
    assert conflicts(_keys({"uscc": "A1"}), {"uscc": {"A1", "B2"}}) == [
        "entity holds a different valid uscc (B2)"
    ]


@given(_SIDE, _SIDE)
def test_groups_conflict_where_the_merge_check_refused(
    ours: dict[str, set[str]], theirs: dict[str, set[str]]
) -> None:
    """The merge check as it was written in ``resolution.corrections`` (kinds held by both
    sides, codes differ, the smallest of each named)."""
    expected = {
        kind: f"different valid {kind} ({sorted(ours[kind])[0]} vs {sorted(theirs[kind])[0]}): "
        "never the same entity"
        for kind in ours.keys() & theirs.keys()
        if ours[kind] and theirs[kind] and ours[kind] != theirs[kind]
    }
    assert {c.kind: c.why for c in strong_conflicts(ours, theirs)} == expected


@given(st.dictionaries(st.sampled_from(STRONG_KINDS), st.sampled_from(["A1", "B2"])), _SIDE)
def test_a_record_conflicts_where_the_exact_rule_refused(
    strong: dict[str, str], entity: dict[str, set[str]]
) -> None:
    """``matching.exact.conflicts`` as it was written before it went through the one rule."""
    expected = []
    for kind, value in strong.items():
        others = entity.get(kind, set()) - {value}
        if others:
            expected.append(f"entity holds a different valid {kind} ({sorted(others)[0]})")
    assert conflicts(_keys(strong), entity) == expected
