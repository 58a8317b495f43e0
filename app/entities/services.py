"""Entity search, profile and records for government callers. Never commits.

Each of them audits itself: reading a natural person (a profile, its records, a search page
naming people) writes an audit event into the caller's session, so every caller, API or
page, audits the same way and only has to commit.

Everything is seen through a :class:`~app.entities.present.Viewer`: records (and golden-record
values, match links, list memberships, the grade) come only from feeds the caller may see
(``core.rules.sharing.visible_feed_ids``), and personal data is masked for the caller's role. The
entity itself (name, kind, region, identifiers) is master data every government role may see
once it knows the entity exists: an entity known only through feeds the caller may not see
(``app.entities.existence``) is not found, in search, profile and records alike.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session

from app.entities.existence import is_known, known_clause
from app.entities.present import (
    PERSONAL_FIELDS,
    Viewer,
    identifier_views,
    mask_explanation,
    record_title,
    record_view,
    text_for,
)
from app.entities.profile_rows import (
    ProfileRow,
    profile_params,
    profile_rows,
)
from app.entities.profile_statements import (
    golden_candidates_statement,
    identifiers_statement,
    match_links_statement,
)
from app.entities.queries import (
    active_penalties_clause,
    effective_status_clause,
    list_member_clause,
    visible_clause,
)
from app.entities.search import Hit, identifier_hits, is_code_query, name_hits, query_kind
from app.entities.search_guard import audit_search, refuse_resident_id_search
from core.audit import record_event
from core.db import paginate
from core.errors import NotFound
from core.models import (
    ApiClient,
    CreditRecord,
    CreditStatus,
    Department,
    Entity,
    EntityIdentifier,
    EntityKind,
    Feed,
    RecordCategory,
    Role,
    Severity,
    SourceRecord,
)
from core.rules.authority import feed_authority
from core.rules.grading import grade_entity, in_force, list_members, membership_name
from core.rules.publicity import effective_status
from core.rules.settings import GradeRules
from core.rules.sharing import visible_and_all_feed_ids
from resolution.golden import GOLDEN_FIELDS, Candidate, choose
from resolution.survivors import entity_group_select, resolve_entity

# Golden fields that are personal data beyond the name: only for full-identifier roles.
_PERSONAL_GOLDEN_FIELDS = PERSONAL_FIELDS
EnumT = TypeVar("EnumT", bound=Enum)


class EntityNotFound(NotFound):
    """No entity has the public id asked for."""


def _member(enum_cls: type[EnumT], value: str | None) -> EnumT | None:
    return enum_cls(value) if value is not None else None


@dataclass(frozen=True)
class SearchFilters:
    kind: EntityKind | None = None
    region: str | None = None
    list_name: str | None = None
    has_active_penalties: bool | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> SearchFilters:
        """From loaded :class:`~app.entities.schemas.EntitySearchArgsSchema` arguments (the
        API's, or the search page's schema derived from it)."""
        return cls(
            kind=_member(EntityKind, args["kind"]),
            region=args["region"],
            list_name=args["list_name"],
            has_active_penalties=args["has_active_penalties"],
        )


@dataclass(frozen=True)
class RecordFilters:
    category: RecordCategory | None = None
    severity: Severity | None = None
    status: CreditStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    department: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> RecordFilters:
        """From loaded :class:`~app.entities.schemas.RecordArgsSchema` arguments (the API's,
        or the records page's schema derived from it)."""
        return cls(
            category=_member(RecordCategory, args["category"]),
            severity=_member(Severity, args["severity"]),
            status=_member(CreditStatus, args["status"]),
            date_from=args["date_from"],
            date_to=args["date_to"],
            department=args["department"],
        )


def viewer_for(*, session: Session, client: ApiClient | None, today: date) -> Viewer:
    role = client.role if client is not None else Role.PUBLIC
    visible, every = visible_and_all_feed_ids(session=session, client=client)
    return Viewer(
        client=client,
        role=role,
        feed_ids=frozenset(visible),
        today=today,
        all_feed_ids=frozenset(every),
    )


def _audit_person_read(*, session: Session, viewer: Viewer, entity: Entity, view: str) -> None:
    """An ``entity.read`` audit event when ``entity`` is a natural person (reading a person's
    data is what the audit trail must show); nothing for other kinds."""
    if entity.kind is not EntityKind.NATURAL_PERSON:
        return
    record_event(
        session=session,
        client=viewer.client,
        action="entity.read",
        target_type="entity",
        target_id=entity.public_id,
        details={"view": view, "role": viewer.role.value},
    )


# --------------------------------------------------------------------------- search


def search_entities(
    *,
    session: Session,
    viewer: Viewer,
    q: str | None,
    filters: SearchFilters,
    page: int,
    page_size: int,
    query_key: bytes,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """A page of entities, the total, and what ``q`` was read as (None without ``q``).

    Without ``q``: every entity passing the filters, by name. With an identifier: exact
    look-ups (see ``app.entities.search``). With a name: fuzzy, best score first. The list and
    penalty filters only look at records of feeds the viewer may see.

    Every search writes an ``entity.search`` audit event into ``session`` (the caller commits
    it): the query's kind, its hash under ``query_key``, the number of hits and the natural
    persons the page names. Raises :class:`~app.entities.search_guard.ResidentIdSearchRefused`
    (403) for a full resident id when the viewer's role may not search by one; its audit event
    is in ``session`` too, for the caller to commit before answering.
    """
    query = (q or "").strip()
    refuse_resident_id_search(
        session=session,
        client=viewer.client,
        role=viewer.role,
        query=query,
        key=query_key,
        action="entity.search",
    )
    clauses = _entity_clauses(viewer, filters)
    # Sharing applies to existence: a separate condition, whatever the query's shape.
    clauses.append(known_clause(session, viewer.feed_ids, all_feed_ids=viewer.all_feed_ids))
    kind: str | None = None
    if not query:
        statement = select(Entity.id).where(*clauses).order_by(Entity.display_name, Entity.id)
        rows, total = paginate(session, statement, page=page, page_size=page_size)
        hits = [Hit(row[0], 0.0, "", "") for row in rows]
        items = _hit_views(session, viewer, hits, scored=False)
    else:
        if is_code_query(query):
            found = identifier_hits(session, query, clauses)
        else:
            found = name_hits(session, query, clauses)
        start = (page - 1) * page_size
        items = _hit_views(session, viewer, found[start : start + page_size], scored=True)
        total, kind = len(found), query_kind(query)
    audit_search(
        session=session,
        client=viewer.client,
        action="entity.search",
        query=query,
        query_kind=kind,
        key=query_key,
        total=total,
        persons=[i["public_id"] for i in items if i["kind"] == EntityKind.NATURAL_PERSON.value],
        extra={"role": viewer.role.value},
    )
    return items, total, kind


def _entity_clauses(viewer: Viewer, filters: SearchFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [Entity.merged_into_id.is_(None)]
    if filters.kind is not None:
        clauses.append(Entity.kind == filters.kind)
    if filters.region:
        clauses.append(Entity.region_code.startswith(filters.region, autoescape=True))
    if filters.list_name:
        clauses.append(
            list_member_clause(filters.list_name, today=viewer.today, feed_ids=viewer.feed_ids)
        )
    if filters.has_active_penalties is not None:
        active = active_penalties_clause(today=viewer.today, feed_ids=viewer.feed_ids)
        clauses.append(active if filters.has_active_penalties else ~active)
    return clauses


def _hit_views(
    session: Session, viewer: Viewer, hits: list[Hit], *, scored: bool
) -> list[dict[str, Any]]:
    if not hits:
        return []
    # Plain rows, not ORM objects: a page holds up to 100 entities and their identifiers, only
    # read here; statements built once per process.
    ids = {"ids": [h.entity_id for h in hits]}
    entities = {row.id: row for row in session.execute(_hit_entities(), ids)}
    identifiers: dict[int, list[Any]] = {}
    for row in session.execute(_hit_identifiers(), ids):
        identifiers.setdefault(row.entity_id, []).append(row)
    views = []
    for hit in hits:
        entity = entities[hit.entity_id]
        views.append(
            {
                **_entity_head(entity),
                "identifiers": identifier_views(
                    viewer, identifiers.get(entity.id, []), entity.kind
                ),
                "score": hit.score if scored else None,
                "matched_on": hit.matched_on if scored else None,
                "rule": hit.rule if scored else None,
            }
        )
    return views


@functools.cache
def _hit_entities() -> Any:
    e = Entity
    return select(e.id, e.public_id, e.kind, e.display_name, e.region_code).where(
        e.id.in_(bindparam("ids", expanding=True))
    )


@functools.cache
def _hit_identifiers() -> Any:
    i = EntityIdentifier
    return select(i.entity_id, i.id_type, i.value, i.valid, i.problem).where(
        i.entity_id.in_(bindparam("ids", expanding=True))
    )


def _entity_head(entity: Any) -> dict[str, Any]:
    """An ``Entity`` or a row of its columns, as the head of a hit or a profile."""
    return {
        "public_id": entity.public_id,
        "kind": entity.kind.value,
        "display_name": entity.display_name,
        "region_code": entity.region_code,
    }


# --------------------------------------------------------------------------- records


def _known_entity(session: Session, viewer: Viewer, public_id: str) -> tuple[Entity, str | None]:
    """The entity answering for ``public_id`` and the merged id it was reached from. Raises
    :class:`EntityNotFound` for an unknown id and, alike, for an entity the viewer may not
    know exists (``app.entities.existence``)."""
    resolved = resolve_entity(session, public_id)
    if resolved is None or not is_known(session, resolved[0], viewer.feed_ids):
        raise EntityNotFound(f"No entity has the id {public_id!r}.")
    return resolved


def _records_statement(viewer: Viewer, group: Any) -> Any:
    return (
        select(CreditRecord, Feed.code, Department.code, Department.name, SourceRecord.source_key)
        .join(Feed, CreditRecord.feed_id == Feed.id)
        .join(Department, CreditRecord.department_id == Department.id)
        .join(SourceRecord, CreditRecord.source_record_id == SourceRecord.id)
        .where(CreditRecord.entity_id.in_(group), visible_clause(viewer.feed_ids))
        .order_by(CreditRecord.decision_date.desc().nulls_last(), CreditRecord.id.desc())
    )


def _view_of(viewer: Viewer, row: Any) -> dict[str, Any]:
    record, feed_code, department_code, department_name, source_key = row
    return record_view(
        viewer,
        record,
        feed_code=feed_code,
        department_code=department_code,
        department_name=department_name,
        source_key=source_key,
    )


def entity_records(
    *,
    session: Session,
    viewer: Viewer,
    public_id: str,
    filters: RecordFilters,
    page: int,
    page_size: int,
    audit: bool = True,
) -> tuple[Entity, list[dict[str, Any]], int]:
    """The entity answering for ``public_id`` and a page of its visible records, newest
    decision first. Raises :class:`EntityNotFound`.

    Reading a natural person's records writes an ``entity.read`` audit event (view
    ``records``) into ``session`` (the caller commits it); ``audit=False`` is for a caller
    that shows none of the rows (the records page refusing its filters)."""
    entity, _merged_from = _known_entity(session, viewer, public_id)
    statement = _records_statement(viewer, entity_group_select(entity.id))
    if filters.category is not None:
        statement = statement.where(CreditRecord.category == filters.category)
    if filters.severity is not None:
        statement = statement.where(CreditRecord.severity == filters.severity)
    if filters.status is not None:
        statement = statement.where(effective_status_clause(filters.status, viewer.today))
    if filters.date_from is not None:
        statement = statement.where(CreditRecord.decision_date >= filters.date_from)
    if filters.date_to is not None:
        statement = statement.where(CreditRecord.decision_date <= filters.date_to)
    if filters.department:
        statement = statement.where(Department.code == filters.department)
    rows, total = paginate(session, statement, page=page, page_size=page_size)
    items = [_view_of(viewer, row) for row in rows]
    if audit:
        _audit_person_read(session=session, viewer=viewer, entity=entity, view="records")
    return entity, items, total


# --------------------------------------------------------------------------- profile


def entity_profile(
    *, session: Session, viewer: Viewer, public_id: str, grade_rules: GradeRules
) -> dict[str, Any]:
    """Everything the viewer may know about the entity answering for ``public_id``: golden
    record with sources, identifiers, records by category, lists, grade with reasons,
    timeline, contributing departments, match links. Raises :class:`EntityNotFound`.

    Reading a natural person's profile writes an ``entity.read`` audit event (view
    ``profile``) into ``session`` (the caller commits it)."""
    resolved = _profile_entity(session, public_id)
    if resolved is None:
        raise EntityNotFound(f"No entity has the id {public_id!r}.")
    entity, merged_from = resolved
    # Five queries whatever the entity holds (the entity; records; identifiers; golden values;
    # match links), each reading the merge group as a subquery, each statement built once per
    # process with bound parameters: see app/entities/profile_rows and profile_statements.
    params = profile_params(entity_id=entity.id, feed_ids=viewer.feed_ids, today=viewer.today)
    rows = profile_rows(session, params=params)
    # A record the viewer may see makes the entity known; without one, ask (sharing applies to
    # existence, app.entities.existence): one more query, only for entities with none.
    if not rows and not is_known(session, entity, viewer.feed_ids):
        raise EntityNotFound(f"No entity has the id {public_id!r}.")
    records = [row.record for row in rows]
    identifiers = session.execute(identifiers_statement(), params).all()
    grade = grade_entity(records=records, today=viewer.today, rules=grade_rules)
    links, links_total = _match_links(session, viewer, params, entity.kind)
    profile = {
        **_entity_head(entity),
        "merged_from": merged_from,
        "as_of": viewer.today,
        "golden_record": _golden_record(session, viewer, params),
        "identifiers": identifier_views(viewer, identifiers, entity.kind),
        "records": _by_category(viewer, rows),
        "lists": _memberships(viewer, records),
        "grade": grade.as_dict(),
        "timeline": _timeline(viewer, rows),
        "departments": _departments(rows),
        "match_links": links,
        "match_links_total": links_total,
    }
    _audit_person_read(session=session, viewer=viewer, entity=entity, view="profile")
    return profile


def _profile_entity(session: Session, public_id: str) -> tuple[Entity, str | None] | None:
    """``resolve_entity`` for a profile: the entity's head columns as a plain row (a profile
    reads nothing else of it, and needs no ORM object); a merged id walks to its survivor
    through ``resolve_entity`` (rare)."""
    row = session.execute(_entity_head_statement(), {"public_id": public_id}).first()
    if row is None or row.merged_into_id is not None:
        return resolve_entity(session, public_id)
    # A row with Entity's head columns, read like one (id, public_id, kind, display_name,
    # region_code): duck-typed for is_known, _entity_head and the audit event.
    return cast(Entity, row), None


@functools.cache
def _entity_head_statement() -> Any:
    e = Entity
    return select(e.id, e.public_id, e.kind, e.display_name, e.region_code, e.merged_into_id).where(
        e.public_id == bindparam("public_id")
    )


def _golden_record(
    session: Session, viewer: Viewer, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each golden value the viewer may see, chosen across the group's records by
    ``resolution.golden.choose`` among the feeds the viewer may see, with its source and why
    it won (``rule``, ``why``)."""
    rows = session.execute(golden_candidates_statement(), params)
    candidates = []
    for row in rows:
        (attr_id, field_name, value, _current, feed_id, basis, observed_at) = row[:7]
        if feed_id is not None and feed_id not in viewer.feed_ids:
            continue
        if field_name in _PERSONAL_GOLDEN_FIELDS and not viewer.full_identifiers:
            continue
        category = row[9]
        candidates.append(
            Candidate(
                field=field_name,
                value=value,
                basis=basis,
                authority=feed_authority(category, row[10]),
                category=category.value if category is not None else None,
                observed_at=observed_at,
                id=attr_id,
                row=row,
            )
        )
    chosen = choose(candidates)
    order = {name: i for i, name in enumerate(GOLDEN_FIELDS)}
    return [
        _golden_item(viewer, *chosen[field_name])
        for field_name in sorted(chosen, key=lambda f: (order.get(f, len(order)), f))
    ]


def _golden_item(viewer: Viewer, winner: Candidate, why: dict[str, str]) -> dict[str, Any]:
    row = winner.row
    return {
        "field": winner.field,
        "value": text_for(viewer, winner.value),
        "current": row[3],
        "rule": why["rule"],
        "why": why["why"],
        "source": {
            "feed": row[8],
            "department": row[11],
            "department_name": row[12],
            "source_record_id": row[7],
            "source_key": text_for(viewer, row[13]),
            "observed_at": winner.observed_at,
            "category": winner.category,
            "authority": winner.authority,
            "basis": winner.basis,
        },
    }


def _by_category(viewer: Viewer, rows: list[ProfileRow]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:  # already newest first
        bucket = grouped.setdefault(
            row.record.category.value, {"total": row.category_total, "items": []}
        )
        if row.shown_in_category:
            bucket["items"].append(
                record_view(
                    viewer,
                    row.record,
                    feed_code=row.feed_code,
                    department_code=row.department_code,
                    department_name=row.department_name,
                    source_key=row.source_key,
                )
            )
    return grouped


def _memberships(viewer: Viewer, records: list[CreditRecord]) -> list[dict[str, Any]]:
    """Lists the entity is on today, as far as the viewer's records say."""
    members = list_members(r for r in records if in_force(r, viewer.today))
    return [
        {
            "kind": kind,
            "list_name": membership_name(record),
            "listed_on": record.decision_date,
            "authority_name": record.authority_name,
            "reason": text_for(viewer, record.content),
            "record_id": record.id,
        }
        for kind, record in members
    ]


def _timeline(viewer: Viewer, rows: list[ProfileRow]) -> list[dict[str, Any]]:
    return [
        {
            "date": row.record.decision_date,
            "record_id": row.record.id,
            "category": row.record.category.value,
            "title": text_for(viewer, record_title(row.record)),
            "status": effective_status(row.record, viewer.today).value,
            "severity": row.record.severity.value if row.record.severity else None,
            "department": row.department_code,
        }
        for row in rows
        if row.on_timeline
    ]


def _departments(rows: list[ProfileRow]) -> list[dict[str, Any]]:
    counts = {
        (row.department_code, row.department_name): row.department_total
        for row in rows
        if row.in_department == 1
    }
    return [
        {"code": code, "name": name, "records": n}
        for (code, name), n in sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    ]


def _match_links(
    session: Session, viewer: Viewer, params: dict[str, Any], kind: EntityKind
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``PROFILE_MATCH_LINKS`` links and how many there are, in one query."""
    rows = session.execute(match_links_statement(), params).all()
    total = rows[0][3] if rows else 0  # every row carries the count before the limit
    links = []
    for link, feed_code, source_key, _total in rows:
        explanation = mask_explanation(viewer, link.explanation or {}, kind)
        links.append(
            {
                "id": link.id,
                "source_record_id": link.source_record_id,
                "feed": feed_code,
                "source_key": text_for(viewer, source_key),
                "decision": link.decision.value,
                "score": link.score,
                "rule": explanation.get("rule"),
                "matched_on": explanation.get("matched_on"),
                "algorithm": link.algorithm,
                "decided_by": link.decided_by.value,
                "reviewer": link.reviewer,
                "reason": link.reason,
                "decided_at": link.decided_at,
                "superseded_at": link.superseded_at,
                "explanation": explanation,
            }
        )
    return links, int(total)
