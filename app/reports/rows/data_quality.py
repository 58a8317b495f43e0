"""The ``data-quality`` report: one row per catalogued feed with its runs, volumes, rejects
(and their most frequent reasons), stored and linked records, last success and freshness
against its update cycle, and quarantine backlog. It describes feeds, not parties: every feed
counts, whatever the caller may see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.ingest_api.services import SetAsideFile, files_set_aside
from app.reports.filters import ReportFilters
from app.reports.rows.context import Chunk, ReportContext, Row, chunked, time_clauses
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
SHARED_NUMBERS_SHOWN = 5


def data_quality_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    feeds = select(Feed, Department.code).join(Department, Feed.department_id == Department.id)
    if ctx.department_id is not None:
        feeds = feeds.where(Feed.department_id == ctx.department_id)
    if f.category is not None:
        feeds = feeds.where(Feed.record_category == f.category)
    feed_rows = list(ctx.session.execute(feeds.order_by(Feed.code)))
    figures = _FeedFigures.load(ctx.session, f)
    rows = [_feed_row(ctx, feed, department_code, figures) for feed, department_code in feed_rows]
    yield from chunked(rows, ctx.chunk_size)


@dataclass
class _FeedFigures:
    """Every feed's figures by feed id, each kind read for all feeds in one query (not one
    query per feed)."""

    runs: dict[int, Row]
    last_success: dict[int, datetime | None]
    stored: dict[int, tuple[int, int]]
    quarantine: dict[int, tuple[int, datetime | None]]
    shared_numbers: dict[int, list[tuple[str, int]]]
    set_aside: dict[int, list[SetAsideFile]]

    @classmethod
    def load(cls, session: Session, filters: ReportFilters) -> _FeedFigures:
        return cls(
            runs=_run_totals(session, filters),
            last_success=_last_successes(session),
            stored=_stored_records(session),
            quarantine=_quarantine_backlogs(session),
            shared_numbers=_shared_decision_numbers(session),
            set_aside=files_set_aside(session=session),
        )


def _run_totals(session: Session, filters: ReportFilters) -> dict[int, Row]:
    """feed id -> (runs, failed runs, fetched, accepted, duplicate, updated, quarantined) of
    the runs started between ``from`` and ``to``."""
    failed = case((IngestRun.status == IngestRunStatus.FAILED, 1), else_=0)
    statement = (
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
        .where(*time_clauses(IngestRun.started_at, filters))
        .group_by(IngestRun.feed_id)
    )
    return {row[0]: row[1:] for row in session.execute(statement)}


def _last_successes(session: Session) -> dict[int, datetime | None]:
    # Freshness is as of now: the last success of any date, whatever the date range.
    statement = (
        select(IngestRun.feed_id, func.max(IngestRun.finished_at))
        .where(IngestRun.status == IngestRunStatus.SUCCEEDED)
        .group_by(IngestRun.feed_id)
    )
    return dict(session.execute(statement).all())


def _stored_records(session: Session) -> dict[int, tuple[int, int]]:
    """feed id -> (credit records stored, those linked to an entity)."""
    statement = select(
        CreditRecord.feed_id,
        func.count(CreditRecord.id),
        func.count(CreditRecord.entity_id),
    ).group_by(CreditRecord.feed_id)
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in session.execute(statement)}


def _quarantine_backlogs(session: Session) -> dict[int, tuple[int, datetime | None]]:
    """feed id -> (records in quarantine, when the oldest of them arrived)."""
    statement = (
        select(
            SourceRecord.feed_id,
            func.count(SourceRecord.id),
            func.min(SourceRecord.received_at),
        )
        .where(SourceRecord.status == SourceStatus.QUARANTINED)
        .group_by(SourceRecord.feed_id)
    )
    return {row[0]: (int(row[1]), row[2]) for row in session.execute(statement)}


def _shared_decision_numbers(session: Session) -> dict[int, list[tuple[str, int]]]:
    """feed id -> (decision number, parties) for each number the feed's credit records give
    to more than one entity. Records are keyed by source id, so such records stay apart (two
    parties of one decision, or a department's typo): flagged here for the department to
    check, never merged."""
    parties = func.count(func.distinct(CreditRecord.entity_id))
    statement = (
        select(CreditRecord.feed_id, CreditRecord.decision_number, parties)
        .where(CreditRecord.decision_number.is_not(None), CreditRecord.entity_id.is_not(None))
        .group_by(CreditRecord.feed_id, CreditRecord.decision_number)
        .having(parties > 1)
        .order_by(CreditRecord.feed_id, CreditRecord.decision_number)
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for feed_id, number, count in session.execute(statement):
        found.setdefault(feed_id, []).append((number, int(count)))
    return found


def _feed_row(ctx: ReportContext, feed: Feed, department_code: str, figures: _FeedFigures) -> Row:
    n_runs, n_failed, fetched, accepted, duplicate, updated, rejected = (
        int(v or 0) for v in figures.runs.get(feed.id, (0, 0, 0, 0, 0, 0, 0))
    )
    records, linked = figures.stored.get(feed.id, (0, 0))
    backlog, oldest = figures.quarantine.get(feed.id, (0, None))
    success = figures.last_success.get(feed.id)
    if success is not None:
        success = _utc_seconds(success)
    cycle = CYCLE_DAYS.get((feed.update_cycle or "").strip().lower())
    age, freshness = _freshness(ctx.today, success, cycle)
    reasons = _reject_reasons(ctx, feed.id) if backlog else ""
    shared = figures.shared_numbers.get(feed.id, [])
    set_aside = figures.set_aside.get(feed.id, [])
    examples = "; ".join(f"{n} ({p})" for n, p in shared[:SHARED_NUMBERS_SHOWN])
    set_aside_text = "; ".join(f"{f.name}: {f.reason}" for f in set_aside)
    return (
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
        len(shared),
        examples if ctx.masker.full else mask_personal_text(examples),
        len(set_aside),
        set_aside_text if ctx.masker.full else mask_personal_text(set_aside_text),
    )


def _freshness(today: date, success: datetime | None, cycle: int | None) -> tuple[int | None, str]:
    """(days since the last success, fresh / stale / never run / unknown cycle)."""
    if success is None:
        return None, "never run"
    # A fixed CREDITHUB_TODAY before the last run would make the age negative.
    age = max((today - success.date()).days, 0)
    if cycle is None:
        return age, "unknown cycle"
    return age, "stale" if age > cycle else "fresh"


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
