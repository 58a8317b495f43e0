"""Scheduling: schedules parse, and two real scheduler processes never run a feed at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from core.models import AdapterKind, Feed, IngestRun, RecordCategory
from ingest.scheduler import ScheduleError, parse_schedule


def test_schedules_parse() -> None:
    assert isinstance(parse_schedule("interval:900"), IntervalTrigger)
    assert isinstance(parse_schedule("cron:30 2 * * 1"), CronTrigger)


@pytest.mark.parametrize("bad", ["interval:0", "interval:soon", "cron:99 * * * *", "weekly"])
def test_bad_schedules_are_named(bad: str) -> None:
    with pytest.raises(ScheduleError, match="bad schedule"):
        parse_schedule(bad)


def test_two_scheduler_processes_never_run_the_same_feed_at_once(
    database_url: str,
    tmp_path: Path,
    httpserver: HTTPServer,
    penalty_feed: Callable[..., Feed],
    session_factory: sessionmaker[Session],
) -> None:
    def slow_page(request: Request) -> Response:
        time.sleep(0.4)  # a run takes a while, so two schedulers would overlap without a lease
        token = int(request.args.get("page_token", "0"))
        items = [
            {
                "case_number": f"c{token}-{i}",
                "name": f"公司{i}",
                "court": "法院",
                "listed_on": "2026-01-01",
                "updated_at": "2026-01-01T00:00:00Z",
            }
            for i in range(2)
        ]
        nxt = str(token + 1) if token < 2 else None
        return Response(
            json.dumps({"items": items, "next_page_token": nxt}), content_type="application/json"
        )

    httpserver.expect_request("/feed").respond_with_handler(slow_page)
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.HTTP_PULL,
        adapter_settings={"url": httpserver.url_for("/feed"), "max_retries": 0},
        field_mapping={
            "source_key": "case_number",
            "fields": {"party_name": "name", "authority_name": "court"},
            "constants": {"list_name": "失信被执行人名单"},
        },
        schedule="interval:1",
    )
    env = {
        **os.environ,
        "CREDITHUB_DATABASE_URL": database_url,
        "CREDITHUB_INSTANCE_PATH": str(tmp_path / "inst"),
        "CREDITHUB_LOG_LEVEL": "INFO",
    }
    script = Path(sys.executable).parent / "credithub"
    command = [str(script), "scheduler", "--run-for", "6", "--first-now"]
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs

    with session_factory() as session:
        runs = session.scalars(select(IngestRun).order_by(IngestRun.started_at)).all()
    assert len(runs) >= 2, outputs
    for earlier, later in pairwise(runs):
        assert earlier.finished_at is not None
        assert later.started_at >= earlier.finished_at, "two runs of one feed overlapped"
    assert any("skipping" in out for out in outputs), outputs


def test_a_late_job_start_is_recorded_as_scheduler_lag() -> None:
    from datetime import UTC, datetime, timedelta

    from apscheduler.schedulers.background import BackgroundScheduler

    from core.metrics import instruments
    from ingest.scheduler import watch_lag

    lag = instruments().scheduler_lag_seconds.labels("feed:lagtest")
    before_count, before_sum = _histogram(lag)
    scheduler = BackgroundScheduler()
    watch_lag(scheduler)
    # A slot 42 s ago, as a scheduler that was busy or down finds it (within the grace time).
    slot = datetime.now(UTC) - timedelta(seconds=42)
    scheduler.add_job(
        lambda: None, "date", run_date=slot, id="feed:lagtest", misfire_grace_time=3600
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while _histogram(lag)[0] == before_count and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    count, total = _histogram(lag)
    assert count - before_count == 1
    assert 42 <= total - before_sum < 60


def _histogram(child: object) -> tuple[float, float]:
    samples = {s.name: s.value for m in child.collect() for s in m.samples}  # type: ignore[attr-defined]
    return (
        samples["credithub_scheduler_lag_seconds_count"],
        samples["credithub_scheduler_lag_seconds_sum"],
    )
