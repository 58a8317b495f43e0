"""Clustering keeps the hard rules for whole clusters, not just for pairs."""

from __future__ import annotations

from typing import Any

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
    clusters = _clusters(
        [
            make_prepared(codes=("91110108551385082Q",)),
            make_prepared(),  # no code: would bridge the two
            make_prepared(codes=("91110000600037341L",)),
        ]
    )
    clusters.merge_all([(0.99, 0, 1), (0.95, 1, 2)])
    assert clusters.find(0) == clusters.find(1)
    assert clusters.find(2) != clusters.find(0)
    assert clusters.blocked == 1
    assert clusters.confidence_of(2) == 1.0
    assert clusters.confidence_of(0) == 0.99


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
            make_prepared(codes=("91110108551385082Q",)),
            make_prepared(),
            make_prepared(codes=("91110000600037341L",)),
        ]
    )
    clusters.merge_all([(0.91, 0, 1), (0.99, 1, 2)])
    assert clusters.find(1) == clusters.find(2)
    assert clusters.find(0) != clusters.find(1)
    assert clusters.labels(["a", "b", "c"])[clusters.find(2)] == "b"
