"""The ``resolution`` report: per month, the matcher's links (automatic, unsure, negative)
and the reviewers' (links, reviews opened, confirmed and rejected, the backlog at month end),
and the merges, unmerges and splits of the audit trail. It describes the matcher, not any
party: every feed counts, whatever the caller may see."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from app.reports.rows.context import Chunk, ReportContext, chunked, month_of, time_clauses
from core.models import (
    AuditEvent,
    DecidedBy,
    EntityReview,
    MatchDecision,
    MatchLink,
    ReviewStatus,
)


def resolution_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    session = ctx.session
    months: dict[str, Counter[str]] = defaultdict(Counter)

    link_month = month_of(MatchLink.decided_at, ctx.dialect, timestamp=True).label("month")
    for m, decision, decided_by, n in session.execute(
        select(link_month, MatchLink.decision, MatchLink.decided_by, func.count())
        .where(*time_clauses(MatchLink.decided_at, f))
        .group_by(link_month, MatchLink.decision, MatchLink.decided_by)
    ):
        if decided_by is DecidedBy.REVIEWER:
            months[m]["reviewer_links"] += int(n)
        elif decision is MatchDecision.POSITIVE:
            months[m]["auto_links"] += int(n)
        elif decision is MatchDecision.UNSURE:
            months[m]["unsure_links"] += int(n)
        else:
            months[m]["negative_links"] += int(n)

    reviews = list(
        session.execute(
            select(EntityReview.created_at, EntityReview.decided_at, EntityReview.status)
        )
    )
    for created, decided, status in reviews:
        months[_month(created)]["reviews_opened"] += 1
        if decided is not None and status is ReviewStatus.CONFIRMED:
            months[_month(decided)]["reviews_confirmed"] += 1
        elif decided is not None and status is ReviewStatus.REJECTED:
            months[_month(decided)]["reviews_rejected"] += 1

    actions = {"entity.merge": "merges", "entity.unmerge": "unmerges", "entity.split": "splits"}
    event_month = month_of(AuditEvent.occurred_at, ctx.dialect, timestamp=True).label("month")
    for m, action, n in session.execute(
        select(event_month, AuditEvent.action, func.count())
        .where(AuditEvent.action.in_(list(actions)), *time_clauses(AuditEvent.occurred_at, f))
        .group_by(event_month, AuditEvent.action)
    ):
        months[m][actions[action]] += int(n)

    start = f.date_from.strftime("%Y-%m") if f.date_from else None
    end = f.date_to.strftime("%Y-%m") if f.date_to else None
    in_range = sorted(
        m for m in months if (start is None or m >= start) and (end is None or m <= end)
    )
    rows = []
    for m in in_range:
        counts = months[m]
        rows.append(
            (
                m,
                counts["auto_links"],
                counts["unsure_links"],
                counts["negative_links"],
                counts["reviewer_links"],
                counts["reviews_opened"],
                counts["reviews_confirmed"],
                counts["reviews_rejected"],
                _backlog_at_end_of(m, reviews),
                counts["merges"],
                counts["unmerges"],
                counts["splits"],
            )
        )
    yield from chunked(rows, ctx.chunk_size)


def _month(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m")


def _backlog_at_end_of(month: str, reviews: list[Any]) -> int:
    """Reviews opened by the end of ``month`` and not decided by then."""
    return sum(
        1
        for created, decided, _status in reviews
        if _month(created) <= month and (decided is None or _month(decided) > month)
    )
