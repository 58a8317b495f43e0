"""The review queue of ``resolve``: the questions a regulator must decide (one per pair of
clusters with an unsure pair between them), not the raw unsure record pairs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from stdnum.cn import ric

from matching.model import Decision
from matching.records import MatchRecord
from matching.resolve import resolve
from matching.review_queue import open_questions
from tests.matching.test_resolve import generated_records, pairwise_scores

# A very common name with a birth date scores 0 (p 0.5: unsure) with the hand-set weights; the
# same home address or phone on top links.
COMMON = {"kind": "natural_person", "name": "王伟", "birth_date": "1980-01-02"}
HOME = "北京市朝阳区建国路1号"
PHONE = "13912345678"


def person(record_id: str, **overrides: Any) -> MatchRecord:
    return MatchRecord(record_id=record_id, **{**COMMON, **overrides})


def resident_id(sequence: str) -> str:
    body = f"110105{COMMON['birth_date'].replace('-', '')}{sequence}"  # type: ignore[union-attr]
    return body + ric.calc_check_digit(body + "0")


def linked_three(**x_fields: Any) -> list[MatchRecord]:
    """a–b (address) and b–c (phone) link, a–c is unsure; x is unsure with each of them."""
    return [
        person("a", address=HOME),
        person("b", address=HOME, phone=PHONE),
        person("c", phone=PHONE),
        person("x", **x_fields),
    ]


def test_unsure_pairs_between_two_entities_are_one_question_and_inside_one_none() -> None:
    result = resolve(linked_three())
    assert result.clusters == {"a": "a", "b": "a", "c": "a", "x": "x"}
    raw = {(p.left, p.right) for p in result.pairs if p.decision is Decision.UNSURE}
    assert raw == {("a", "c"), ("a", "x"), ("b", "x"), ("c", "x")}

    queue = result.review_queue()
    assert len(queue) == 1
    (item,) = queue
    assert (item.left, item.right, item.support) == ("a", "x", 3)
    assert item.pair.decision is Decision.UNSURE
    # The item carries the pair's explanation field by field, as the service shows it.
    fields = {c["field"] for c in item.to_dict()["pair"]["comparisons"]}  # type: ignore[index]
    assert {"name", "birth_date"} <= fields
    assert (queue.unsure_pairs, queue.settled, queue.kept_apart) == (4, 1, 0)
    assert queue.stats() == {
        "review_items": 1,
        "unsure_pairs": 4,
        "unsure_settled_by_other_links": 1,
        "unsure_kept_apart": 0,
    }


def test_the_strongest_pair_speaks_for_the_question() -> None:
    """open_questions on its own: pairs 0-3 between clusters A and B (of differing strength),
    pair 4 inside A, pair 5 between A and C, which a rule keeps apart."""
    base = resolve(linked_three()).review_queue()[0].pair
    strength = {0: 0.55, 1: 0.8, 2: 0.6, 3: 0.8, 5: 0.7}
    cluster = {10: "A", 11: "A", 12: "A", 20: "B", 21: "B", 30: "C"}
    unsure = [(0, 10, 20), (1, 21, 11), (2, 12, 21), (3, 10, 21), (4, 10, 11), (5, 12, 30)]
    explained: list[int] = []

    def explain(k: int) -> Any:
        explained.append(k)
        return dataclasses.replace(base, left=f"r{k}", probability=strength[k])

    queue = open_questions(
        unsure,
        cluster_of=cluster.__getitem__,
        label_of=lambda i: cluster[i].lower(),
        kept_apart=lambda i, j: "different_valid_uscc" if 30 in (i, j) else None,
        explain=explain,
    )
    (item,) = queue
    # The first of the two strongest pairs, oriented as that pair is.
    assert (item.pair.left, item.pair.probability, item.support) == ("r1", 0.8, 4)
    assert (item.left, item.right) == ("b", "a")
    assert (queue.unsure_pairs, queue.settled, queue.kept_apart) == (6, 1, 1)
    # Only the pairs between two open clusters are scored again.
    assert sorted(explained) == [0, 1, 2, 3]


def test_entities_kept_apart_by_their_ids_are_no_question() -> None:
    # b holds one valid resident id, x another: no regulator may merge the two entities.
    records = linked_three(codes=(resident_id("051"),))
    records[1] = person("b", address=HOME, phone=PHONE, codes=(resident_id("031"),))
    result = resolve(records)
    assert result.clusters["x"] == "x" and result.clusters["a"] == result.clusters["b"]
    queue = result.review_queue()
    assert len(queue) == 0
    assert queue.settled == 1 and queue.kept_apart == queue.unsure_pairs - 1 >= 1


def test_entities_a_reviewer_kept_apart_are_no_question() -> None:
    result = resolve(linked_three(), forbidden=[("a", "x")])
    assert result.clusters["x"] == "x"
    queue = result.review_queue()
    assert len(queue) == 0
    # a–x is the reviewer's "not the same" (negative); b–x and c–x are kept apart by it.
    assert queue.kept_apart == 2 and queue.settled == 1


@pytest.fixture(scope="module")
def generated() -> tuple[list[MatchRecord], dict[str, str]]:
    data = list(generated_records(900, seed=11))
    return [r for r, _ in data], {r.record_id: key for r, key in data}


def test_the_queue_changes_nothing_of_the_clusters(
    generated: tuple[list[MatchRecord], dict[str, str]],
) -> None:
    records, truth = generated
    result = resolve(records)
    clusters, counts = dict(result.clusters), dict(result.counts)
    before = pairwise_scores(result.clusters, truth)
    queue = result.review_queue()
    assert result.clusters == clusters and result.counts == counts
    assert pairwise_scores(result.clusters, truth) == before
    assert result.review_queue() is queue  # computed once
    # One item per pair of distinct clusters, each backed by an unsure pair between them.
    keys = {frozenset((i.left, i.right)) for i in queue}
    assert len(keys) == len(queue)
    for item in queue:
        assert item.left != item.right
        assert result.clusters[item.pair.left] == item.left
        assert result.clusters[item.pair.right] == item.right
        assert item.support >= 1
    assert len(queue) <= counts["unsure"]
