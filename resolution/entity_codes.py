"""What the cluster-level rules (``matching.cluster.cluster_rule``) look at of an entity or a
record while ingest links: its valid USCCs, valid resident ids and branch markers, joined as
records join the entity (:mod:`resolution.record_matching`)."""

from __future__ import annotations

from dataclasses import dataclass

from matching.cluster import CodeSets, branch_marker, cluster_rule
from matching.records import Prepared

__all__ = ["EntityCodes"]


@dataclass(slots=True)
class EntityCodes:
    """Valid USCCs, valid resident ids and branch markers of one side of a link."""

    usccs: frozenset[str] = frozenset()
    residents: frozenset[str] = frozenset()
    branches: frozenset[str] = frozenset()

    @classmethod
    def of(cls, record: Prepared) -> EntityCodes:
        branch = branch_marker(record)
        branches = frozenset() if branch is None else frozenset((branch,))
        return cls(record.usccs, record.resident_ids, branches)

    def sets(self) -> CodeSets:
        return self.usccs, self.residents, self.branches

    def why_not(self, other: EntityCodes) -> str | None:
        """The cluster-level rule that keeps the two sides apart, if any."""
        return cluster_rule(self.sets(), other.sets())

    def join(self, other: EntityCodes) -> EntityCodes:
        return EntityCodes(
            self.usccs | other.usccs,
            self.residents | other.residents,
            self.branches | other.branches,
        )
