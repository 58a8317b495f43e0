"""The ``list-changes`` report: per month and list, the entries added (by listing date) and
removed (by removal date, or the end of publicity once passed), and the net change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import ColumnElement, and_, case, func, select

from app.entities.queries import visible_clause
from app.reports.rows.context import (
    LIST_CATEGORIES,
    Chunk,
    ReportContext,
    chunked,
    date_clauses,
    month_of,
    region_clause,
)
from core.models import CreditRecord, Entity, RecordCategory

_LIST_KIND = {RecordCategory.LIST_ENTRY: "black", RecordCategory.RED_LIST: "red"}


def list_changes_rows(ctx: ReportContext) -> Iterator[Chunk]:
    """Additions by listing date and removals by removal date (or the end of publicity once
    passed), per month and list. Customs ratings are not list entries: not counted here."""
    f = ctx.filters
    categories = [c for c in LIST_CATEGORIES if f.list_type is None or _LIST_KIND[c] == f.list_type]
    base: list[ColumnElement[bool]] = [
        CreditRecord.category.in_(categories),
        visible_clause(ctx.viewer.feed_ids),
    ]
    if ctx.department_id is not None:
        base.append(CreditRecord.department_id == ctx.department_id)
    region = region_clause(ctx)
    if region is not None:
        base.append(region)
    lapsed = and_(
        CreditRecord.removed_on.is_(None),
        CreditRecord.publicity_end.is_not(None),
        CreditRecord.publicity_end < ctx.today,
    )
    removal_date = case(
        (CreditRecord.removed_on.is_not(None), CreditRecord.removed_on),
        (lapsed, CreditRecord.publicity_end),
        else_=None,
    )
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for which, day in ((0, CreditRecord.decision_date), (1, removal_date)):
        month = month_of(day, ctx.dialect).label("month")
        statement = (
            select(month, CreditRecord.category, CreditRecord.list_name, func.count())
            .outerjoin(Entity, CreditRecord.entity_id == Entity.id)
            .where(*base, day.is_not(None), *date_clauses(day, f))
            .group_by(month, CreditRecord.category, CreditRecord.list_name)
        )
        for m, category, list_name, n in ctx.session.execute(statement):
            key = (m, _LIST_KIND[category], list_name or "")
            counts[key][which] += int(n)
    rows = (
        (m, kind, name, added, removed, added - removed)
        for (m, kind, name), (added, removed) in sorted(counts.items())
    )
    yield from chunked(rows, ctx.chunk_size)
