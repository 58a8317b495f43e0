"""Fuzzy linking in the service: when no identifier decides, the matcher (``matching.resolve``
model) compares the record with the entities that share a blocking key with it.

Decisions follow the matcher's thresholds: a positive match links the record (with the full
explanation), an unsure one creates a new entity *and* queues the pair for a regulator, a
negative one (or a hard rule: different valid USCCs, branch vs parent, a reviewer's "not the
same") creates a new entity. Blocking keys live in ``entity_block_keys``, so finding candidates
is one indexed look-up per record whatever the number of entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.entities.queries import survivor_of
from app.models import (
    Entity,
    EntityBlockKey,
    EntityKind,
    EntityReview,
    IdentifierType,
    ReviewStatus,
)
from matching.blocking import blocking_keys
from matching.model import Decision, MatchConfig, MatchExplanation, score_pair
from matching.records import MatchRecord, Prepared, prepare

# Keys shared by more entities than this say little (a common trade name): skip them.
MAX_ENTITIES_PER_KEY = 50
MAX_CANDIDATES = 100


@dataclass
class FuzzyOutcome:
    entity: Entity
    explanation: MatchExplanation


def record_for_matching(record: dict[str, Any], *, kind: str, record_id: str) -> MatchRecord:
    codes = tuple(
        str(record[f])
        for f in ("uscc", "org_code", "registration_number", "taxpayer_number", "code", "id_number")
        if record.get(f)
    )
    return MatchRecord(
        record_id=record_id,
        name=str(record.get("party_name") or ""),
        kind=kind,
        codes=codes,
        legal_rep=record.get("legal_rep"),
        address=record.get("address"),
    )


def entity_for_matching(entity: Entity) -> Prepared:
    """The entity as the matcher sees it: its name, codes and current golden values."""
    current = {a.field: a.value for a in entity.attributes if a.is_current}
    codes = tuple(i.value for i in entity.identifiers if i.id_type is not IdentifierType.ORG_CODE)
    return prepare(
        MatchRecord(
            record_id=f"entity:{entity.id}",
            name=entity.display_name,
            kind=entity.kind.value,
            codes=codes,
            legal_rep=current.get("legal_rep"),
            address=current.get("address"),
            birth_date=current.get("birth_date"),
        )
    )


class FuzzyLinker:
    def __init__(self, *, session: Session, config: MatchConfig | None = None) -> None:
        self.session = session
        self.config = config or MatchConfig()
        # Keys each entity has (stored or added in this batch), by object identity, and the
        # entities behind the keys added in this batch (not flushed yet).
        self._keys: dict[int, set[str]] = {}
        self._pending: dict[str, list[Entity]] = {}

    def best_match(self, prepared: Prepared, kind: EntityKind) -> FuzzyOutcome | None:
        """The best-scoring candidate entity of the same kind, with its explanation."""
        keys = sorted(blocking_keys(prepared))
        if not keys:
            return None
        # No autoflush: the batch is written in one flush at its end (a flush per record would
        # cost more than the matching); keys added in this batch are looked up in memory.
        with self.session.no_autoflush:
            rows = self.session.execute(
                select(EntityBlockKey.key, EntityBlockKey.entity_id).where(
                    EntityBlockKey.key.in_(keys)
                )
            ).all()
            by_key: dict[str, list[Entity | int]] = {}
            for key, entity_id in rows:
                by_key.setdefault(key, []).append(entity_id)
            for key in keys:
                by_key.setdefault(key, []).extend(self._pending.get(key, []))
            candidates: list[Entity | int] = []
            for found in by_key.values():
                if len(found) <= MAX_ENTITIES_PER_KEY:
                    candidates += [c for c in found if c not in candidates]
            best: FuzzyOutcome | None = None
            for candidate in candidates[:MAX_CANDIDATES]:
                entity = self._survivor(candidate)
                if entity is None or entity.kind is not kind:
                    continue
                explanation = score_pair(
                    prepared,
                    entity_for_matching(entity),
                    self.config,
                    rejected=self._rejected_with(entity),
                )
                if best is None or explanation.probability > best.explanation.probability:
                    best = FuzzyOutcome(entity, explanation)
        return best

    def index(self, entity: Entity, prepared: Prepared) -> None:
        """Make ``entity`` findable by the record's blocking keys (those it lacks)."""
        known = self._keys.get(id(entity))
        if known is None:
            known = set()
            if entity.id is not None and entity not in self.session.new:
                with self.session.no_autoflush:
                    known.update(
                        self.session.scalars(
                            select(EntityBlockKey.key).where(EntityBlockKey.entity_id == entity.id)
                        )
                    )
            self._keys[id(entity)] = known
        for key in blocking_keys(prepared) - known:
            if len(key) <= 200:
                self.session.add(EntityBlockKey(key=key, entity=entity))
                self._pending.setdefault(key, []).append(entity)
                known.add(key)

    def _survivor(self, candidate: Entity | int) -> Entity | None:
        entity = candidate if isinstance(candidate, Entity) else self.session.get(Entity, candidate)
        return survivor_of(self.session, entity) if entity is not None else None

    def _rejected_with(self, entity: Entity) -> bool:
        # A record not yet linked has no reviews of its own; rejections bind entities.
        return False

    def review(self, new: Entity, candidate: Entity, explanation: MatchExplanation) -> None:
        """Queue an unsure pair for a regulator (once)."""
        self.session.flush()
        exists = self.session.scalar(
            select(EntityReview.id).where(
                EntityReview.entity_id.in_([new.id, candidate.id]),
                EntityReview.candidate_entity_id.in_([new.id, candidate.id]),
            )
        )
        if exists is None:
            self.session.add(
                EntityReview(
                    entity_id=new.id,
                    candidate_entity_id=candidate.id,
                    score=explanation.probability,
                    explanation=explanation.to_dict(),
                    algorithm="credithub-fs-v1",
                    status=ReviewStatus.PENDING,
                )
            )


__all__ = ["Decision", "FuzzyLinker", "FuzzyOutcome", "entity_for_matching", "record_for_matching"]
