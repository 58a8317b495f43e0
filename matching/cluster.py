"""Clustering of positive pairs (union-find) that keeps the hard rules at cluster level.

Pairs are merged strongest first. Two clusters are not merged if the result would hold two
different valid USCCs, two different valid resident ids, a branch and a non-branch company
name (or two different branches), or a pair a reviewer rejected. Transitive links therefore
cannot break a rule that every single pair respects.

A record that could join each of two clusters on its own, but whose two clusters different
valid USCCs or resident ids keep apart (a name + birth date matching two persons with
different ids), joins neither: which party it is about is a regulator's decision
(:func:`ambiguous_between`, rule ``ambiguous_candidates``), not a matter of which pair scored a
little higher. :meth:`Clusters.merge_arrays` finds such records and merges without them;
linking at ingest (``resolution/record_matching.py``) applies the same function to the
entities a new record matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .normalise import pinyin
from .records import Prepared

__all__ = ["STRONG_CODE_RULES", "Clusters", "ambiguous_between", "branch_marker", "cluster_rule"]


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


# The cluster-level rules that keep two parties apart by their codes (not by a branch marker).
STRONG_CODE_RULES = frozenset({"different_valid_uscc", "different_valid_resident_id"})


def ambiguous_between(record: CodeSets, candidates: Sequence[CodeSets]) -> tuple[int, int] | None:
    """Two of ``candidates`` (clusters or entities a record has positive pairs with) that the
    record could join each on its own, but that different valid USCCs or resident ids keep
    apart: their positions, or None. A record with a valid code of its own can join at most
    one of two such candidates, so only a record without one is ever ambiguous."""
    joinable = [k for k, c in enumerate(candidates) if cluster_rule(record, c) is None]
    for x, i in enumerate(joinable):
        for j in joinable[x + 1 :]:
            if cluster_rule(candidates[i], candidates[j]) in STRONG_CODE_RULES:
                return i, j
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

    def merge_all(self, scored: Iterable[tuple[float, int, int]]) -> set[int]:
        """Merge pairs ``(probability, i, j)`` strongest first (ties by index); returns the
        ambiguous records left out (see :meth:`merge_arrays`)."""
        pairs = list(scored)
        return self.merge_arrays(
            [p for p, _, _ in pairs], [i for _, i, _ in pairs], [j for _, _, j in pairs]
        )

    def merge_arrays(
        self, probabilities: Sequence[float], lefts: Sequence[int], rights: Sequence[int]
    ) -> set[int]:
        """:meth:`merge_all` over pairs given as three parallel sequences (flat arrays take
        a fraction of the memory of a list of tuples). Returns the records left out as
        ambiguous (:func:`ambiguous_between`): when a merge is refused by a USCC / resident-id
        rule, the records of the refused pair are checked against the clusters of their
        partners; if one is ambiguous, the pairs are merged again from the state before the
        call without any pair of an ambiguous record. Raises ValueError on unequal lengths."""
        if not len(probabilities) == len(lefts) == len(rights):
            raise ValueError("probabilities, lefts and rights differ in length")
        order = sorted(
            range(len(probabilities)), key=lambda k: (-probabilities[k], lefts[k], rights[k])
        )
        before = self._snapshot()
        refused: list[int] = []
        for k in order:
            if not self.merge(lefts[k], rights[k], probabilities[k]):
                refused.append(k)
        suspects = {
            r
            for k in refused
            if self.why_not(lefts[k], rights[k]) in STRONG_CODE_RULES
            for r in (lefts[k], rights[k])
        }
        ambiguous = self._ambiguous(suspects, lefts, rights) if suspects else set()
        if ambiguous:
            self._restore(before)
            for k in order:
                if lefts[k] not in ambiguous and rights[k] not in ambiguous:
                    self.merge(lefts[k], rights[k], probabilities[k])
        return ambiguous

    def _codes(self, root: int) -> CodeSets:
        cluster = self._cluster(root)
        return cluster.usccs, cluster.residents, cluster.branches

    def _ambiguous(
        self, suspects: set[int], lefts: Sequence[int], rights: Sequence[int]
    ) -> set[int]:
        """Of ``suspects``, the records whose own cluster and the clusters of their positive
        partners hold two that the record could join but that valid codes keep apart."""
        partners: dict[int, set[int]] = {r: {self.find(r)} for r in suspects}
        for i, j in zip(lefts, rights, strict=True):
            if i in partners:
                partners[i].add(self.find(j))
            if j in partners:
                partners[j].add(self.find(i))
        found = set()
        for record, roots in partners.items():
            branch = self._branch[record]
            own = (
                self._usccs[record],
                self._residents[record],
                _NONE if branch is None else frozenset((branch,)),
            )
            if ambiguous_between(own, [self._codes(root) for root in sorted(roots)]) is not None:
                found.add(record)
        return found

    def _snapshot(self) -> tuple[list[int], dict[int, _Cluster], list[float], int]:
        """What :meth:`merge` changes, copied (the clusters' member lists too: merging extends
        them in place). Cheap for a first batch: no cluster is kept before its first merge."""
        info = {
            root: _Cluster(list(c.members), c.usccs, c.residents, c.branches)
            for root, c in self.info.items()
        }
        return list(self.parent), info, list(self.confidence), self.blocked

    def _restore(self, state: tuple[list[int], dict[int, _Cluster], list[float], int]) -> None:
        self.parent, self.info, self.confidence, self.blocked = state

    def labels(self, record_ids: list[str]) -> Mapping[int, str]:
        """Root index → cluster id (the record id of the cluster's first record), for the
        clusters of more than one record; a single record's cluster id is its own id."""
        return {root: record_ids[min(c.members)] for root, c in self.info.items()}
