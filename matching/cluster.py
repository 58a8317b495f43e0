"""Clustering of positive pairs (union-find) that keeps the hard rules at cluster level.

Pairs are merged strongest first. Two clusters are not merged if the result would hold two
different valid USCCs, two different valid resident ids, a branch and a non-branch company
name (or two different branches), or a pair a reviewer rejected. Transitive links therefore
cannot break a rule that every single pair respects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .records import Prepared

__all__ = ["Clusters"]


@dataclass
class _Cluster:
    members: list[int]
    usccs: frozenset[str]
    residents: frozenset[str]
    branches: frozenset[str]  # "" for a head office, place+marker for a branch


def _widens(x: frozenset[str], y: frozenset[str]) -> bool:
    """Merging adds a value neither side had to each side: two different codes together."""
    return bool(x) and bool(y) and len(x | y) > max(len(x), len(y))


@dataclass
class Clusters:
    """Union-find over record indices, growing as records are added."""

    parent: list[int] = field(default_factory=list)
    info: dict[int, _Cluster] = field(default_factory=dict)
    confidence: list[float] = field(default_factory=list)
    forbidden: dict[int, set[int]] = field(default_factory=dict)
    blocked: int = 0  # merges refused by a cluster-level rule

    def add(self, records: Iterable[Prepared]) -> None:
        for record in records:
            index = len(self.parent)
            self.parent.append(index)
            self.confidence.append(0.0)
            company = record.company
            branches: frozenset[str] = frozenset()
            if not record.is_person and company.core:
                branches = frozenset({company.branch_place + company.branch})
            self.info[index] = _Cluster([index], record.usccs, record.resident_ids, branches)

    def forbid(self, pairs: Iterable[tuple[int, int]]) -> None:
        for i, j in pairs:
            self.forbidden.setdefault(i, set()).add(j)
            self.forbidden.setdefault(j, set()).add(i)

    def find(self, index: int) -> int:
        parent = self.parent
        root = index
        while parent[root] != root:
            root = parent[root]
        while parent[index] != root:
            parent[index], index = root, parent[index]
        return root

    def why_not(self, i: int, j: int) -> str | None:
        """The cluster-level rule merging the clusters of ``i`` and ``j`` would break."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return None
        a, b = self.info[ri], self.info[rj]
        if _widens(a.usccs, b.usccs):
            return "different_valid_uscc"
        if _widens(a.residents, b.residents):
            return "different_valid_resident_id"
        if _widens(a.branches, b.branches):
            return "branch_not_parent"
        small, other = (a, rj) if len(a.members) <= len(b.members) else (b, ri)
        for member in small.members:
            for partner in self.forbidden.get(member, ()):
                if self.find(partner) == other:
                    return "reviewer_rejected"
        return None

    def merge(self, i: int, j: int, probability: float) -> bool:
        """Merge unless a rule forbids it; True if the two are now in one cluster."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        if self.why_not(i, j) is not None:
            self.blocked += 1
            return False
        a, b = self.info[ri], self.info[rj]
        if len(a.members) < len(b.members):
            ri, rj, a, b = rj, ri, b, a
        self.parent[rj] = ri
        a.members.extend(b.members)
        a.usccs |= b.usccs
        a.residents |= b.residents
        a.branches |= b.branches
        del self.info[rj]
        # A record's confidence is its strongest accepted link (0.0 until it has one).
        for k in (i, j):
            self.confidence[k] = max(self.confidence[k], probability)
        return True

    def confidence_of(self, index: int) -> float:
        """Strongest accepted link of the record; 1.0 for a record alone in its cluster."""
        if len(self.info[self.find(index)].members) == 1:
            return 1.0
        return self.confidence[index]

    def merge_all(self, scored: Iterable[tuple[float, int, int]]) -> None:
        """Merge pairs ``(probability, i, j)`` strongest first (ties by index)."""
        for probability, i, j in sorted(scored, key=lambda t: (-t[0], t[1], t[2])):
            self.merge(i, j, probability)

    def merge_arrays(
        self, probabilities: Sequence[float], lefts: Sequence[int], rights: Sequence[int]
    ) -> None:
        """:meth:`merge_all` over pairs given as three parallel sequences (flat arrays take
        a fraction of the memory of a list of tuples). Raises ValueError on unequal lengths."""
        if not len(probabilities) == len(lefts) == len(rights):
            raise ValueError("probabilities, lefts and rights differ in length")
        order = sorted(
            range(len(probabilities)), key=lambda k: (-probabilities[k], lefts[k], rights[k])
        )
        for k in order:
            self.merge(lefts[k], rights[k], probabilities[k])

    def labels(self, record_ids: list[str]) -> Mapping[int, str]:
        """Root index → cluster id: the record id of the cluster's first record."""
        return {root: record_ids[min(c.members)] for root, c in self.info.items()}
