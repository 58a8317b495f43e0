"""Public lookup (Credit China style). Never commits.

The public sees only records that are published today (``core.rules.publicity.is_published``: active
or disputed, inside the publicity period, not a registry fact) from *unconditional* feeds, the
sharing rule for the public; repaired, expired and revoked records never. Natural persons' names
are masked (``张*``) and no identifiers of anyone are shown except the USCCs of companies,
businesses and organisations, which are public.

A natural person only exists for the public while they have a published record: search does
not list, and the profile answers 404 for, a person without one, so the public cannot probe who
is in the database. Any entity known only through feeds that are not unconditional (not
shared, or shared on conditions) does not exist for the public either
(``app.entities.existence``). Search takes a name or a USCC, nothing else (a resident id
would let anyone test whether a person is known).
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, exists, select
from sqlalchemy.orm import Session, selectinload

from app.entities.existence import is_known, known_clause
from app.entities.present import public_name, public_record_view, public_text
from app.entities.queries import published_clause
from app.entities.search import is_code_query, name_hits, query_kind
from app.entities.search_guard import audit_search, refuse_resident_id_search
from core.audit import record_event
from core.errors import NotFound, ServiceRefused
from core.models import (
    ApiClient,
    CreditRecord,
    Department,
    Entity,
    EntityIdentifier,
    EntityKind,
    IdentifierType,
    Role,
)
from core.rules.grading import list_members, membership_name
from core.rules.publicity import is_published
from core.rules.sharing import visible_feed_ids
from matching.identifier_types import IdentifierKind
from matching.identifiers import parse_identifier
from resolution.survivors import entity_group_select, resolve_entity, survivor_of

PUBLIC_ITEMS_PER_CATEGORY = 50


class PublicQueryRefused(ServiceRefused):
    """The query is an identifier the public may not search by."""

    status = 422


class PublicEntityNotFound(NotFound):
    """No entity with that id, or one the public cannot see (a person with nothing published)."""


def search_public(
    *,
    session: Session,
    client: ApiClient | None,
    q: str,
    today: date,
    page: int,
    page_size: int,
    query_key: bytes,
) -> tuple[list[dict[str, Any]], int]:
    """A page of entities answering ``q`` (a name, fuzzy, or a USCC, exact) and the total.

    Every search is audited (``public.search``: the query's kind and keyed hash, the number of
    hits, the persons the page shows), anonymous ones included: who looked whom up must be
    traceable. Raises :class:`~app.entities.search_guard.ResidentIdSearchRefused` (403, audited:
    the caller commits before answering) for a resident id number and
    :class:`PublicQueryRefused` (422) for any other identifier but a USCC.
    """
    query = q.strip()
    refuse_resident_id_search(
        session=session,
        client=client,
        role=Role.PUBLIC,
        query=query,
        key=query_key,
        action="public.search",
    )
    kind = query_kind(query)
    if is_code_query(query):
        ident = parse_identifier(query)
        if ident.kind is not IdentifierKind.USCC:
            raise PublicQueryRefused(
                "The public lookup takes a name or a unified social credit code (18 characters)."
            )
        entity_ids = _uscc_holders(session, ident.value)
        hits = [(entity_id, 1.0, "uscc") for entity_id in entity_ids]
    else:
        found = name_hits(session, query, [])
        hits = [(h.entity_id, h.score, "name") for h in found]
    visible = _publicly_known(session, [entity_id for entity_id, _s, _m in hits], today)
    hits = [h for h in hits if h[0] in visible]
    start = (page - 1) * page_size
    page_hits = hits[start : start + page_size]
    entities = _load(session, [h[0] for h in page_hits])
    items = [
        {**_public_head(entities[entity_id]), "score": score, "matched_on": matched_on}
        for entity_id, score, matched_on in page_hits
    ]
    persons = [
        entities[entity_id].public_id
        for entity_id, _score, _matched_on in page_hits
        if entities[entity_id].kind is EntityKind.NATURAL_PERSON
    ]
    audit_search(
        session=session,
        client=client,
        action="public.search",
        query=query,
        query_kind=kind,
        key=query_key,
        total=len(hits),
        persons=persons,
        extra={"page": page, "matched_on": page_hits[0][2] if page_hits else None},
    )
    return items, len(hits)


def _uscc_holders(session: Session, uscc: str) -> list[int]:
    rows = session.scalars(
        select(EntityIdentifier.entity_id).where(
            EntityIdentifier.id_type == IdentifierType.USCC, EntityIdentifier.value == uscc
        )
    )
    survivors: list[int] = []
    for entity_id in rows:
        entity = session.get(Entity, entity_id)
        if entity is not None:
            survivor = survivor_of(session, entity)
            if survivor.id not in survivors:
                survivors.append(survivor.id)
    return survivors


def _publicly_known(session: Session, entity_ids: list[int], today: date) -> set[int]:
    """Which of the entities the public may see: every non-person, and persons with a
    published record; of those, the ones known through a feed the public may see."""
    if not entity_ids:
        return set()
    has_published = exists().where(CreditRecord.entity_id == Entity.id, published_clause(today))
    rows = session.scalars(
        select(Entity.id).where(
            Entity.id.in_(entity_ids),
            (Entity.kind != EntityKind.NATURAL_PERSON) | has_published,
            known_clause(session, visible_feed_ids(session=session, client=None)),
        )
    )
    return set(rows)


def _load(session: Session, entity_ids: list[int]) -> dict[int, Entity]:
    if not entity_ids:
        return {}
    # Their identifiers in one more query (_public_head reads them), not one per entity.
    statement = (
        select(Entity).where(Entity.id.in_(entity_ids)).options(selectinload(Entity.identifiers))
    )
    return {e.id: e for e in session.scalars(statement)}


def _public_head(entity: Entity) -> dict[str, Any]:
    person = entity.kind is EntityKind.NATURAL_PERSON
    usccs = sorted(
        i.value for i in entity.identifiers if i.id_type is IdentifierType.USCC and i.valid
    )
    return {
        "public_id": entity.public_id,
        "kind": entity.kind.value,
        "name": public_name(entity.kind, entity.display_name),
        "uscc": None if person else (usccs[0] if usccs else None),
        "region_code": None if person else entity.region_code,
    }


def public_profile(
    *, session: Session, client: ApiClient | None, public_id: str, today: date
) -> dict[str, Any]:
    """What a publicity site shows about an entity. Raises :class:`PublicEntityNotFound`.

    Reading a natural person's page writes an audit event (the caller must commit).
    """
    resolved = resolve_entity(session, public_id)
    if resolved is None:
        raise PublicEntityNotFound(f"No published entity has the id {public_id!r}.")
    entity, _merged_from = resolved
    rows = session.execute(_published_records(), {"entity_id": entity.id, "today": today})
    published = [(record, name) for record, name in rows if is_published(record, today)]
    # A published record is one of an unconditional feed: the entity is known to the public.
    # Without one, ask (sharing applies to existence): one more query, only then.
    if not published and not is_known(
        session, entity, visible_feed_ids(session=session, client=None)
    ):
        raise PublicEntityNotFound(f"No published entity has the id {public_id!r}.")
    person = entity.kind is EntityKind.NATURAL_PERSON
    if person and not published:
        raise PublicEntityNotFound(f"No published entity has the id {public_id!r}.")
    names = [entity.display_name]
    grouped: dict[str, dict[str, Any]] = {}
    for record, department_name in published:
        bucket = grouped.setdefault(record.category.value, {"total": 0, "items": []})
        bucket["total"] += 1
        if len(bucket["items"]) < PUBLIC_ITEMS_PER_CATEGORY:
            bucket["items"].append(
                public_record_view(
                    record,
                    kind=entity.kind,
                    names=names,
                    department_name=department_name,
                    today=today,
                )
            )
    if person:
        record_event(
            session=session,
            client=client,
            action="public.entity.read",
            target_type="entity",
            target_id=entity.public_id,
            details={"view": "public_profile"},
        )
    return {
        **_public_head(entity),
        "as_of": today,
        "records": grouped,
        "lists": _public_lists([r for r, _n in published], kind=entity.kind, names=names),
    }


@functools.cache
def _published_records() -> Any:
    """The published records of an entity's merge group (bound: ``entity_id``, ``today``),
    newest first, with their department's name: built once per process, not per look-up."""
    group = entity_group_select(bindparam("entity_id"))
    return (
        select(CreditRecord, Department.name)
        .join(Department, CreditRecord.department_id == Department.id)
        .where(
            CreditRecord.entity_id.in_(group), published_clause(bindparam("today", type_=Date()))
        )
        .order_by(CreditRecord.decision_date.desc().nulls_last(), CreditRecord.id.desc())
    )


def _public_lists(
    records: list[CreditRecord], *, kind: EntityKind, names: list[str]
) -> list[dict[str, Any]]:
    members = list_members(records)
    return [
        {
            "kind": member_kind,
            "list_name": membership_name(record),
            "listed_on": record.decision_date,
            "authority_name": record.authority_name,
            "reason": public_text(record.content, kind=kind, names=[*names, record.party_name]),
        }
        for member_kind, record in members
    ]
