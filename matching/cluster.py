"""Clustering of positive pairs (union-find) that keeps the hard rules at cluster level.

Pairs are merged strongest first. Two clusters are not merged if the result would hold two
different valid USCCs, two different valid resident ids, a branch and a non-branch company
name (or two different branches), or a pair a reviewer rejected. Transitive links therefore
cannot break a rule that every single pair respects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .normalise import pinyin
from .records import Prepared

__all__ = ["Clusters", "branch_marker", "cluster_rule"]


@dataclass(slots=True)
class _Cluster:
    members: list[int]
    usccs: frozenset[str]
    residents: frozenset[str]
    branches: frozenset[str]  # "" for a head office, place+marker for a branch


_NONE: frozenset[str] = frozenset()


def _widens(x: frozenset[str], y: frozenset[str]) -> bool:
    """Merging adds a value neither side had to each side: two different codes together."""
    return bool(x) and bool(y) and len(x | y) > max(len(x), len(y))


# One side of a merge as the cluster-level rules see it: valid USCCs, valid resident ids,
# branch markers ("" for a head office, place+marker for a branch).
CodeSets = tuple[frozenset[str], frozenset[str], frozenset[str]]


def cluster_rule(a: CodeSets, b: CodeSets) -> str | None:
    """The cluster-level rule merging ``a`` and ``b`` would break (reviewer decisions are the
    caller's): used by :class:`Clusters` and by linking at ingest
    (``resolution/record_matching.py``), so both keep the same rules."""
    if _widens(a[0], b[0]):
        return "different_valid_uscc"
    if _widens(a[1], b[1]):
        return "different_valid_resident_id"
    if _widens(a[2], b[2]):
        return "branch_not_parent"
    return None


def branch_marker(record: Prepared) -> str | None:
    """None for a record without a company name; "" for a head office; place + marker for a
    branch."""
    company = record.company
    if record.is_person or not company.core:
        return None
    # The place by its sound, as compare_name checks it (西安 typed 西按).
    return pinyin(company.branch_place) + company.branch


@dataclass
class Clusters:
    """Union-find over record indices (ints in flat lists), growing as records are added.

    A record alone in its cluster costs three list slots; the members and the codes of a
    cluster (:class:`_Cluster`) are only kept from its first merge on (at a million records
    most clusters stay single)."""

    parent: list[int] = field(default_factory=list)
    info: dict[int, _Cluster] = field(default_factory=dict)
    confidence: list[float] = field(default_factory=list)
    forbidden: dict[int, set[int]] = field(default_factory=dict)
    blocked: int = 0  # merges refused by a cluster-level rule
    # Per record: its valid USCCs and resident ids, and its branch marker (None: no company
    # name; "" for a head office, place+marker for a branch).
    _usccs: list[frozenset[str]] = field(default_factory=list)
    _residents: list[frozenset[str]] = field(default_factory=list)
    _branch: list[str | None] = field(default_factory=list)

    def add(self, records: Iterable[Prepared]) -> None:
        for record in records:
            self.parent.append(len(self.parent))
            self.confidence.append(0.0)
            self._usccs.append(record.usccs)
            self._residents.append(record.resident_ids)
            self._branch.append(branch_marker(record))

    def _cluster(self, root: int) -> _Cluster:
        """The cluster whose root is ``root`` (built on the fly for a single record)."""
        cluster = self.info.get(root)
        if cluster is None:
            branch = self._branch[root]
            branches = _NONE if branch is None else frozenset((branch,))
            cluster = _Cluster([root], self._usccs[root], self._residents[root], branches)
        return cluster

    def size(self, index: int) -> int:
        """Number of records in the cluster of ``index``."""
        cluster = self.info.get(self.find(index))
        return 1 if cluster is None else len(cluster.members)

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
        a, b = self._cluster(ri), self._cluster(rj)
        rule = cluster_rule((a.usccs, a.residents, a.branches), (b.usccs, b.residents, b.branches))
        if rule is not None:
            return rule
        if self.forbidden:
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
        a, b = self._cluster(ri), self._cluster(rj)
        if len(a.members) < len(b.members):
            ri, rj, a, b = rj, ri, b, a
        self.parent[rj] = ri
        a.members.extend(b.members)
        a.usccs |= b.usccs
        a.residents |= b.residents
        a.branches |= b.branches
        self.info[ri] = a
        self.info.pop(rj, None)
        # A record's confidence is its strongest accepted link (0.0 until it has one).
        for k in (i, j):
            self.confidence[k] = max(self.confidence[k], probability)
        return True

    def confidence_of(self, index: int) -> float:
        """Strongest accepted link of the record; 1.0 for a record alone in its cluster."""
        if self.size(index) == 1:
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
        """Root index → cluster id (the record id of the cluster's first record), for the
        clusters of more than one record; a single record's cluster id is its own id."""
        return {root: record_ids[min(c.members)] for root, c in self.info.items()}
