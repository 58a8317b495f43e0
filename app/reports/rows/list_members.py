"""The ``list-members`` report: who is on a black or red list today, one row per entity and
list."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.entities.queries import in_force_clause, visible_clause
from app.reports.rows.context import (
    LIST_CATEGORIES,
    Chunk,
    EntityGroups,
    ReportContext,
    entity_cells,
    survivor_pages,
    visible_records,
)
from core.models import CreditRecord, Department, Entity, RecordCategory
from core.rules.grading import list_members, membership_name


def _list_kind_clause(list_type: str | None) -> list[ColumnElement[bool]]:
    if list_type == "black":
        return [CreditRecord.category == RecordCategory.LIST_ENTRY]
    if list_type == "red":
        return [CreditRecord.category.in_([RecordCategory.RED_LIST, RecordCategory.CUSTOMS_RATING])]
    return [CreditRecord.category.in_([*LIST_CATEGORIES, RecordCategory.CUSTOMS_RATING])]


def list_members_rows(ctx: ReportContext) -> Iterator[Chunk]:
    """Memberships today, by the same rule as the profile (``core.rules.grading.list_members``)."""
    f = ctx.filters
    kinds = _list_kind_clause(f.list_type)
    candidates = select(CreditRecord.entity_id).where(
        visible_clause(ctx.viewer.feed_ids), in_force_clause(ctx.today), *kinds
    )
    entities = EntityGroups.load(ctx.session)
    for page in survivor_pages(ctx, Entity.id.in_(candidates.scalar_subquery())):
        ids = [row[0] for row in page]
        records = visible_records(ctx, entities, ids, in_force_clause(ctx.today), *kinds)
        codes = entities.codes(ctx.session, ids)
        departments = _department_codes(ctx.session)
        chunk: Chunk = []
        for entity_id, public_id, name, kind, region in page:
            members = list_members(records.get(entity_id, []))
            cells = entity_cells(ctx, (public_id, name, kind, region), codes.get(entity_id), name)
            for list_kind, record in sorted(members, key=lambda m: (m[0], m[1].id)):
                if f.list_type and list_kind != f.list_type:
                    continue
                if ctx.department_id is not None and record.department_id != ctx.department_id:
                    continue
                listed = record.decision_date
                if f.date_from and (listed is None or listed < f.date_from):
                    continue
                if f.date_to and (listed is None or listed > f.date_to):
                    continue
                chunk.append(
                    (
                        *cells,
                        list_kind,
                        membership_name(record),
                        listed,
                        record.authority_name,
                        departments.get(record.department_id),
                        ctx.masker.text(record.content, kind, (name, record.party_name)),
                        record.id,
                    )
                )
        if chunk:
            yield chunk


def _department_codes(session: Session) -> dict[int, str]:
    return {row[0]: row[1] for row in session.execute(select(Department.id, Department.code))}
