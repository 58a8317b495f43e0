"""Merged entities and their survivors: the one walk along ``merged_into_id``.

A merge never deletes: the merged entity points at the one that absorbed it, which may itself
have been merged since. Every reader (profiles, search, ingest's entity views, reports) walks
that chain here, upward to the survivor or downward to the group it answers for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import Session

from core.models import Entity

# A cycle in merged_into_id would be a data error; never follow more links than this.
MAX_MERGE_DEPTH = 20

T = TypeVar("T")


def walk_to_survivor(start: T, next_of: Callable[[T], T | None]) -> T:
    """Follow ``next_of`` from ``start`` until it answers None (at most MAX_MERGE_DEPTH links)."""
    current = start
    for _ in range(MAX_MERGE_DEPTH):
        following = next_of(current)
        if following is None:
            return current
        current = following
    return current


def survivor_of(session: Session, entity: Entity) -> Entity:
    """The entity that answers for ``entity`` now (itself unless it was merged)."""

    def merged_into(current: Entity) -> Entity | None:
        if current.merged_into_id is None:
            return None
        return session.get(Entity, current.merged_into_id)

    return walk_to_survivor(entity, merged_into)


def resolve_entity(session: Session, public_id: str) -> tuple[Entity, str | None] | None:
    """The entity answering for ``public_id`` (the survivor of a merge) and the merged id it
    was reached from, or None when no entity has that id."""
    entity = session.scalar(select(Entity).where(Entity.public_id == public_id))
    if entity is None:
        return None
    survivor = survivor_of(session, entity)
    return survivor, (public_id if survivor.id != entity.id else None)


def survivor_map(session: Session) -> dict[int, int]:
    """Every merged entity id -> the id of the entity that answers for it now."""
    links: dict[int, int] = {}
    merged = select(Entity.id, Entity.merged_into_id).where(Entity.merged_into_id.is_not(None))
    for entity_id, target in session.execute(merged):
        if target is not None:
            links[entity_id] = target
    return {start: walk_to_survivor(start, links.get) for start in links}


def entity_group_ids(session: Session, entity_id: int) -> list[int]:
    """``entity_id`` and every entity merged into it (directly or through others): their
    records all belong to the survivor's profile."""
    group = [entity_id]
    frontier = [entity_id]
    for _ in range(MAX_MERGE_DEPTH):
        merged = [
            i
            for i in session.scalars(select(Entity.id).where(Entity.merged_into_id.in_(frontier)))
            if i not in group
        ]
        if not merged:
            break
        group += merged
        frontier = merged
    return group


def entity_group_select(entity_id: int) -> Select[tuple[int]]:
    """The ids of :func:`entity_group_ids` as one recursive query, for ``IN`` in the query
    that needs them (a profile reads its group without a round trip of its own)."""
    group = (
        select(Entity.id.label("id"), literal(0).label("depth"))
        .where(Entity.id == entity_id)
        .cte("entity_group", recursive=True)
    )
    merged = select(Entity.id, group.c.depth + 1).where(
        Entity.merged_into_id == group.c.id, group.c.depth < MAX_MERGE_DEPTH
    )
    group = group.union_all(merged)
    return select(group.c.id)


def entity_group(session: Session, entity: Entity) -> list[int]:
    """:func:`entity_group_ids` of ``entity``."""
    return entity_group_ids(session, entity.id)
