"""Two feeds ingested at the same time into one database, each run in its own thread with its
own sessions (as the scheduler runs feeds, and as two processes would): every record is
accounted for, none is stored twice, no batch fails on a deadlock or a unique key, and two
departments' records about the same companies end on one entity per company."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from core.models import (
    CreditRecord,
    Entity,
    EntityIdentifier,
    Feed,
    IdentifierType,
    IngestRunStatus,
    OutboxEvent,
    SourceRecord,
    SourceStatus,
)
from ingest.runner import RunSummary, run_feed
from matching.org_codes import org_code_check_char
from tests.ingest.conftest import assert_balanced, penalty_row, write_penalties

COMPANIES = 30
ROWS = 240  # per feed
BAD_EVERY = 8  # every 8th row is dated in the future: quarantined, not stored as a record


def company_code(n: int) -> str:
    body = f"{n + 1:08d}"
    base = f"91110000{body}{org_code_check_char(body)}"
    return base + uscc.calc_check_digit(base)


def feed_rows(prefix: str) -> list[str]:
    """``ROWS`` penalties of one department about the same ``COMPANIES`` companies the other
    feed names, each under its own decision number."""
    return [
        penalty_row(
            CF_XDR_MC=f"并行{i % COMPANIES}科技有限公司",
            CF_XDR_SHXYM=company_code(i % COMPANIES),
            CF_XZCFJDSWH=f"{prefix}罚〔2026〕{i}号",
            CF_JDRQ="2099-01-01" if i % BAD_EVERY == 0 else f"2025-{i % 12 + 1:02d}-01",
        )
        for i in range(ROWS)
    ]


def run_together(session_factory: sessionmaker[Session], codes: list[str]) -> dict[str, RunSummary]:
    """Run the feeds at once, one thread each, started together; re-raises a thread's error."""
    start = threading.Barrier(len(codes))
    summaries: dict[str, RunSummary] = {}
    errors: list[BaseException] = []

    def one(code: str) -> None:
        try:
            start.wait(timeout=30)
            summaries[code] = run_feed(session_factory=session_factory, feed_code=code)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]
    return summaries


def count(session: Session, *columns: object, where: tuple[object, ...] = ()) -> int:
    query = select(func.count(*columns) if columns else func.count()).select_from(SourceRecord)
    return int(session.scalar(query.where(*where)) or 0)


def test_two_feeds_ingested_at_once_store_each_record_once_on_one_entity_per_company(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    tmp_path: Path,
) -> None:
    codes = ["env", "tax"]
    for code in codes:
        # Small batches, so the two runs' transactions interleave many times.
        penalty_feed(code=code, adapter_settings={"path": str(tmp_path / code), "chunk_size": 20})
        write_penalties(tmp_path / code / "p.csv", feed_rows(code))

    summaries = run_together(session_factory, codes)

    bad = len(range(0, ROWS, BAD_EVERY))
    for code in codes:
        summary = summaries[code]
        assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
        assert_balanced(summary)
        assert (summary.counts.fetched, summary.counts.quarantined) == (ROWS, bad)
        assert summary.counts.accepted == ROWS - bad
    with session_factory() as session:
        stored = session.execute(
            select(SourceRecord.feed_id, SourceRecord.source_key, func.count()).group_by(
                SourceRecord.feed_id, SourceRecord.source_key
            )
        ).all()
        assert len(stored) == 2 * ROWS
        assert {n for *_key, n in stored} == {1}  # no record stored twice
        quarantined = SourceRecord.status == SourceStatus.QUARANTINED
        assert count(session, where=(quarantined,)) == 2 * bad
        credits = session.scalar(select(func.count(func.distinct(CreditRecord.source_record_id))))
        assert credits == 2 * (ROWS - bad)
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == credits
        events = session.scalar(select(func.count()).select_from(OutboxEvent))
        assert events == credits  # one record.created each
        # Each company is one entity, whichever feed saw it first.
        holders = session.execute(
            select(EntityIdentifier.value, func.count(func.distinct(Entity.id)))
            .join(Entity, Entity.id == EntityIdentifier.entity_id)
            .where(
                EntityIdentifier.id_type == IdentifierType.USCC,
                Entity.merged_into_id.is_(None),
            )
            .group_by(EntityIdentifier.value)
        ).all()
        assert dict(holders) == {company_code(n): 1 for n in range(COMPANIES)}
        survivors = select(func.count()).select_from(Entity).where(Entity.merged_into_id.is_(None))
        assert session.scalar(survivors) == COMPANIES
        # Not even for a while: no entity was made twice and merged back by a later record.
        assert session.scalar(select(func.count()).select_from(Entity)) == COMPANIES

    again = run_together(session_factory, codes)  # nothing new: each file is known
    assert {code: s.counts.fetched for code, s in again.items()} == {"env": 0, "tax": 0}
