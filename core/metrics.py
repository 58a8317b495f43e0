"""The service's Prometheus instruments (prometheus-client), kept free of Flask so ingest and
the scheduler record into the same ones as the web layer.

Instruments are made on first use (:func:`instruments`), not at import: prometheus-client
chooses between in-memory values and its multiprocess files when an instrument is made, and
``credithub serve`` under gunicorn turns multiprocess mode on (:func:`use_multiprocess_dir`)
after this module was imported but before any worker records anything.

Labels carry no personal data and stay bounded: a Flask endpoint name (never a path or query
string), an HTTP method and status, a feed code from the catalogue, a scheduler job id.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from sqlalchemy import Engine, event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Requests: most answer in milliseconds, a report or a batch push in seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Feed runs: a push of a few records to a file drop of a million.
RUN_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
# Scheduler lag: on time is well under a second; minutes late means the scheduler is starved.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0)
RUN_OUTCOMES = ("accepted", "duplicate", "updated", "quarantined")


@dataclass(frozen=True)
class Instruments:
    requests: Counter
    request_seconds: Histogram
    ingest_runs: Counter
    ingest_records: Counter
    ingest_run_seconds: Histogram
    scheduler_lag_seconds: Histogram
    pool_checked_out: Gauge
    pool_size: Gauge


_lock = threading.Lock()
_instruments: Instruments | None = None


def instruments() -> Instruments:
    """The process's instruments, made (and registered in the default registry) once."""
    global _instruments
    with _lock:
        if _instruments is None:
            # A *_created sample per label set doubles the series for nothing a graph uses.
            disable_created_metrics()  # type: ignore[no-untyped-call]
            _instruments = _make_instruments()
        return _instruments


def _make_instruments() -> Instruments:
    return Instruments(
        requests=Counter(
            "credithub_http_requests",
            "HTTP requests answered, by Flask endpoint, method and status.",
            ["endpoint", "method", "status"],
        ),
        request_seconds=Histogram(
            "credithub_http_request_duration_seconds",
            "Time to answer an HTTP request, by Flask endpoint, method and status.",
            ["endpoint", "method", "status"],
            buckets=REQUEST_BUCKETS,
        ),
        ingest_runs=Counter(
            "credithub_ingest_runs",
            "Feed runs finished, by feed, trigger and status.",
            ["feed", "trigger", "status"],
        ),
        ingest_records=Counter(
            "credithub_ingest_records",
            "Records of finished feed runs, by feed and outcome (quarantined among them).",
            ["feed", "outcome"],
        ),
        ingest_run_seconds=Histogram(
            "credithub_ingest_run_duration_seconds",
            "Duration of finished feed runs, by feed.",
            ["feed"],
            buckets=RUN_BUCKETS,
        ),
        scheduler_lag_seconds=Histogram(
            "credithub_scheduler_lag_seconds",
            "How late scheduled jobs start after their scheduled time, by job.",
            ["job"],
            buckets=LAG_BUCKETS,
        ),
        # livesum: across gunicorn workers the sum of the live ones (a dead worker's pool is gone).
        pool_checked_out=Gauge(
            "credithub_db_pool_checked_out",
            "Database connections in use (checked out of the pool), summed over live processes.",
            multiprocess_mode="livesum",
        ),
        pool_size=Gauge(
            "credithub_db_pool_size",
            "Size of the database connection pool, summed over live processes.",
            multiprocess_mode="livesum",
        ),
    )


def use_multiprocess_dir(directory: Path) -> None:
    """Record into prometheus-client's files in ``directory`` (several processes, one scrape).

    Call before any instrument is made (before forking workers). prometheus-client reads
    ``PROMETHEUS_MULTIPROC_DIR`` when it is imported; this process imported it already, so its
    value class is switched here too (``values.ValueClass``, the attribute it reads when an
    instrument is made). Raises ``RuntimeError`` when instruments exist already."""
    with _lock:
        if _instruments is not None:
            raise RuntimeError("metrics instruments exist already; set the directory first")
        os.environ[MULTIPROC_ENV] = str(directory)
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def multiprocess_dir() -> Path | None:
    found = os.environ.get(MULTIPROC_ENV)
    return Path(found) if found else None


def mark_process_dead(pid: int) -> None:
    """Drop a finished process's live gauges (run in the gunicorn master when a worker exits)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def exposition(*collectors: Any) -> bytes:
    """The text exposition: every process's instruments (multiprocess mode) or this one's, and
    ``collectors`` (figures computed at scrape time)."""
    instruments()  # every family appears from the first scrape, with no samples yet
    from prometheus_client import REGISTRY

    if multiprocess_dir() is not None:
        recorded = CollectorRegistry()
        multiprocess.MultiProcessCollector(recorded)  # type: ignore[no-untyped-call]
    else:
        recorded = REGISTRY
    extra = CollectorRegistry()
    for collector in collectors:
        extra.register(collector)
    return generate_latest(recorded) + generate_latest(extra)


def observe_request(*, endpoint: str, method: str, status: int, seconds: float) -> None:
    found = instruments()
    labels = (endpoint, method, str(status))
    found.requests.labels(*labels).inc()
    found.request_seconds.labels(*labels).observe(seconds)


def observe_ingest_run(
    *, feed: str, trigger: str, status: str, counts: dict[str, int], seconds: float
) -> None:
    """One finished feed run: its status, its records by outcome and its duration."""
    found = instruments()
    found.ingest_runs.labels(feed, trigger, status).inc()
    for outcome in RUN_OUTCOMES:
        found.ingest_records.labels(feed, outcome).inc(counts.get(outcome, 0))
    found.ingest_run_seconds.labels(feed).observe(seconds)


def observe_scheduler_lag(*, job: str, seconds: float) -> None:
    instruments().scheduler_lag_seconds.labels(job).observe(max(seconds, 0.0))


def watch_pool(engine: Engine) -> None:
    """Count ``engine``'s checked-out connections as they come and go (pool events), so the
    gauge sums every worker's pool, not only the one process answering the scrape.

    The instruments are looked up at each event, not now: the app (and its engine) exists
    before ``credithub serve`` chooses multiprocess mode."""

    @event.listens_for(engine, "checkout")
    def _checkout(*_args: Any) -> None:
        found = instruments()
        found.pool_checked_out.inc()
        # The pool is read at each event: Engine.dispose() (after a fork) replaces it; the
        # size is set on use, since a gunicorn worker's gauge starts at nothing.
        size = getattr(engine.pool, "size", None)
        if callable(size):
            found.pool_size.set(size())

    @event.listens_for(engine, "checkin")
    def _checkin(*_args: Any) -> None:
        instruments().pool_checked_out.dec()
