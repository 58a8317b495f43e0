"""Whether a caller may know that an entity exists: sharing applies to existence, not only to
records (domain.md, "Sharing"; issue 14).

An entity is *known* to a viewer when its merge group (the survivor and every entity merged
into it, :mod:`resolution.survivors`) holds a credit record of a feed the viewer may see
(``core.rules.sharing.visible_feed_ids``: for the public, unconditional feeds), or holds no
record at all (nothing about it is any feed's to withhold). An entity known only through
not-shared feeds, or conditional feeds whose condition the caller does not meet, is not found:
search leaves it out, its profile and records answer 404, the public lookup and the reports do
not show it.

One clause for SQL (:func:`known_clause`, added to the search's and the reports' entity
clauses as a separate condition) and one test for an entity in hand (:func:`is_known`).
Never commits.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, true
from sqlalchemy.orm import Session

from app.entities.queries import visible_clause
from core.models import CreditRecord, Entity, Feed
from resolution.survivors import entity_group_select, survivor_map

# Values per IN list when reading the records of merged entities.
_CHUNK = 500


def known_clause(
    session: Session, feed_ids: Collection[int], *, all_feed_ids: Collection[int] | None = None
) -> ColumnElement[bool]:
    """Entities (survivors) the viewer of ``feed_ids`` may know exist (module docstring).

    A survivor's own records are tested in SQL; those of entities merged into it (rare) are
    read once here and turned into the survivors they make known or keep hidden.
    ``all_feed_ids``: every feed's id, when the caller read them already (else one query)."""
    every = session.scalars(_feed_ids()) if all_feed_ids is None else all_feed_ids
    if set(every) <= set(feed_ids):
        return true()  # every feed visible: nothing hidden, no condition to pay for
    own_any = exists().where(CreditRecord.entity_id == Entity.id)
    own_visible = exists().where(CreditRecord.entity_id == Entity.id, visible_clause(feed_ids))
    via_visible, via_any = _merged_record_survivors(session, feed_ids)
    return or_(
        own_visible,
        Entity.id.in_(sorted(via_visible)),
        and_(~own_any, Entity.id.not_in(sorted(via_any))),
    )


@functools.cache
def _feed_ids() -> Any:
    return select(Feed.id)  # on every search: built once


def is_known(session: Session, entity: Entity, feed_ids: Collection[int]) -> bool:
    """:func:`known_clause` for one entity (the survivor answering for a public id), in one
    query: the merge group holds no record at all, or one from a feed in ``feed_ids``."""
    params = {"entity_id": entity.id, "feed_ids": sorted(feed_ids)}
    return bool(session.scalar(_known_statement(), params))


@functools.cache
def _known_statement() -> Any:
    # Every public look-up asks: built once per process (bound: the entity, the feeds).
    group = entity_group_select(bindparam("entity_id"))
    any_record = exists().where(CreditRecord.entity_id.in_(group))
    visible = exists().where(
        CreditRecord.entity_id.in_(group),
        CreditRecord.feed_id.in_(bindparam("feed_ids", expanding=True)),
    )
    return select(or_(~any_record, visible))


def _merged_record_survivors(
    session: Session, feed_ids: Collection[int]
) -> tuple[set[int], set[int]]:
    """(survivors made known by a merged member's visible record, survivors with a merged
    member holding any record)."""
    survivors = survivor_map(session)
    if not survivors:
        return set(), set()
    visible = set(feed_ids)
    via_visible: set[int] = set()
    via_any: set[int] = set()
    merged = sorted(survivors)
    for start in range(0, len(merged), _CHUNK):
        rows = session.execute(
            select(CreditRecord.entity_id, CreditRecord.feed_id)
            .where(CreditRecord.entity_id.in_(merged[start : start + _CHUNK]))
            .distinct()
        )
        for entity_id, feed_id in rows:
            assert entity_id is not None
            via_any.add(survivors[entity_id])
            if feed_id in visible:
                via_visible.add(survivors[entity_id])
    return via_visible, via_any
