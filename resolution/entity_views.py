"""Entities as the ingest batch sees them: plain objects read and written with Core statements.

Linking a batch touches thousands of entities. Loading each as an ORM object (with its
identifier and attribute collections) and writing new ones through the unit of work cost more
than everything else the pipeline does, so the linkers work on these views instead:
:class:`EntityViews` loads existing entities with three set-based queries, remembers every
change the batch makes (new entities, identifiers, golden-record values, names, merges,
review-queue pairs) and writes them in one ``executemany`` per table in :meth:`flush`.

The views live exactly as long as one batch's transaction, like the ORM session that owns it,
so a rolled-back batch leaves no stale entity behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import (
    Entity,
    EntityAttribute,
    EntityIdentifier,
    EntityKind,
    EntityReview,
    IdentifierType,
    ReviewStatus,
    search_key_values,
    utcnow,
)
from core.value_lists import one_of
from matching.strong_codes import STRONG_KINDS
from resolution.survivors import walk_to_survivor

_IN_CHUNK = 500
# Entities read per query (one bound parameter however many: core.value_lists).
_READ_CHUNK = 5000
# The stored type of each kind of code the hard rule compares, and the rule's name for it.
_STRONG_TYPE_KINDS = tuple((IdentifierType(kind), kind) for kind in STRONG_KINDS)


@dataclass(slots=True, eq=False)
class IdentView:
    id_type: IdentifierType
    value: str
    valid: bool
    problem: str | None = None
    source_record_id: int | None = None
    # Not in the database yet: written by flush().
    new: bool = False


@dataclass(slots=True, eq=False)
class AttrView:
    """A record's golden-record value (only current values are loaded)."""

    field: str
    value: str | None
    is_current: bool = True
    id: int | None = None
    source_record_id: int | None = None
    feed_id: int | None = None
    # The kind of valid code its record carried (resolution.golden ranks by it).
    basis: str | None = None


@dataclass(slots=True, eq=False)
class EntityView:
    """One entity with its identifiers and current golden values. Identity (``is``) is the
    entity's identity within a batch: :class:`EntityViews` hands out one view per entity."""

    kind: EntityKind
    public_id: str
    display_name: str
    region_code: str | None = None
    id: int | None = None
    merged_into_id: int | None = None
    identifiers: list[IdentView] = field(default_factory=list)
    attributes: list[AttrView] = field(default_factory=list)
    # Existing entity whose name, region or merge this batch changed.
    dirty: bool = False
    # The entity this one was merged into in this batch (a record joined both).
    merged_into: EntityView | None = field(default=None, repr=False)
    # strong_codes() as last read, and the number of identifiers it was read from.
    _strong: dict[str, set[str]] | None = field(default=None, init=False, repr=False)
    _strong_read_at: int = field(default=0, init=False, repr=False)

    def strong_codes(self) -> dict[str, set[str]]:
        """:func:`strong_codes_of` the entity's identifiers, read again only when some were
        added (they are only ever appended, so their count says whether the last read is
        current): linking asks it of every candidate of every record."""
        codes = self._strong
        if codes is None or self._strong_read_at != len(self.identifiers):
            codes = self._strong = strong_codes_of(self.identifiers)
            self._strong_read_at = len(self.identifiers)
        return codes


def strong_codes_of(identifiers: Iterable[IdentView]) -> dict[str, set[str]]:
    """The valid USCCs and resident ids among ``identifiers``, as the hard rule
    (``matching.strong_codes``) takes them."""
    codes: dict[str, set[str]] = {}
    for ident in identifiers:
        if ident.valid:
            # Identity tests: an enum's hash and ``.value`` are Python functions.
            for strong_type, kind in _STRONG_TYPE_KINDS:
                if ident.id_type is strong_type:
                    found = codes.get(kind)
                    if found is None:
                        codes[kind] = {ident.value}
                    else:
                        found.add(ident.value)
                    break
    return codes


@dataclass(slots=True)
class _Review:
    entity: EntityView
    candidate: EntityView
    score: float
    explanation: dict[str, Any]
    algorithm: str


class EntityViews:
    """Loads entity views by id (cached for the batch) and writes what the batch changed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_id: dict[int, EntityView] = {}
        self._new: list[EntityView] = []
        self._new_idents: list[tuple[EntityView, IdentView]] = []
        self._new_attrs: list[tuple[EntityView, AttrView]] = []
        self._retired_attr_ids: list[int] = []
        self._reviews: list[_Review] = []
        # Each feed's authority over golden values (resolution.golden reads it once a feed).
        self.feed_authority: dict[int, int] = {}

    # ------------------------------------------------------------------ reading

    def get(self, entity_id: int) -> EntityView | None:
        if entity_id not in self._by_id:
            self.load([entity_id])
        return self._by_id.get(entity_id)

    def load(self, entity_ids: Iterable[int]) -> list[EntityView]:
        """Views of the given entities (loading those not yet cached); unknown ids are left out."""
        wanted = sorted({i for i in entity_ids if i not in self._by_id})
        for start in range(0, len(wanted), _READ_CHUNK):
            self._load_chunk(wanted[start : start + _READ_CHUNK])
        return [self._by_id[i] for i in entity_ids if i in self._by_id]

    def _load_chunk(self, ids: list[int]) -> None:
        session = self.session
        entity = Entity.__table__.c
        # Core rows on the session's connection: nothing read here is held unflushed by the ORM.
        connection = session.connection()
        rows = connection.execute(
            select(
                entity.id,
                entity.kind,
                entity.public_id,
                entity.display_name,
                entity.region_code,
                entity.merged_into_id,
            ).where(one_of(session, entity.id, ids))
        )
        # Rows are unpacked as tuples and handed to each entity's lists (by entity id, in
        # id order): a batch loads thousands of identifiers and values, and a Row's
        # attribute access costs more than building the view.
        loaded: dict[int, EntityView] = {}
        for entity_id, kind, public_id, display_name, region_code, merged_into_id in rows:
            loaded[entity_id] = EntityView(
                kind, public_id, display_name, region_code, entity_id, merged_into_id
            )
        identifiers = {entity_id: view.identifiers for entity_id, view in loaded.items()}
        ident = EntityIdentifier.__table__.c
        for entity_id, id_type, value, valid, problem, source_record_id in connection.execute(
            select(
                ident.entity_id,
                ident.id_type,
                ident.value,
                ident.valid,
                ident.problem,
                ident.source_record_id,
            )
            .where(one_of(session, ident.entity_id, ids))
            .order_by(ident.id)
        ):
            identifiers[entity_id].append(
                IdentView(id_type, value, valid, problem, source_record_id)
            )
        attributes = {entity_id: view.attributes for entity_id, view in loaded.items()}
        attr = EntityAttribute.__table__.c
        for attr_id, entity_id, field_name, value, source_id, feed_id, basis in connection.execute(
            select(
                attr.id,
                attr.entity_id,
                attr.field,
                attr.value,
                attr.source_record_id,
                attr.feed_id,
                attr.basis,
            )
            .where(one_of(session, attr.entity_id, ids), attr.is_current.is_(True))
            .order_by(attr.id)
        ):
            attributes[entity_id].append(
                AttrView(field_name, value, True, attr_id, source_id, feed_id, basis)
            )
        self._by_id.update(loaded)

    def survivor(self, view: EntityView) -> EntityView:
        """The entity ``view`` answers through (the one it was merged into, transitively)."""
        return walk_to_survivor(view, self._merged_into)

    def _merged_into(self, view: EntityView) -> EntityView | None:
        if view.merged_into is not None:
            return view.merged_into
        return None if view.merged_into_id is None else self.get(view.merged_into_id)

    def merge(self, absorbed: EntityView, *, into: EntityView) -> None:
        """Merge ``absorbed`` into ``into`` (both survivors), written by :meth:`flush`."""
        absorbed.merged_into = into
        absorbed.dirty = True

    # ------------------------------------------------------------------ changing

    def create(
        self, *, kind: EntityKind, public_id: str, display_name: str, region_code: str | None
    ) -> EntityView:
        view = EntityView(
            kind=kind, public_id=public_id, display_name=display_name, region_code=region_code
        )
        self._new.append(view)
        return view

    def add_identifier(self, view: EntityView, ident: IdentView) -> None:
        ident.new = True
        view.identifiers.append(ident)
        self._new_idents.append((view, ident))

    def set_attribute(self, view: EntityView, attribute: AttrView) -> None:
        """Make ``attribute`` the current value of its field (the old one stays, not current)."""
        for old in view.attributes:
            if old.field == attribute.field and old.is_current:
                old.is_current = False
                if old.id is not None:
                    self._retired_attr_ids.append(old.id)
        view.attributes = [a for a in view.attributes if a.is_current]
        view.attributes.append(attribute)
        self._new_attrs.append((view, attribute))

    def add_observation(self, view: EntityView, attribute: AttrView) -> None:
        """Keep a record's value that does not win (written not current, kept so a split or
        a change of authority can choose again)."""
        attribute.is_current = False
        self._new_attrs.append((view, attribute))

    def add_review(
        self,
        *,
        entity: EntityView,
        candidate: EntityView,
        score: float,
        explanation: dict[str, Any],
        algorithm: str,
    ) -> None:
        """Queue a pair for a regulator; written as ``pending`` by :meth:`flush`."""
        self._reviews.append(_Review(entity, candidate, score, explanation, algorithm))

    # ------------------------------------------------------------------ writing

    def flush(self) -> None:
        """Write every change: new entities first (their ids are needed by the rows that point
        at them), then one ``executemany`` per table. Views handed out before stay readable
        (new ones now have their ids) but are forgotten: later reads load fresh ones."""
        now = utcnow()
        if self._new:
            self._insert_entities(now)
        dirty = sorted((v for v in self._by_id.values() if v.dirty), key=lambda v: v.id)
        if dirty:
            self._update_entities(dirty, now)
        if self._new_idents:
            self._insert_identifiers(now)
        if self._retired_attr_ids:
            self._retire_attributes()
        if self._new_attrs:
            self._insert_attributes(now)
        if self._reviews:
            self._insert_reviews(now)
        self._by_id = {}
        self._new, self._new_idents, self._new_attrs = [], [], []
        self._retired_attr_ids, self._reviews = [], []

    def _insert_entities(self, now: datetime) -> None:
        """Insert the new entities and give each view its id."""
        rows = [
            {
                "kind": v.kind,
                "public_id": v.public_id,
                "display_name": v.display_name,
                **search_key_values(v.display_name),
                "region_code": v.region_code,
                "merged_into_id": None,
                "created_at": now,
                "updated_at": now,
            }
            for v in self._new
        ]
        # Public ids are unique, so RETURNING needs no order (SQLite cannot promise one
        # without sending the rows one at a time).
        by_public_id = {v.public_id: v for v in self._new}
        for new_id, public_id in insert_rows(
            self.session, Entity.__table__, rows, returning=("id", "public_id")
        ):
            view = by_public_id[public_id]
            view.id = new_id
            self._by_id[new_id] = view

    def _update_entities(self, dirty: list[EntityView], now: datetime) -> None:
        """Write the names, regions and merges the batch changed."""
        table = Entity.__table__
        self.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                display_name=bindparam("b_name"),
                search_name=bindparam("b_search_name"),
                search_core=bindparam("b_search_core"),
                region_code=bindparam("b_region"),
                merged_into_id=bindparam("b_merged"),
                updated_at=bindparam("b_now"),
            ),
            [
                {
                    "b_id": v.id,
                    "b_name": v.display_name,
                    **{f"b_{k}": value for k, value in search_key_values(v.display_name).items()},
                    "b_region": v.region_code,
                    "b_merged": v.merged_into.id if v.merged_into else v.merged_into_id,
                    "b_now": now,
                }
                for v in dirty
            ],
        )
        for view in dirty:
            view.dirty = False
            if view.merged_into is not None:
                view.merged_into_id = view.merged_into.id

    def _insert_identifiers(self, now: datetime) -> None:
        insert_rows(
            self.session,
            EntityIdentifier.__table__,
            [
                {
                    "entity_id": v.id,
                    "id_type": i.id_type,
                    "value": i.value,
                    "valid": i.valid,
                    "problem": i.problem,
                    "source_record_id": i.source_record_id,
                    "created_at": now,
                }
                # In key order: two batches adding the same identifiers then wait on each other
                # in one order, never in a cycle (a deadlock on PostgreSQL).
                for v, i in sorted(
                    self._new_idents, key=lambda p: (p[0].id, p[1].id_type.value, p[1].value)
                )
            ],
            # Two pushes about the same entity at once (PostgreSQL, read committed) may both
            # add the identifier it lacked: the second finds the first's row and keeps it.
            skip_existing=True,
        )
        for _, ident in self._new_idents:
            ident.new = False

    def _retire_attributes(self) -> None:
        """Golden values replaced in this batch are no longer current (they stay)."""
        table = EntityAttribute.__table__
        # In id order, like the other writes here: concurrent batches never wait in a cycle.
        self._retired_attr_ids.sort()
        for start in range(0, len(self._retired_attr_ids), _IN_CHUNK):
            self.session.execute(
                update(table)
                .where(table.c.id.in_(self._retired_attr_ids[start : start + _IN_CHUNK]))
                .values(is_current=False)
            )

    def _insert_attributes(self, now: datetime) -> None:
        rows: list[dict[str, Any]] = [
            {
                "entity_id": v.id,
                "field": a.field,
                "value": a.value,
                "source_record_id": a.source_record_id,
                "feed_id": a.feed_id,
                "basis": a.basis,
                "observed_at": now,
                "is_current": a.is_current,
            }
            for v, a in self._new_attrs
        ]
        insert_rows(self.session, EntityAttribute.__table__, rows)

    def _insert_reviews(self, now: datetime) -> None:
        insert_rows(
            self.session,
            EntityReview.__table__,
            [
                {
                    "entity_id": r.entity.id,
                    "candidate_entity_id": r.candidate.id,
                    "score": r.score,
                    "explanation": r.explanation,
                    "algorithm": r.algorithm,
                    "status": ReviewStatus.PENDING,
                    "created_at": now,
                }
                for r in self._reviews
            ],
        )
