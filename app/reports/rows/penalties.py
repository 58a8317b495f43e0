"""The ``penalties`` report: per month, department and region, the penalties decided (by
severity), the distinct entities penalised and the fine and confiscation totals."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from app.reports.rows.context import (
    Chunk,
    ReportContext,
    Row,
    chunked,
    month_of,
    record_clauses,
    region_clause,
)
from core.models import CreditRecord, Department, Entity, RecordCategory, Severity


def penalties_rows(ctx: ReportContext) -> Iterator[Chunk]:
    month = month_of(CreditRecord.decision_date, ctx.dialect).label("month")

    def severity_count(severity: Severity) -> Any:
        return func.sum(case((CreditRecord.severity == severity, 1), else_=0))

    statement = (
        select(
            month,
            Department.code,
            Department.name,
            Entity.region_code,
            func.count(CreditRecord.id),
            severity_count(Severity.SERIOUS),
            severity_count(Severity.GENERAL),
            severity_count(Severity.MINOR),
            func.count(func.distinct(CreditRecord.entity_id)),
            func.sum(CreditRecord.fine_amount),
            func.sum(CreditRecord.confiscated_amount),
        )
        .join(Department, CreditRecord.department_id == Department.id)
        .outerjoin(Entity, CreditRecord.entity_id == Entity.id)
        .where(
            CreditRecord.category == RecordCategory.PENALTY,
            CreditRecord.decision_date.is_not(None),
            *record_clauses(ctx),
        )
        .group_by(month, Department.code, Department.name, Entity.region_code)
        .order_by(month, Department.code, Entity.region_code)
    )
    region = region_clause(ctx)
    if region is not None:
        statement = statement.where(region)
    rows = (
        (m, code, name, reg, int(n), int(s or 0), int(g or 0), int(mi or 0), int(e), fine, conf)
        for m, code, name, reg, n, s, g, mi, e, fine, conf in ctx.session.execute(statement)
    )
    yield from chunked((_money_row(r, (9, 10)) for r in rows), ctx.chunk_size)


def _money_row(row: Row, positions: Sequence[int]) -> Row:
    # SUM of NUMERIC comes back as float on SQLite and Decimal on PostgreSQL: one type out.
    cells = list(row)
    for i in positions:
        if cells[i] is not None:
            cells[i] = Decimal(str(cells[i])).quantize(Decimal("0.01"))
    return tuple(cells)
