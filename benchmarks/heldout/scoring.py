"""Pairwise scores from the cluster x entity contingency table, in O(n): a pair of records is
predicted when both sit in one predicted cluster, true when both come from one entity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stdnum.cn import ric, uscc

from benchmarks.heldout.identifiers import ric_from_15


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass(frozen=True)
class PairScores:
    true_positives: int
    predicted_pairs: int
    true_pairs: int

    @property
    def precision(self) -> float:
        # No predicted pair means nothing was wrongly merged.
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pairwise(predicted: Mapping[str, str], truth: Mapping[str, str]) -> PairScores:
    """Score record -> cluster against record -> entity. Records missing from `predicted`
    count as singletons (a matcher that drops a record links it to nothing)."""
    cells: Counter[tuple[str, str]] = Counter()
    clusters: Counter[str] = Counter()
    entities: Counter[str] = Counter()
    for record_id, entity in truth.items():
        cluster = predicted.get(record_id, f"\0singleton:{record_id}")
        cells[(cluster, entity)] += 1
        clusters[cluster] += 1
        entities[entity] += 1
    return PairScores(
        true_positives=sum(_pairs(n) for n in cells.values()),
        predicted_pairs=sum(_pairs(n) for n in clusters.values()),
        true_pairs=sum(_pairs(n) for n in entities.values()),
    )


def strong_identifier(code: str, id_number: str) -> str | None:
    """The record's valid USCC or valid resident id (15-digit numbers upgraded), else None."""
    code, id_number = code.strip().upper(), id_number.strip().upper()
    if len(code) == 18 and uscc.is_valid(code):
        return "uscc:" + code
    if len(id_number) == 15 and id_number.isdigit():
        id_number = ric_from_15(id_number)
    if len(id_number) == 18 and ric.is_valid(id_number):
        return "ric:" + id_number
    return None


def conflicting_clusters(
    predicted: Mapping[str, str], identifiers: Iterable[tuple[str, str | None]]
) -> int:
    """How many predicted clusters hold two different valid USCCs or two different valid
    resident ids: by construction each is a wrong merge."""
    seen: dict[str, set[str]] = {}
    for record_id, strong in identifiers:
        if strong is not None and record_id in predicted:
            seen.setdefault(predicted[record_id], set()).add(strong)
    return sum(
        1
        for values in seen.values()
        if sum(v.startswith("uscc:") for v in values) > 1
        or sum(v.startswith("ric:") for v in values) > 1
    )
