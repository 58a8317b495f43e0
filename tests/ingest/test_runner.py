"""The runner: the process-wide settings a feed run changes and gives back, and the run
history, which never keeps a run "running" that no process runs."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import ingest.runner
from core.models import Feed, FeedLease, IngestRun, IngestRunStatus, SourceRecord
from ingest.pipeline.outcomes import Counts
from ingest.runner import INTERRUPTED, RUN_GC_THRESHOLD, relaxed_gc, run_feed
from tests.ingest.conftest import penalty_row, write_penalties


def test_a_run_relaxes_the_collector_and_restores_it_afterwards(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    tmp_path: Path,
) -> None:
    penalty_feed()
    write_penalties(tmp_path / "drop" / "a.csv", [penalty_row()])
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    during: list[tuple[int, int, int]] = []

    def on_batch(_counts: Counts) -> None:
        during.append(gc.get_threshold())

    summary = run_feed(session_factory=session_factory, feed_code="env", on_batch=on_batch)

    assert summary.counts.accepted == 1
    assert during == [(max(RUN_GC_THRESHOLD, before[0]), *before[1:])]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_overlapping_runs_restore_the_collector_only_when_the_last_one_ends() -> None:
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    with relaxed_gc():
        relaxed = gc.get_threshold()
        assert relaxed[0] >= RUN_GC_THRESHOLD
        assert gc.get_freeze_count() > frozen_before
        with relaxed_gc():
            pass
        # The inner run ended first: the outer one still runs relaxed.
        assert gc.get_threshold() == relaxed
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_a_run_that_raises_restores_the_collector() -> None:
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), relaxed_gc():
        raise RuntimeError("source failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_a_run_left_running_by_a_killed_process_is_closed_as_interrupted(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    tmp_path: Path,
) -> None:
    feed = penalty_feed()
    write_penalties(tmp_path / "drop" / "a.csv", [penalty_row()])
    with session_factory() as session:
        session.add(IngestRun(feed_id=feed.id, trigger="schedule", fetched=7, accepted=7))
        session.commit()

    summary = run_feed(session_factory=session_factory, feed_code="env")

    with session_factory() as session:
        runs = session.scalars(select(IngestRun).order_by(IngestRun.id)).all()
        assert [(r.status, r.error, r.accepted) for r in runs] == [
            (IngestRunStatus.FAILED, INTERRUPTED, 7),
            (IngestRunStatus.SUCCEEDED, None, 1),
        ]
        assert runs[0].finished_at is not None
    assert summary.run_id == runs[1].id


def test_an_unexpected_error_fails_the_run_releases_the_feed_and_is_raised(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    penalty_feed()
    write_penalties(tmp_path / "drop" / "a.csv", [penalty_row()])

    def broken(**_kwargs: object) -> Counts:
        raise RuntimeError("a bug in storing")

    monkeypatch.setattr(ingest.runner, "store_batch", broken)
    with pytest.raises(RuntimeError, match="a bug in storing"):
        run_feed(session_factory=session_factory, feed_code="env")

    with session_factory() as session:
        run = session.scalars(select(IngestRun)).one()
        assert run.status is IngestRunStatus.FAILED
        assert run.error == "unexpected error: RuntimeError('a bug in storing')"
        assert session.scalars(select(FeedLease.holder)).one() is None


def test_a_run_that_lost_its_lease_stores_no_further_batch(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    tmp_path: Path,
) -> None:
    """Its lease expired (a batch longer than the TTL) and another process took the feed:
    the batch in hand is rolled back, not stored beside the new holder's."""
    feed = penalty_feed(adapter_settings={"path": str(tmp_path / "drop"), "chunk_size": 1})
    rows = [penalty_row(CF_XZCFJDSWH=f"京环罚〔2026〕{n}号") for n in (1, 2, 3)]
    write_penalties(tmp_path / "drop" / "a.csv", rows)

    def taken_over(_counts: Counts) -> None:
        with session_factory() as session:
            session.get_one(FeedLease, feed.id).holder = "other-host:1"
            session.commit()

    summary = run_feed(session_factory=session_factory, feed_code="env", on_batch=taken_over)

    assert summary.status is IngestRunStatus.FAILED
    assert summary.error is not None and summary.error.startswith("the feed's lease expired")
    assert (summary.counts.fetched, summary.counts.accepted) == (1, 1)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SourceRecord)) == 1
        assert session.scalars(select(IngestRun.accepted)).one() == 1
        assert session.scalars(select(FeedLease.holder)).one() == "other-host:1"
