"""The ``entities`` report: one row per entity (survivor of merges) with its grade today, the
black and red lists it is on and its records counted by category. The grade and lists use
every visible record in force; the record filters only choose which records are counted (and
keep only entities with at least one)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlalchemy import ColumnElement, select

from app.reports.registry import CATEGORY_COUNT_COLUMNS
from app.reports.rows.context import (
    Chunk,
    EntityGroups,
    ReportContext,
    entity_cells,
    list_entities,
    record_clauses,
    survivor_pages,
    visible_records,
)
from core.models import CreditRecord, Entity, RecordCategory
from core.rules.grading import grade_entity, in_force, list_members, membership_name


def _counted(ctx: ReportContext, record: CreditRecord) -> bool:
    f = ctx.filters
    decided = record.decision_date
    return (
        (f.date_from is None or (decided is not None and decided >= f.date_from))
        and (f.date_to is None or (decided is not None and decided <= f.date_to))
        and (ctx.department_id is None or record.department_id == ctx.department_id)
        and (f.category is None or record.category is f.category)
        and (f.severity is None or record.severity is f.severity)
    )


def entities_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    clauses: list[ColumnElement[bool]] = []
    if f.list_type:
        clauses.append(Entity.id.in_(list_entities(ctx)))
    if f.record_filters_given:
        matching = select(CreditRecord.entity_id).where(*record_clauses(ctx))
        clauses.append(Entity.id.in_(matching.scalar_subquery()))
    entities = EntityGroups.load(ctx.session)
    for page in survivor_pages(ctx, *clauses):
        ids = [row[0] for row in page]
        records = visible_records(ctx, entities, ids)
        codes = entities.codes(ctx.session, ids)
        chunk: Chunk = []
        for entity_id, public_id, name, kind, region in page:
            mine = records.get(entity_id, [])
            counted = [r for r in mine if _counted(ctx, r)]
            if f.record_filters_given and not counted:
                # Its matching record belongs to a merged member outside the visible set.
                continue
            current = [r for r in mine if in_force(r, ctx.today)]
            grade = grade_entity(records=mine, today=ctx.today, rules=ctx.grade_rules)
            members = list_members(current)
            by_category = Counter(r.category.value for r in counted)
            black = sorted({membership_name(r) or "black" for k, r in members if k == "black"})
            red = sorted({membership_name(r) or "red" for k, r in members if k == "red"})
            cells = entity_cells(ctx, (public_id, name, kind, region), codes.get(entity_id), name)
            chunk.append(
                (
                    *cells,
                    grade.letter,
                    "；".join(black),
                    "；".join(red),
                    len(counted),
                    *(by_category.get(c, 0) for c in CATEGORY_COUNT_COLUMNS),
                    sum(1 for r in current if r.category is RecordCategory.PENALTY),
                )
            )
        if chunk:
            yield chunk
