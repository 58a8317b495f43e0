"""The ``data-quality`` report: one row per catalogued feed with its runs, volumes, rejects
(and their most frequent reasons), stored and linked records, last success and freshness
against its update cycle, and quarantine backlog. It describes feeds, not parties: every feed
counts, whatever the caller may see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select

from app.reports.rows.context import Chunk, ReportContext, chunked, time_clauses
from core.models import (
    CreditRecord,
    Department,
    Feed,
    IngestRun,
    IngestRunStatus,
    SourceRecord,
    SourceStatus,
)
from core.rules.sharing import mask_personal_text

# Days a feed may go without a successful run before it is stale, by catalogue update cycle.
CYCLE_DAYS = {
    "realtime": 1,
    "hourly": 1,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "half-yearly": 183,
    "yearly": 366,
    "annually": 366,
    "实时": 1,
    "每日": 1,
    "每周": 7,
    "每月": 31,
    "每季度": 92,
    "每半年": 183,
    "每年": 366,
}
REJECT_REASONS_SHOWN = 5


def data_quality_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    session = ctx.session
    feeds = select(Feed, Department.code).join(Department, Feed.department_id == Department.id)
    if ctx.department_id is not None:
        feeds = feeds.where(Feed.department_id == ctx.department_id)
    if f.category is not None:
        feeds = feeds.where(Feed.record_category == f.category)
    feed_rows = list(session.execute(feeds.order_by(Feed.code)))
    failed = case((IngestRun.status == IngestRunStatus.FAILED, 1), else_=0)
    runs = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                IngestRun.feed_id,
                func.count(IngestRun.id),
                func.sum(failed),
                func.sum(IngestRun.fetched),
                func.sum(IngestRun.accepted),
                func.sum(IngestRun.duplicate),
                func.sum(IngestRun.updated),
                func.sum(IngestRun.quarantined),
            )
            .where(*time_clauses(IngestRun.started_at, f))
            .group_by(IngestRun.feed_id)
        )
    }
    last_success = dict(
        session.execute(
            select(IngestRun.feed_id, func.max(IngestRun.finished_at))
            .where(IngestRun.status == IngestRunStatus.SUCCEEDED)
            .group_by(IngestRun.feed_id)
        ).all()
    )
    stored = {
        row[0]: (int(row[1]), int(row[2] or 0))
        for row in session.execute(
            select(
                CreditRecord.feed_id,
                func.count(CreditRecord.id),
                func.count(CreditRecord.entity_id),
            ).group_by(CreditRecord.feed_id)
        )
    }
    quarantine = {
        row[0]: (int(row[1]), row[2])
        for row in session.execute(
            select(
                SourceRecord.feed_id,
                func.count(SourceRecord.id),
                func.min(SourceRecord.received_at),
            )
            .where(SourceRecord.status == SourceStatus.QUARANTINED)
            .group_by(SourceRecord.feed_id)
        )
    }
    chunk: Chunk = []
    for feed, department_code in feed_rows:
        n_runs, n_failed, fetched, accepted, duplicate, updated, rejected = (
            int(v or 0) for v in runs.get(feed.id, (0, 0, 0, 0, 0, 0, 0))
        )
        records, linked = stored.get(feed.id, (0, 0))
        backlog, oldest = quarantine.get(feed.id, (0, None))
        success = last_success.get(feed.id)
        if success is not None:
            success = _utc_seconds(success)
        cycle = CYCLE_DAYS.get((feed.update_cycle or "").strip().lower())
        # A fixed CREDITHUB_TODAY before the last run would make the age negative.
        age = max((ctx.today - success.date()).days, 0) if success else None
        if success is None:
            freshness = "never run"
        elif cycle is None:
            freshness = "unknown cycle"
        else:
            freshness = "stale" if age is not None and age > cycle else "fresh"
        reasons = _reject_reasons(ctx, feed.id) if backlog else ""
        chunk.append(
            (
                feed.code,
                feed.name,
                department_code,
                feed.record_category.value,
                feed.sharing_type.value,
                feed.enabled,
                feed.update_cycle,
                n_runs,
                n_failed,
                fetched,
                accepted,
                duplicate,
                updated,
                rejected,
                round(rejected / fetched, 4) if fetched else None,
                records,
                linked,
                round(linked / records, 4) if records else None,
                success,
                age,
                cycle,
                freshness,
                backlog,
                _utc_seconds(oldest) if oldest is not None else None,
                reasons,
            )
        )
    yield from chunked(chunk, ctx.chunk_size)


def _utc_seconds(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def _reject_reasons(ctx: ReportContext, feed_id: int) -> str:
    """The quarantine's errors of one feed counted by field and message, most frequent first;
    read in streamed batches so a big backlog is never held at once."""
    counts: Counter[str] = Counter()
    statement = select(SourceRecord.errors).where(
        SourceRecord.feed_id == feed_id, SourceRecord.status == SourceStatus.QUARANTINED
    )
    result = ctx.session.connection().execution_options(yield_per=1000).execute(statement)
    for (errors,) in result:
        for name, messages in (errors or {}).items():
            for message in _messages(messages):
                counts[f"{name}: {message}"] += 1
    shown = [f"{reason} ({n})" for reason, n in counts.most_common(REJECT_REASONS_SHOWN)]
    text = "; ".join(shown)
    return text if ctx.masker.full else mask_personal_text(text)


def _messages(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    return [str(value)]
