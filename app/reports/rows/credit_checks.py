"""The ``credit-checks`` report: per month, checking department and matter, the checks made
(and how their parties resolved), the measures they answered, and what the departments
reported doing with them (applied, not applied, no feedback yet).

The figures describe the departments' use of the service, not any party: no name, code or
record leaves, so the report covers every department's checks (a department filter narrows it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import func, select

from app.reports.rows.context import Chunk, ReportContext, chunked, month_of, time_clauses
from core.models import CreditCheck, CreditCheckFeedback, Department

_OUTCOMES = ("matched", "ambiguous", "not_found")


def credit_checks_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    where = time_clauses(CreditCheck.created_at, f)
    if ctx.department_id is not None:
        where.append(CreditCheck.department_id == ctx.department_id)
    month = month_of(CreditCheck.created_at, ctx.dialect, timestamp=True).label("month")
    # [checks, matched, ambiguous, not_found, with_measures, measures, punishments, rewards,
    #  applied, not_applied]
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 10)
    checks = (
        select(month, Department.code, CreditCheck.matter, CreditCheck.outcome, CreditCheck.result)
        .outerjoin(Department, CreditCheck.department_id == Department.id)
        .where(*where)
        .execution_options(yield_per=1000)
    )
    for m, department, matter, outcome, result in ctx.session.execute(checks):
        row = counts[(m, department or "", matter)]
        measures = (result or {}).get("measures", [])
        row[0] += 1
        row[1 + _OUTCOMES.index(outcome)] += 1
        row[4] += int(bool(measures))
        row[5] += len(measures)
        row[6] += sum(1 for x in measures if x.get("kind") == "punishment")
        row[7] += sum(1 for x in measures if x.get("kind") == "reward")
    applied = CreditCheckFeedback.applied
    feedback = (
        select(month, Department.code, CreditCheck.matter, applied, func.count())
        .join(CreditCheck, CreditCheckFeedback.check_id == CreditCheck.id)
        .outerjoin(Department, CreditCheck.department_id == Department.id)
        .where(*where)
        .group_by(month, Department.code, CreditCheck.matter, applied)
    )
    for m, department, matter, done, n in ctx.session.execute(feedback):
        counts[(m, department or "", matter)][8 if done else 9] += int(n)
    rows = (
        (m, department, matter, *values, values[5] - values[8] - values[9])
        for (m, department, matter), values in sorted(counts.items())
    )
    yield from chunked(rows, ctx.chunk_size)
