"""The single entry point of entity resolution: records in, clusters and explained pair
decisions out. The service, the ``credithub resolve`` CLI and the benchmark all call
:func:`resolve` (and :func:`resolve_incremental` for a new batch against earlier results).

Steps: normalise each record once (:func:`matching.records.prepare`), block
(:mod:`matching.blocking`), score each candidate pair (:mod:`matching.model`), cluster the
positive pairs under the hard rules (:mod:`matching.cluster`).
"""

from __future__ import annotations

import gc
import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, overload

from .blocking import BlockIndex, BlockingStats
from .cluster import Clusters
from .model import (
    Decision,
    MatchConfig,
    MatchExplanation,
    ambiguous,
    score_pair,
)
from .pair_levels import PairLevels, pair_totals
from .parallel import compare_codes, prepare_all
from .records import MatchRecord, Prepared
from .review_queue import ReviewQueue, open_questions

if TYPE_CHECKING:
    from .match_model import MatchModel
    from .training import TrainingOptions

__all__ = [
    "ALGORITHM",
    "PairDecisions",
    "ResolutionResult",
    "Resolver",
    "resolve",
    "resolve_incremental",
]

ALGORITHM = "credithub-fs-v1"

Progress = Callable[[str, int], None]


class PairDecisions(Sequence[MatchExplanation]):
    """The explained pair decisions of a run, kept as two record positions and a decision a
    pair (a few bytes instead of a full explanation with seven comparisons: at a million
    records that was gigabytes). Reading a pair scores it again with the same records and
    config, which gives exactly the explanation the run decided on."""

    DECISIONS = (Decision.POSITIVE, Decision.UNSURE, Decision.NEGATIVE)
    _REJECTED = 4  # flag bit: a reviewer rejected the pair
    _AMBIGUOUS = 8  # flag bit: positive, but one record is ambiguous (sent to review)

    def __init__(self, records: Sequence[Prepared], config: MatchConfig) -> None:
        self._records = records
        self._config = config
        self._left = array("q")
        self._right = array("q")
        # Decision index in DECISIONS, plus the _REJECTED and _AMBIGUOUS bits.
        self._flags = bytearray()

    def add(self, i: int, j: int, decision: Decision, *, rejected: bool = False) -> None:
        self._left.append(i)
        self._right.append(j)
        self._flags.append(self.DECISIONS.index(decision) | (self._REJECTED if rejected else 0))

    def to_review(self, records: set[int]) -> int:
        """Positive pairs of ``records`` (ambiguous ones, which clustering left out) become
        unsure, with the rule ``ambiguous_candidates``; returns how many."""
        positive, unsure = 0, self.DECISIONS.index(Decision.UNSURE)
        moved = 0
        for k, flag in enumerate(self._flags):
            if flag & 3 == positive and (self._left[k] in records or self._right[k] in records):
                self._flags[k] = (flag & self._REJECTED) | unsure | self._AMBIGUOUS
                moved += 1
        return moved

    def __len__(self) -> int:
        return len(self._flags)

    @overload
    def __getitem__(self, index: int) -> MatchExplanation: ...

    @overload
    def __getitem__(self, index: slice) -> list[MatchExplanation]: ...

    def __getitem__(self, index: int | slice) -> MatchExplanation | list[MatchExplanation]:
        if isinstance(index, slice):
            return [self._explain(k) for k in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("pair index out of range")
        return self._explain(index)

    def _explain(self, k: int) -> MatchExplanation:
        records = self._records
        explanation = score_pair(
            records[self._left[k]],
            records[self._right[k]],
            self._config,
            rejected=bool(self._flags[k] & self._REJECTED),
        )
        if self._flags[k] & self._AMBIGUOUS:
            return ambiguous(explanation)
        return explanation

    def decision(self, k: int) -> Decision:
        """The decision of pair ``k`` without re-scoring it."""
        return self.DECISIONS[self._flags[k] & 3]

    def positions(self, decision: Decision) -> Iterator[tuple[int, int, int]]:
        """``(k, i, j)`` of the pairs decided ``decision``: pair number, record positions."""
        wanted = self.DECISIONS.index(decision)
        for k, flag in enumerate(self._flags):
            if flag & 3 == wanted:
                yield k, self._left[k], self._right[k]

    def with_decision(self, decision: Decision) -> list[MatchExplanation]:
        """The explanations of the pairs decided ``decision``, in order."""
        wanted = self.DECISIONS.index(decision)
        return [self._explain(k) for k, f in enumerate(self._flags) if f & 3 == wanted]


@dataclass
class ResolutionResult:
    """``clusters``: record id → cluster id (the id of the cluster's first record);
    ``confidence``: record id → strongest accepted link (1.0 when alone); ``pairs``: the
    explained decisions at or above the configured floor, positive and unsure ones always
    included; ``state`` lets :func:`resolve_incremental` continue from here."""

    algorithm: str
    clusters: dict[str, str]
    confidence: dict[str, float]
    pairs: PairDecisions
    stats: BlockingStats
    counts: dict[str, int]
    state: Resolver = field(repr=False)
    _queue: ReviewQueue | None = field(default=None, init=False, repr=False, compare=False)

    def review_queue(self) -> ReviewQueue:
        """The questions for a regulator (:mod:`matching.review_queue`): one item per pair of
        clusters with an unsure pair between them, not the raw unsure pairs. Computed once."""
        if self._queue is None:
            records, clusters = self.state.records, self.clusters
            self._queue = open_questions(
                self.pairs.positions(Decision.UNSURE),
                cluster_of=lambda i: clusters[records[i].record_id],
                label_of=lambda i: clusters[records[i].record_id],
                kept_apart=self.state.clusters.why_not,
                explain=self.pairs.__getitem__,
            )
        return self._queue


class Resolver:
    """Holds the prepared records, the blocking index and the clusters between batches, so a
    batch of k new records costs in proportion to k (plus the output mapping)."""

    def __init__(
        self,
        config: MatchConfig | None = None,
        *,
        training: TrainingOptions | None = None,
        workers: int = 1,
    ) -> None:
        """``training``: learn the weights from the first batch's own comparisons
        (:func:`matching.training.train_on_levels`, starting from ``config``'s) and score
        every batch with them; the model is then :attr:`model`. ``workers``: processes that
        prepare and compare (:mod:`matching.parallel`: forked, so only for a process that
        runs no other threads); the result is the same for any number."""
        self.config = config or MatchConfig()
        self.training = training
        self.workers = workers
        self.model: MatchModel | None = None
        self.records: list[Prepared] = []
        self.positions: dict[str, int] = {}
        self.index = BlockIndex(self.config.max_block_size, self.config.max_name_block_size)
        self.clusters = Clusters()
        self._pending_forbidden: set[tuple[str, str]] = set()

    def add(
        self,
        records: Iterable[MatchRecord | Prepared],
        *,
        forbidden: Iterable[tuple[str, str]] = (),
        progress: Progress | None = None,
    ) -> ResolutionResult:
        """Resolve a batch against everything added before.

        ``forbidden``: record-id pairs a reviewer rejected (they may name records of later
        batches). Raises ValueError on a record id seen before.
        """
        with _gc_paused():
            return self._add(records, forbidden, progress)

    def _add(
        self,
        records: Iterable[MatchRecord | Prepared],
        forbidden: Iterable[tuple[str, str]],
        progress: Progress | None,
    ) -> ResolutionResult:
        start = len(self.records)
        batch = records if isinstance(records, Sequence) else list(records)
        # Records prepared already (to train a model on them first) are taken as they are.
        for count, record in enumerate(prepare_all(batch, workers=self.workers), start=1):
            if record.record_id in self.positions:
                raise ValueError(f"duplicate record id {record.record_id!r}")
            self.positions[record.record_id] = len(self.records)
            self.records.append(record)
            if progress is not None and count % 10_000 == 0:
                progress("prepare", count)
        new = self.records[start:]
        self.clusters.add(new)
        self.index.add(new)
        rejected = self._forbidden_indices(forbidden)
        self.clusters.forbid(rejected)

        stats = BlockingStats()
        counts = {"pairs": 0, "positive": 0, "unsure": 0, "negative": 0, "hard_rule": 0}
        pairs = self._compare(range(start, len(self.records)), stats, counts, progress)
        counts["pairs"] = stats.pairs
        if self.training is not None:
            # The comparisons just made train the model that scores them: nothing twice.
            from .training import train_on_levels

            self.model = train_on_levels(self.records, pairs, self.config, self.training)
            self.config = self.model.config(self.config)
            self.training = None  # later batches are scored with the same model
        explained = self._decide(pairs, rejected, counts)
        counts["blocked_merges"] = self.clusters.blocked
        return self._result(explained, stats, counts)

    def _compare(
        self,
        new_range: range,
        stats: BlockingStats,
        counts: dict[str, int],
        progress: Progress | None,
    ) -> PairLevels:
        """The levels of every candidate pair with a new record that the identifier rule
        does not decide at once (those count as negative, with no explanation)."""
        codes = array("q", self.index.pairs_for(new_range, stats))
        pairs, ruled = compare_codes(self.records, codes, workers=self.workers, progress=progress)
        counts["negative"] += ruled
        counts["hard_rule"] += ruled
        return pairs

    def _decide(
        self, pairs: PairLevels, rejected: set[tuple[int, int]], counts: dict[str, int]
    ) -> PairDecisions:
        """Score every compared pair at once, decide, keep the explainable ones and merge
        the positive ones into clusters."""
        import numpy as np

        config = self.config
        totals = pair_totals(pairs, self.records, config)
        probabilities = 1.0 / (1.0 + np.exp2(-np.clip(totals, -60.0, 60.0)))
        probabilities[totals < -60] = 0.0
        probabilities[totals > 60] = 1.0
        ruled = pairs.rules() != 0
        refused = np.zeros(len(pairs), dtype=bool)
        if rejected:
            refused = np.fromiter(
                ((i, j) in rejected for i, j in zip(pairs.left, pairs.right, strict=True)),
                dtype=bool,
                count=len(pairs),
            )
        negative = ruled | refused
        probabilities[negative] = 0.0
        positive = probabilities >= config.positive_threshold
        unsure = ~positive & (probabilities >= config.review_threshold)
        counts["hard_rule"] += int(np.count_nonzero(negative))
        counts["positive"] += int(np.count_nonzero(positive))
        counts["unsure"] += int(np.count_nonzero(unsure))
        counts["negative"] += len(pairs) - int(np.count_nonzero(positive | unsure))
        explained = PairDecisions(self.records, config)
        keep = positive | unsure | (totals >= _logit2(config.explain_floor))
        lefts = np.frombuffer(pairs.left, dtype=np.int64)
        rights = np.frombuffer(pairs.right, dtype=np.int64)
        for k in np.flatnonzero(keep).tolist():
            decision = (
                Decision.POSITIVE
                if positive[k]
                else Decision.UNSURE
                if unsure[k]
                else Decision.NEGATIVE
            )
            explained.add(int(lefts[k]), int(rights[k]), decision, rejected=bool(refused[k]))
        # Positive pairs as three flat arrays (probability, i, j), not a list of tuples: at a
        # million records they are a million pairs.
        ambiguous = self.clusters.merge_arrays(
            array("d", probabilities[positive].tolist()),
            array("q", lefts[positive].tolist()),
            array("q", rights[positive].tolist()),
        )
        # Records matching parties kept apart by their codes join neither: their positive
        # pairs go to review (matching.cluster.ambiguous_between).
        moved = explained.to_review(ambiguous) if ambiguous else 0
        counts["positive"] -= moved
        counts["unsure"] += moved
        counts["ambiguous_records"] = len(ambiguous)
        return explained

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
        self, pairs: PairDecisions, stats: BlockingStats, counts: dict[str, int]
    ) -> ResolutionResult:
        ids = [r.record_id for r in self.records]
        groups = self.clusters
        labels = groups.labels(ids)
        clusters = {}
        confidence = {}
        for index, record_id in enumerate(ids):
            label = labels.get(groups.find(index))
            if label is None:  # alone in its cluster
                clusters[record_id] = record_id
                confidence[record_id] = 1.0
            else:
                clusters[record_id] = label
                confidence[record_id] = groups.confidence[index]
        return ResolutionResult(ALGORITHM, clusters, confidence, pairs, stats, counts, self)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a batch runs: it creates millions of objects
    without reference cycles, and the collector's repeated full passes over them cost about a
    fifth of the time at 200,000 records. Reference counting still frees everything freed."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _logit2(probability: float) -> float:
    probability = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(probability / (1 - probability))


def resolve(
    records: Iterable[MatchRecord | Prepared],
    config: MatchConfig | None = None,
    *,
    forbidden: Iterable[tuple[str, str]] = (),
    progress: Progress | None = None,
    training: TrainingOptions | None = None,
    workers: int = 1,
) -> ResolutionResult:
    """Resolve records into entities. ``forbidden``: record-id pairs a reviewer rejected;
    ``progress(stage, count)`` is called now and then; ``training``: learn the weights from
    these records first (the model is ``result.state.model``); ``workers``: processes (see
    :class:`Resolver`). Raises ValueError on duplicate ids."""
    resolver = Resolver(config, training=training, workers=workers)
    return resolver.add(records, forbidden=forbidden, progress=progress)


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
