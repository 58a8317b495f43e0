"""Clustering keeps the hard rules for whole clusters, not just for pairs."""

from __future__ import annotations

from typing import Any

import pytest

from matching.cluster import Clusters
from matching.records import MatchRecord, Prepared, prepare


def make_prepared(**overrides: Any) -> Prepared:
    fields: dict[str, Any] = {"record_id": "r", "name": "北京星河科技有限公司"}
    fields.update(overrides)
    return prepare(MatchRecord(**fields))


def _clusters(records: list[Prepared]) -> Clusters:
    clusters = Clusters()
    clusters.add(records)
    return clusters


def test_a_bridge_record_cannot_join_two_valid_usccs() -> None:
    """A code-less record matching two companies with different valid USCCs joins neither
    (a regulator decides), whichever pair scored higher."""
    clusters = _clusters(
        [
            make_prepared(codes=("91110108551385082Q",)),
            make_prepared(),  # no code: would bridge the two
            make_prepared(codes=("91110000600037341L",)),
        ]
    )
    assert clusters.merge_all([(0.99, 0, 1), (0.95, 1, 2)]) == {1}
    assert len({clusters.find(0), clusters.find(1), clusters.find(2)}) == 3
    assert clusters.blocked == 0
    assert clusters.confidence_of(0) == clusters.confidence_of(1) == 1.0


def test_an_ambiguous_record_leaves_the_other_merges_of_the_batch_alone() -> None:
    """Only the ambiguous record's pairs are left out: the two parties keep their own
    code-less records."""
    uscc_a, uscc_b = "91110108551385082Q", "91110000600037341L"
    clusters = _clusters(
        [
            make_prepared(codes=(uscc_a,)),
            make_prepared(),  # the ambiguous one
            make_prepared(codes=(uscc_b,)),
            make_prepared(),  # a's own code-less record
            make_prepared(),  # b's own code-less record
        ]
    )
    pairs = [(0.99, 0, 1), (0.95, 1, 2), (0.97, 0, 3), (0.96, 2, 4)]
    assert clusters.merge_all(pairs) == {1}
    assert clusters.find(0) == clusters.find(3)
    assert clusters.find(2) == clusters.find(4)
    assert clusters.size(1) == 1


def test_a_record_with_its_own_code_is_never_ambiguous() -> None:
    """A record carrying one of the two USCCs belongs with it: it joins that party, and the
    other party's code-less record that matched it stays with its own."""
    uscc_a, uscc_b = "91110108551385082Q", "91110000600037341L"
    clusters = _clusters(
        [
            make_prepared(codes=(uscc_a,)),
            make_prepared(codes=(uscc_a,)),
            make_prepared(codes=(uscc_b,)),
            make_prepared(),  # b's code-less record, which also matches record 1
        ]
    )
    assert clusters.merge_all([(0.99, 0, 1), (0.98, 2, 3), (0.95, 1, 3)]) == {3}
    assert clusters.find(0) == clusters.find(1)
    assert clusters.size(2) == clusters.size(3) == 1


def test_ambiguity_is_only_about_codes_not_branches() -> None:
    """A record matching a head office and its branch joins the stronger link, as before:
    a branch marker is a rule of the pair, not two parties kept apart by their codes."""
    clusters = _clusters(
        [
            make_prepared(name="北京星河科技有限公司"),
            make_prepared(name="", codes=("X-1",)),  # no company name: no branch marker
            make_prepared(name="北京星河科技有限公司上海分公司"),
        ]
    )
    assert clusters.merge_all([(0.95, 0, 1), (0.99, 1, 2)]) == set()
    assert clusters.find(1) == clusters.find(2)
    assert clusters.find(0) != clusters.find(1)


def test_branch_and_parent_stay_apart_through_a_bridge() -> None:
    clusters = _clusters(
        [
            make_prepared(name="北京星河科技有限公司"),
            make_prepared(name="星河科技（北京）有限公司"),
            make_prepared(name="北京星河科技有限公司上海分公司"),
        ]
    )
    clusters.merge_all([(0.9, 0, 1), (0.9, 1, 2)])
    assert clusters.why_not(0, 2) == "branch_not_parent"
    assert clusters.find(2) != clusters.find(0)


def test_rejected_pair_blocks_the_merge_of_their_clusters() -> None:
    clusters = _clusters([make_prepared() for _ in range(4)])
    clusters.forbid([(0, 3)])
    clusters.merge_all([(0.99, 0, 1), (0.98, 2, 3), (0.97, 1, 2)])
    assert clusters.find(0) == clusters.find(1)
    assert clusters.find(2) == clusters.find(3)
    assert clusters.find(1) != clusters.find(2)


def test_strongest_pairs_are_merged_first() -> None:
    clusters = _clusters(
        [
            make_prepared(name="北京星河科技有限公司"),
            make_prepared(name="", codes=("X-1",)),
            make_prepared(name="北京星河科技有限公司上海分公司"),
        ]
    )
    clusters.merge_all([(0.91, 0, 1), (0.99, 1, 2)])
    assert clusters.find(1) == clusters.find(2)
    assert clusters.find(0) != clusters.find(1)
    assert clusters.labels(["a", "b", "c"])[clusters.find(2)] == "b"


def test_merging_from_flat_arrays_gives_the_same_clusters_as_from_tuples() -> None:
    records = [
        make_prepared(codes=("91110108551385082Q",)),
        make_prepared(),
        make_prepared(codes=("91110000600037341L",)),
        make_prepared(name="上海云帆物流有限公司"),
        make_prepared(name="上海云帆物流有限公司"),
    ]
    scored = [(0.95, 1, 2), (0.99, 0, 1), (0.97, 3, 4), (0.99, 2, 4)]
    by_tuples = _clusters(records)
    left_out = by_tuples.merge_all(scored)
    by_arrays = _clusters(records)
    assert (
        left_out
        == {1}
        == by_arrays.merge_arrays(
            [p for p, _, _ in scored], [i for _, i, _ in scored], [j for *_, j in scored]
        )
    )
    assert [by_arrays.find(i) for i in range(5)] == [by_tuples.find(i) for i in range(5)]
    assert by_arrays.find(2) == by_arrays.find(3) == by_arrays.find(4)
    assert by_arrays.confidence == by_tuples.confidence


def test_unequal_arrays_are_refused() -> None:
    clusters = _clusters([make_prepared(), make_prepared()])
    with pytest.raises(ValueError, match="length"):
        clusters.merge_arrays([0.9], [0], [])


def test_records_alone_keep_no_cluster_object() -> None:
    clusters = _clusters([make_prepared() for _ in range(4)])
    assert clusters.info == {}
    assert [clusters.size(i) for i in range(4)] == [1, 1, 1, 1]
    assert clusters.merge(0, 1, 0.9)
    assert len(clusters.info) == 1
    assert (clusters.size(1), clusters.size(2)) == (2, 1)
    assert clusters.confidence_of(2) == 1.0
