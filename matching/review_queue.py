"""The review queue of a resolution run: the questions a regulator must decide, not the raw
unsure record pairs.

A question is "are these two entities the same?". So the queue holds one item per pair of
distinct final clusters with at least one unsure (or ambiguous, rule ``ambiguous_candidates``)
record pair between them, carrying the strongest of those pairs with its field-by-field
explanation and how many record pairs support it. What is no question:

- an unsure pair whose two records ended up in one cluster through positive links: *settled
  by other links*;
- an unsure pair between two clusters that a cluster-level hard rule (two different valid
  USCCs or resident ids, branch and parent) or a reviewer's "not the same" keeps apart: *kept
  apart*. Nobody could merge them: ``resolve`` would refuse the merge even for a positive
  pair, and the service refuses a regulator's merge across different valid codes or an earlier
  "not the same" (``resolution.corrections.merge_entities``).

The service keeps the same rule for its pending reviews: one pending review per pair of
entities (survivors of merges), closed when the two become one (``resolution.review_queue``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

from .model import MatchExplanation

__all__ = ["ReviewItem", "ReviewQueue", "open_questions"]


@dataclass(frozen=True)
class ReviewItem:
    """One question: are the entities (cluster ids) ``left`` and ``right`` the same?
    ``pair``: the strongest record pair between them, explained field by field;
    ``support``: how many unsure record pairs lie between the two clusters (1 or more)."""

    left: str
    right: str
    pair: MatchExplanation
    support: int

    def to_dict(self) -> dict[str, object]:
        return {
            "left_entity": self.left,
            "right_entity": self.right,
            "support": self.support,
            "pair": self.pair.to_dict(),
        }


@dataclass
class ReviewQueue(Sequence[ReviewItem]):
    """The open questions of a run, strongest pair first, and what became of the raw unsure
    pairs: ``unsure_pairs`` in all, ``settled`` (both records in one cluster), ``kept_apart``
    (their clusters kept apart by a rule or a reviewer); the rest support ``items``."""

    items: list[ReviewItem] = field(default_factory=list)
    unsure_pairs: int = 0
    settled: int = 0
    kept_apart: int = 0

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> ReviewItem: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReviewItem]: ...

    def __getitem__(self, index: int | slice) -> ReviewItem | list[ReviewItem]:
        return self.items[index]

    def __iter__(self) -> Iterator[ReviewItem]:
        return iter(self.items)

    def stats(self) -> dict[str, int]:
        return {
            "review_items": len(self.items),
            "unsure_pairs": self.unsure_pairs,
            "unsure_settled_by_other_links": self.settled,
            "unsure_kept_apart": self.kept_apart,
        }


def open_questions(
    unsure: Iterable[tuple[int, int, int]],
    *,
    cluster_of: Callable[[int], Hashable],
    label_of: Callable[[int], str],
    kept_apart: Callable[[int, int], str | None],
    explain: Callable[[int], MatchExplanation],
) -> ReviewQueue:
    """The review queue of the unsure record pairs ``unsure`` (``(k, i, j)``: pair number,
    record positions). ``cluster_of(i)``: the final cluster of record ``i``; ``label_of(i)``:
    its cluster id as the run reports it; ``kept_apart(i, j)``: the rule keeping the clusters
    of ``i`` and ``j`` apart, or None; ``explain(k)``: pair ``k`` explained (scored again,
    which is why only the pairs between two clusters are explained)."""
    queue = ReviewQueue()
    found: dict[tuple[Hashable, Hashable], _Held] = {}
    # The rules are checked once per pair of clusters: they look at clusters, not records.
    apart: dict[tuple[Hashable, Hashable], bool] = {}
    for k, i, j in unsure:
        queue.unsure_pairs += 1
        a, b = cluster_of(i), cluster_of(j)
        if a == b:
            queue.settled += 1
            continue
        key = (a, b) if _order(a) <= _order(b) else (b, a)
        blocked = apart.get(key)
        if blocked is None:
            blocked = apart[key] = kept_apart(i, j) is not None
        if blocked:
            queue.kept_apart += 1
            continue
        explanation = explain(k)
        held = found.get(key)
        if held is None:
            found[key] = _Held(explanation, i, j)
            continue
        held.support += 1
        # Ties keep the earlier pair: the queue does not depend on anything but the pairs.
        if explanation.probability > held.pair.probability:
            held.pair, held.i, held.j = explanation, i, j
    queue.items = [
        ReviewItem(label_of(h.i), label_of(h.j), h.pair, h.support) for h in found.values()
    ]
    queue.items.sort(key=lambda item: (-item.pair.probability, item.left, item.right))
    return queue


@dataclass
class _Held:
    """The strongest pair found so far between two clusters, and how many there are."""

    pair: MatchExplanation
    i: int
    j: int
    support: int = 1


def _order(cluster: Hashable) -> tuple[str, str]:
    """A total order over cluster keys of any hashable type (ints, strings)."""
    return (type(cluster).__name__, repr(cluster))
