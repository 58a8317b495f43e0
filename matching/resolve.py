"""The single entry point of entity resolution: records in, clusters and explained pair
decisions out. The service, the ``credithub resolve`` CLI and the benchmark all call
:func:`resolve` (and :func:`resolve_incremental` for a new batch against earlier results).

Steps: normalise each record once (:func:`matching.records.prepare`), block
(:mod:`matching.blocking`), score each candidate pair (:mod:`matching.model`), cluster the
positive pairs under the hard rules (:mod:`matching.cluster`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .blocking import BlockIndex, BlockingStats
from .cluster import Clusters
from .model import Decision, MatchConfig, MatchExplanation, quick_rule, score_pair
from .records import MatchRecord, Prepared, prepare

__all__ = ["ALGORITHM", "ResolutionResult", "Resolver", "resolve", "resolve_incremental"]

ALGORITHM = "credithub-fs-v1"

Progress = Callable[[str, int], None]


@dataclass
class ResolutionResult:
    """``clusters``: record id → cluster id (the id of the cluster's first record);
    ``confidence``: record id → strongest accepted link (1.0 when alone); ``pairs``: the
    explained decisions at or above the configured floor, positive and unsure ones always
    included; ``state`` lets :func:`resolve_incremental` continue from here."""

    algorithm: str
    clusters: dict[str, str]
    confidence: dict[str, float]
    pairs: list[MatchExplanation]
    stats: BlockingStats
    counts: dict[str, int]
    state: Resolver = field(repr=False)

    def review_queue(self) -> list[MatchExplanation]:
        return [p for p in self.pairs if p.decision is Decision.UNSURE]


class Resolver:
    """Holds the prepared records, the blocking index and the clusters between batches, so a
    batch of k new records costs in proportion to k (plus the output mapping)."""

    def __init__(self, config: MatchConfig | None = None) -> None:
        self.config = config or MatchConfig()
        self.records: list[Prepared] = []
        self.positions: dict[str, int] = {}
        self.index = BlockIndex(self.config.max_block_size, self.config.max_name_block_size)
        self.clusters = Clusters()
        self._pending_forbidden: set[tuple[str, str]] = set()

    def add(
        self,
        records: Iterable[MatchRecord],
        *,
        forbidden: Iterable[tuple[str, str]] = (),
        progress: Progress | None = None,
    ) -> ResolutionResult:
        """Resolve a batch against everything added before.

        ``forbidden``: record-id pairs a reviewer rejected (they may name records of later
        batches). Raises ValueError on a record id seen before.
        """
        config = self.config
        start = len(self.records)
        for count, record in enumerate(records, start=1):
            if record.record_id in self.positions:
                raise ValueError(f"duplicate record id {record.record_id!r}")
            self.positions[record.record_id] = len(self.records)
            self.records.append(prepare(record))
            if progress is not None and count % 10_000 == 0:
                progress("prepare", count)
        new = self.records[start:]
        self.clusters.add(new)
        self.index.add(new)
        rejected = self._forbidden_indices(forbidden)
        self.clusters.forbid(rejected)

        stats = BlockingStats()
        floor_weight = _logit2(config.explain_floor)
        scored: list[tuple[float, int, int]] = []
        explained: list[MatchExplanation] = []
        counts = {"pairs": 0, "positive": 0, "unsure": 0, "negative": 0, "hard_rule": 0}
        records_ = self.records
        new_range = range(start, len(self.records))
        for n, code in enumerate(self.index.pairs_for(new_range, stats), start=1):
            i, j = divmod(code, len(records_))
            left, right = records_[i], records_[j]
            if quick_rule(left, right) is not None:
                # Never a match and never worth an explanation: skip the comparisons.
                counts["negative"] += 1
                counts["hard_rule"] += 1
                continue
            explanation = score_pair(left, right, config, rejected=(i, j) in rejected)
            decision = explanation.decision
            counts[decision.value] += 1
            if explanation.rule is not None:
                counts["hard_rule"] += 1
            if decision is Decision.POSITIVE:
                scored.append((explanation.probability, i, j))
            if decision is not Decision.NEGATIVE or explanation.total_weight >= floor_weight:
                explained.append(explanation)
            if progress is not None and n % 100_000 == 0:
                progress("compare", n)
        counts["pairs"] = stats.pairs
        self.clusters.merge_all(scored)
        counts["blocked_merges"] = self.clusters.blocked
        return self._result(explained, stats, counts)

    def _forbidden_indices(self, forbidden: Iterable[tuple[str, str]]) -> set[tuple[int, int]]:
        self._pending_forbidden.update(forbidden)
        found: set[tuple[int, int]] = set()
        for left, right in list(self._pending_forbidden):
            i, j = self.positions.get(left), self.positions.get(right)
            if i is not None and j is not None:
                found.add((min(i, j), max(i, j)))
                self._pending_forbidden.discard((left, right))
        return found

    def _result(
        self, pairs: list[MatchExplanation], stats: BlockingStats, counts: dict[str, int]
    ) -> ResolutionResult:
        ids = [r.record_id for r in self.records]
        labels = self.clusters.labels(ids)
        clusters = {}
        confidence = {}
        for index, record_id in enumerate(ids):
            clusters[record_id] = labels[self.clusters.find(index)]
            confidence[record_id] = self.clusters.confidence_of(index)
        return ResolutionResult(ALGORITHM, clusters, confidence, pairs, stats, counts, self)


def _logit2(probability: float) -> float:
    probability = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(probability / (1 - probability))


def resolve(
    records: Iterable[MatchRecord],
    config: MatchConfig | None = None,
    *,
    forbidden: Iterable[tuple[str, str]] = (),
    progress: Progress | None = None,
) -> ResolutionResult:
    """Resolve records into entities. ``forbidden``: record-id pairs a reviewer rejected;
    ``progress(stage, count)`` is called now and then. Raises ValueError on duplicate ids."""
    return Resolver(config).add(records, forbidden=forbidden, progress=progress)


def resolve_incremental(
    previous: ResolutionResult,
    new_records: Iterable[MatchRecord],
    *,
    forbidden: Iterable[tuple[str, str]] = (),
    progress: Progress | None = None,
) -> ResolutionResult:
    """Resolve a new batch against an earlier result, comparing only pairs that involve a
    new record. The earlier result's state is taken over (do not extend it twice)."""
    return previous.state.add(new_records, forbidden=forbidden, progress=progress)
