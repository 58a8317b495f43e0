"""The runner's process-wide settings: what a feed run changes, it gives back."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.models import Feed
from ingest.pipeline import Counts
from ingest.runner import RUN_GC_THRESHOLD, relaxed_gc, run_feed
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
