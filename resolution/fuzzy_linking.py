"""Fuzzy linking in the service: when no identifier decides, the matcher (``matching.resolve``
model) compares the record with the entities that share a blocking key with it.

Decisions follow the matcher's thresholds: a positive match links the record (with the full
explanation), an unsure one creates a new entity *and* queues the pair for a regulator, a
negative one (or a hard rule: different valid USCCs, branch vs parent, a reviewer's "not the
same") creates a new entity. Blocking keys live in ``entity_block_keys``, so finding candidates
is one indexed look-up per record whatever the number of entities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import (
    Entity,
    EntityBlockKey,
    EntityIdentifier,
    EntityKind,
    IdentifierType,
)
from matching.blocking import blocking_keys
from matching.match_model import MatchModel
from matching.model import (
    AMBIGUOUS_CANDIDATES,
    Decision,
    MatchConfig,
    MatchExplanation,
    score_pair,
)
from matching.records import MatchRecord, Prepared, prepare, valid_usccs
from resolution.entity_views import EntityView, EntityViews
from resolution.matching_models import current_model

# Keys shared by more entities than this say little (a common trade name): skip them.
MAX_ENTITIES_PER_KEY = 50
MAX_CANDIDATES = 100
_IN_CHUNK = 500
ALGORITHM = "credithub-fs-v1"


@dataclass
class FuzzyOutcome:
    entity: EntityView
    explanation: MatchExplanation


class _Ident(Protocol):
    id_type: IdentifierType
    value: str


class _Attr(Protocol):
    field: str
    value: str | None
    is_current: bool


class _Entity(Protocol):
    """An ORM :class:`~core.models.Entity` or an :class:`EntityView`."""

    id: int | None
    kind: EntityKind
    display_name: str

    @property
    def identifiers(self) -> Iterable[_Ident]: ...

    @property
    def attributes(self) -> Iterable[_Attr]: ...


def record_for_matching(record: dict[str, Any], *, kind: str, record_id: str) -> MatchRecord:
    """A validated record as the matcher takes it: its name, codes, legal representative,
    address and the birth date and gender the feed gives (a resident id's own are read by
    ``matching.records.prepare``, and win)."""
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
        birth_date=record.get("birth_date"),
        gender=record.get("gender"),
    )


def entity_for_matching(entity: _Entity) -> Prepared:
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
            gender=current.get("gender"),
        )
    )


def matcher_usccs(kind: EntityKind, codes: Iterable[str]) -> frozenset[str]:
    """The valid USCCs ``matching.records.prepare`` finds among an entity's codes (those
    :func:`entity_for_matching` passes), read the same way (``matching.records.valid_usccs``)
    but without the rest of its work, so a test on them decides exactly as
    ``matching.model.quick_rule`` would. ``tests/resolution/test_fuzzy_linking.py`` checks
    the two agree."""
    return valid_usccs(codes, person=kind is EntityKind.NATURAL_PERSON)


def _unless_ambiguous(
    best: FuzzyOutcome | None, positives: int, kind: EntityKind
) -> FuzzyOutcome | None:
    """``best``, made unsure when it is a person and another entity matched as well: two
    people of one name and birth date (or whatever matched) are for a regulator to tell
    apart, not for the order candidates came in."""
    if best is None or positives < 2 or kind is not EntityKind.NATURAL_PERSON:
        return best
    explanation = dataclasses.replace(
        best.explanation, decision=Decision.UNSURE, rule=AMBIGUOUS_CANDIDATES
    )
    return FuzzyOutcome(best.entity, explanation)


@dataclass(slots=True)
class _Candidate:
    """What the batch knows of a stored entity before loading it: enough to skip it."""

    kind: EntityKind
    merged: bool
    valid_usccs: frozenset[str]


class FuzzyLinker:
    """The matcher's side of linking one batch. :meth:`prefetch` reads the blocking keys of
    the whole batch, and the kind, merge state and valid USCCs of every entity they lead to,
    in a few queries; :meth:`best_match` then loads (and scores) only candidates that the hard
    rule does not already exclude. A candidate holding a different valid USCC than the record
    is never the same entity (``matching.model.quick_rule``), so it is counted in
    ``last_excluded`` instead of being scored."""

    def __init__(
        self,
        *,
        session: Session,
        config: MatchConfig | None = None,
        model: MatchModel | None = None,
    ) -> None:
        """``model``: the scoring model (default: the one stored by ``credithub matching
        train``, else the hand-set weights); ``config``: thresholds and limits around it."""
        self.session = session
        # Recorded on every link and review the matcher decides.
        self.model = model or current_model(session=session)
        self.config = self.model.config(config or MatchConfig())
        # Set by the ExactLinker that consults this one (they share one batch's entities).
        self.views: EntityViews = EntityViews(session)
        self.last_excluded = 0
        # Keys each entity has (stored or added in this batch), by object identity, and the
        # entities behind the keys added in this batch (not written yet).
        self._keys: dict[int, set[str]] = {}
        self._pending: dict[str, list[EntityView]] = {}
        self._stored: dict[str, list[int]] = {}
        self._known: dict[int, _Candidate] = {}
        self._usccs: dict[int, tuple[int, frozenset[str]]] = {}

    def prefetch(self, records: Iterable[Prepared]) -> None:
        """Read the stored blocking keys of ``records`` and what is needed to rule their
        entities in or out, in a few set-based queries."""
        wanted = sorted({k for r in records for k in blocking_keys(r)} - self._stored.keys())
        found: dict[str, list[int]] = {k: [] for k in wanted}
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = self.session.execute(
                select(EntityBlockKey.key, EntityBlockKey.entity_id).where(
                    EntityBlockKey.key.in_(wanted[start : start + _IN_CHUNK])
                )
            )
            for key, entity_id in rows:
                found[key].append(entity_id)
        self._stored.update(found)
        self._describe(
            {i for ids in found.values() if len(ids) <= MAX_ENTITIES_PER_KEY for i in ids}
        )

    def _describe(self, entity_ids: set[int]) -> None:
        ids = sorted(entity_ids - self._known.keys())
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            codes: dict[int, list[str]] = {i: [] for i in chunk}
            for entity_id, value in self.session.execute(
                select(EntityIdentifier.entity_id, EntityIdentifier.value)
                .where(
                    EntityIdentifier.entity_id.in_(chunk),
                    EntityIdentifier.id_type != IdentifierType.ORG_CODE,
                )
                .order_by(EntityIdentifier.id)
            ):
                codes[entity_id].append(value)
            for entity_id, kind, merged_into in self.session.execute(
                select(Entity.id, Entity.kind, Entity.merged_into_id).where(Entity.id.in_(chunk))
            ):
                usccs = matcher_usccs(kind, codes[entity_id])
                self._known[entity_id] = _Candidate(kind, merged_into is not None, usccs)

    def best_match(
        self, prepared: Prepared, kind: EntityKind, *, rejected: frozenset[int] = frozenset()
    ) -> FuzzyOutcome | None:
        """The best-scoring candidate entity of the same kind, with its explanation.
        ``rejected``: entity ids a reviewer decided are not the record's entity (scored as
        the rule ``reviewer_rejected``, so never a match)."""
        self.last_excluded = 0
        keys = sorted(blocking_keys(prepared))
        if not keys:
            return None
        missing = [k for k in keys if k not in self._stored]
        if missing:
            self.prefetch([prepared])
        candidates: list[EntityView | int] = []
        seen: set[tuple[bool, int]] = set()
        for key in keys:
            found: list[EntityView | int] = [
                *self._stored.get(key, ()),
                *self._pending.get(key, ()),
            ]
            if len(found) > MAX_ENTITIES_PER_KEY:
                continue
            for c in found:
                mark = (True, c) if isinstance(c, int) else (False, id(c))
                if mark not in seen:
                    seen.add(mark)
                    candidates.append(c)
        best: FuzzyOutcome | None = None
        positives: set[int] = set()
        for candidate in candidates[:MAX_CANDIDATES]:
            if isinstance(candidate, int):
                known = self._known.get(candidate)
                if known is None:
                    self._describe({candidate})
                    known = self._known.get(candidate)
                if known is None:
                    continue
                if not known.merged:
                    if known.kind is not kind:
                        continue
                    # matching.model.quick_rule's USCC test, without loading the entity.
                    usccs = known.valid_usccs
                    if prepared.usccs and usccs and usccs.isdisjoint(prepared.usccs):
                        self.last_excluded += 1
                        continue
                view = self.views.get(candidate)
                if view is None:
                    continue
            else:
                view = candidate
            # survivor() answers the view itself when it was not merged (the usual case).
            entity = view if view.merged_into_id is None else self.views.survivor(view)
            if entity.kind is not kind:
                continue
            if prepared.usccs and entity is view:
                usccs = self._view_usccs(view)
                if usccs and usccs.isdisjoint(prepared.usccs):
                    self.last_excluded += 1
                    continue
            explanation = score_pair(
                prepared,
                entity_for_matching(entity),
                self.config,
                rejected=entity.id is not None and entity.id in rejected,
            )
            if explanation.decision is Decision.POSITIVE:
                positives.add(id(entity))
            if best is None or explanation.probability > best.explanation.probability:
                best = FuzzyOutcome(entity, explanation)
        return _unless_ambiguous(best, len(positives), kind)

    def forget(self) -> None:
        """Drop what was read or added (after the batch's changes were written)."""
        self._keys.clear()
        self._pending.clear()
        self._stored.clear()
        self._known.clear()
        self._usccs.clear()

    def _view_usccs(self, view: EntityView) -> frozenset[str]:
        # Identifiers are only ever added, so their count tells whether the cache is current.
        cached = self._usccs.get(id(view))
        if cached is not None and cached[0] == len(view.identifiers):
            return cached[1]
        codes = [i.value for i in view.identifiers if i.id_type is not IdentifierType.ORG_CODE]
        usccs = matcher_usccs(view.kind, codes)
        self._usccs[id(view)] = (len(view.identifiers), usccs)
        return usccs

    def index(self, entity: EntityView, prepared: Prepared) -> None:
        """Make ``entity`` findable by the record's blocking keys (those it lacks)."""
        known = self._keys.get(id(entity))
        if known is None:
            known = set()
            if entity.id is not None:
                known.update(
                    self.session.scalars(
                        select(EntityBlockKey.key).where(EntityBlockKey.entity_id == entity.id)
                    )
                )
            self._keys[id(entity)] = known
        for key in blocking_keys(prepared) - known:
            if len(key) <= 200:
                self.views.add_block_key(entity, key)
                self._pending.setdefault(key, []).append(entity)
                known.add(key)

    def review(self, new: EntityView, candidate: EntityView, explanation: MatchExplanation) -> None:
        """Queue an unsure pair for a regulator. ``new`` was created for this record, so no
        review of the pair can exist yet."""
        self.views.add_review(
            entity=new,
            candidate=candidate,
            score=explanation.probability,
            explanation={**explanation.to_dict(), "model_version": self.model.version},
            algorithm=ALGORITHM,
        )


__all__ = [
    "Decision",
    "FuzzyLinker",
    "FuzzyOutcome",
    "entity_for_matching",
    "matcher_usccs",
    "record_for_matching",
]
