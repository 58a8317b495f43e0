"""Running a feed: lease, adapter, one transaction per batch, the run's record.

Each batch is stored with its counts, the feed's new watermark and its file receipt in one
transaction. Killing the process at any point therefore leaves the database as it was after
the last committed batch; running again fetches the rest, and anything fetched twice is a
duplicate, so the end state equals an uninterrupted run.

A pushed feed is not run but fed, one request at a time: :func:`run_push` stores a request's
items as one run inside the request's transaction (nothing to resume, so no lease).
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import UnitOfWork
from core.metrics import observe_ingest_run
from core.models import AdapterKind, Feed, IngestedFile, IngestRun, IngestRunStatus, utcnow
from core.rules.settings import ValueRules
from ingest import leases
from ingest.adapters import exchange_db, file_drop, http_pull, push
from ingest.adapters.base import Batch, FetchError
from ingest.adapters.environment import expand_environment, redact, referenced_values
from ingest.auto_training import TrainingPolicy, train_if_due
from ingest.pipeline.outcomes import Counts, ItemOutcome
from ingest.pipeline.replay import replay_quarantine
from ingest.pipeline.store import store_batch

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(minutes=30)
# Young-generation threshold while a feed runs (CPython's default is 700). A batch keeps
# hundreds of thousands of objects alive (records, plans, entity views), so with the default
# the collector re-examined them thousands of times per batch and ran a dozen full
# collections per 20,000 records: about 2 s of a 6 s run, for a heap whose garbage is almost
# all freed by reference counting anyway. Peak memory did not change.
RUN_GC_THRESHOLD = 100_000


class _RelaxedGc:
    """Collector settings for the duration of feed runs, restored when the last run in the
    process ends (the scheduler may run feeds on several threads at once; the collector's
    settings are the process's).

    ``gc.freeze()`` moves everything alive when the first run starts (modules, the matcher's
    caches, the web app) out of the collector's sight, so the full collections a long run
    still makes do not walk them; ``gc.unfreeze()`` hands them back afterwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: tuple[int, int, int] | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._saved = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(max(RUN_GC_THRESHOLD, self._saved[0]), *self._saved[1:])
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._saved is not None:
                    gc.set_threshold(*self._saved)
                    gc.unfreeze()
                    self._saved = None


relaxed_gc = _RelaxedGc()


INTERRUPTED = "interrupted: the process running it stopped before the run ended"


class UnknownFeed(LookupError):
    pass


class NotPullable(ValueError):
    """Push feeds are fed by the API, not run."""


class NotPushed(ValueError):
    """Pulled feeds are run by CreditHub, not pushed to."""


class ForeignFeed(PermissionError):
    """A department pushes to its own feeds only."""


@dataclass
class RunSummary:
    run_id: int
    feed_code: str
    status: IngestRunStatus
    counts: Counts
    error: str | None
    # (file name, reason) of each file this run set aside unread (ingest.adapters.file_drop).
    set_aside: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PushSummary:
    run_id: int
    counts: Counts
    items: list[ItemOutcome]  # one per pushed item, in the request's order


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_feed(
    *,
    session_factory: sessionmaker[Session],
    feed_code: str,
    trigger: str = "manual",
    on_batch: Callable[[Counts], None] | None = None,
    value_rules: ValueRules | None = None,
    training: TrainingPolicy | None = None,
) -> RunSummary:
    """Run ``feed_code`` now, its values checked against ``value_rules`` (the rules file's).
    Raises :class:`UnknownFeed`, :class:`NotPullable`, or ``leases.FeedBusy`` when another
    process runs it; a source failure does not raise: the run ends ``failed`` with the error,
    after keeping every batch stored before it. A dropped file that cannot be read is set
    aside (``RunSummary.set_aside``) and the run goes on. ``training``: after the run (the
    feed's lease released), train the matcher's model when this policy says it is due
    (:func:`ingest.auto_training.train_if_due`; the CLI and the scheduler pass the config's;
    None: no check)."""
    with session_factory() as session:
        feed = session.scalars(select(Feed).where(Feed.code == feed_code)).one_or_none()
        if feed is None:
            raise UnknownFeed(f"no feed {feed_code!r} in the catalogue")
        if feed.adapter is AdapterKind.PUSH:
            raise NotPullable(f"feed {feed_code!r} is pushed through the API, not pulled")
        feed_id = feed.id
    holder = holder_name()
    leases.acquire(session_factory=session_factory, feed_id=feed_id, holder=holder, ttl=LEASE_TTL)
    try:
        with relaxed_gc():
            summary = _run_locked(
                session_factory, feed_id, feed_code, trigger, holder, on_batch, value_rules
            )
    finally:
        leases.release(session_factory=session_factory, feed_id=feed_id, holder=holder)
    if training is not None and training.enabled and summary.counts.accepted:
        _train_after_run(session_factory, training)
    return summary


def _train_after_run(session_factory: sessionmaker[Session], policy: TrainingPolicy) -> None:
    """Train the matcher's model if due; a failure is logged, never the run's failure (its
    records are stored and linked already)."""
    try:
        train_if_due(session_factory, policy)
    except Exception:
        log.exception("training the matching model after the run failed")


def _run_locked(
    session_factory: sessionmaker[Session],
    feed_id: int,
    feed_code: str,
    trigger: str,
    holder: str,
    on_batch: Callable[[Counts], None] | None,
    value_rules: ValueRules | None,
) -> RunSummary:
    with UnitOfWork(session_factory) as uow:
        # Holding the lease, no other process runs this feed: a run still "running" was cut
        # off (its process killed, its machine lost) and is closed as such. Its stored batches
        # and counts stay; this run carries on from its watermark.
        uow.session.execute(
            update(IngestRun)
            .where(IngestRun.feed_id == feed_id, IngestRun.status == IngestRunStatus.RUNNING)
            .values(status=IngestRunStatus.FAILED, error=INTERRUPTED, finished_at=utcnow())
        )
        run = IngestRun(feed_id=feed_id, trigger=trigger)
        uow.session.add(run)
        stored_settings = uow.session.get_one(Feed, feed_id).adapter_settings
        uow.commit()
        run_id = run.id
    secrets = referenced_values(stored_settings, environ=os.environ)

    started = time.perf_counter()
    total = Counts()
    error: str | None = None
    set_aside: list[tuple[str, str]] = []
    try:
        # Secrets and per-machine values are expanded here, in the running process, and
        # never stored (see ingest.adapters.environment); an unset one fails the run.
        settings = expand_environment(stored_settings, environ=os.environ)
        for batch in _batches(session_factory, feed_id, settings):
            if batch.set_aside is not None:
                # Stored and shown to the department, like a run's error.
                batch.set_aside = redact(batch.set_aside, secrets)
            with UnitOfWork(session_factory) as uow:
                feed = uow.session.get_one(Feed, feed_id)
                run = uow.session.get_one(IngestRun, run_id)
                counts = store_batch(
                    session=uow.session,
                    feed=feed,
                    run=run,
                    batch=batch,
                    value_rules=value_rules,
                )
                leases.renew(session=uow.session, feed_id=feed_id, holder=holder, ttl=LEASE_TTL)
                uow.commit()
            if batch.set_aside is not None and batch.receipt is not None:
                log.warning(
                    "feed %s set aside %s: %s", feed_code, batch.receipt.name, batch.set_aside
                )
                set_aside.append((batch.receipt.name, batch.set_aside))
            for name, value in counts.as_dict().items():
                setattr(total, name, getattr(total, name) + value)
            if on_batch is not None:
                on_batch(counts)
    except (FetchError, ValueError, leases.LeaseLost) as exc:
        error = redact(str(exc), secrets)
        log.warning("feed %s run %s failed: %s", feed_code, run_id, error)
    except Exception as exc:
        # A bug or a lost database: the run must not stay "running" in the history, and the
        # error goes on to the caller (the CLI's message, the scheduler's log).
        try:
            _close_run(
                session_factory,
                run_id,
                IngestRunStatus.FAILED,
                redact(f"unexpected error: {exc!r}", secrets),
            )
        except Exception:
            log.exception("feed %s run %s: could not record its failure", feed_code, run_id)
        _observe(feed_code, trigger, IngestRunStatus.FAILED, total, started)
        raise

    status = IngestRunStatus.FAILED if error else IngestRunStatus.SUCCEEDED
    _close_run(session_factory, run_id, status, error)
    _observe(feed_code, trigger, status, total, started)
    return RunSummary(run_id, feed_code, status, total, error, set_aside)


def _close_run(
    session_factory: sessionmaker[Session], run_id: int, status: IngestRunStatus, error: str | None
) -> None:
    with UnitOfWork(session_factory) as uow:
        _end_run(uow.session.get_one(IngestRun, run_id), status, error)
        uow.commit()


def _observe(
    feed_code: str, trigger: str, status: IngestRunStatus, counts: Counts, started: float
) -> None:
    """The finished run in the metrics (core.metrics): its status, records and duration."""
    observe_ingest_run(
        feed=feed_code,
        trigger=trigger,
        status=status.value,
        counts=counts.as_dict(),
        seconds=time.perf_counter() - started,
    )


def _end_run(run: IngestRun, status: IngestRunStatus, error: str | None) -> None:
    run.status, run.error, run.finished_at = status, error, utcnow()


def _batches(
    session_factory: sessionmaker[Session], feed_id: int, settings: dict[str, Any]
) -> Iterator[Batch]:
    """The adapter's batches, with ``settings`` (expanded). The watermark is read once: the
    adapter moves forward from where the last committed batch left the feed."""
    with session_factory() as session:
        feed = session.get_one(Feed, feed_id)
        adapter, watermark, fmt = feed.adapter, feed.watermark, feed.format
        # A file set aside is tried again when it changes (a new hash), or once the feed's
        # catalogue entry changed since (a declared encoding, a sheet named).
        changed_at = feed.updated_at
        processed = {
            (name, sha)
            for name, sha, reason, at in session.execute(
                select(
                    IngestedFile.name,
                    IngestedFile.sha256,
                    IngestedFile.set_aside_reason,
                    IngestedFile.processed_at,
                ).where(IngestedFile.feed_id == feed_id)
            )
            if reason is None or changed_at is None or at >= changed_at
        }
    if adapter is AdapterKind.FILE_DROP:
        yield from file_drop.fetch_batches(
            settings=file_drop.FileDropSettings.from_settings(settings, format=fmt),
            already_processed=lambda name, sha: (name, sha) in processed,
        )
    elif adapter is AdapterKind.HTTP_PULL:
        yield from http_pull.fetch_batches(
            settings=http_pull.HttpPullSettings.from_settings(settings), watermark=watermark
        )
    elif adapter is AdapterKind.EXCHANGE_DB:
        yield from exchange_db.fetch_batches(
            settings=exchange_db.ExchangeDbSettings.from_settings(settings), watermark=watermark
        )
    else:
        raise NotPullable(f"adapter {adapter} cannot be pulled")


def replay_feed(
    *,
    session_factory: sessionmaker[Session],
    feed_code: str,
    value_rules: ValueRules | None = None,
) -> RunSummary:
    """Re-validate the feed's quarantine as one run (trigger ``replay``), in one transaction."""
    started = time.perf_counter()
    with UnitOfWork(session_factory) as uow:
        feed = uow.session.scalars(select(Feed).where(Feed.code == feed_code)).one_or_none()
        if feed is None:
            raise UnknownFeed(f"no feed {feed_code!r} in the catalogue")
        run = IngestRun(feed_id=feed.id, trigger="replay")
        uow.session.add(run)
        uow.session.flush()
        counts = replay_quarantine(session=uow.session, feed=feed, run=run, value_rules=value_rules)
        _end_run(run, IngestRunStatus.SUCCEEDED, None)
        uow.commit()
        _observe(feed_code, "replay", run.status, counts, started)
        return RunSummary(run.id, feed_code, run.status, counts, None)


def run_push(
    *,
    session: Session,
    feed_code: str,
    department_id: int | None,
    sender: str,
    items: list[Any],
    value_rules: ValueRules | None = None,
) -> PushSummary:
    """Store ``items`` pushed by ``department_id`` for ``feed_code`` as one batch and one run
    (trigger ``push``), in ``session``'s transaction: never commits, so the caller stores the
    run, its records and whatever it records about the push together, or none of them.

    Idempotent on (feed, ``source_id``): the same item again is a duplicate, a changed one a
    new version; items that fail validation are quarantined and reported ``rejected``. Raises
    :class:`UnknownFeed`, :class:`NotPushed`, :class:`ForeignFeed` (``department_id`` None or
    another department's) or ``push.InvalidPush`` (no items or too many), in that order.
    """
    feed = session.scalar(select(Feed).where(Feed.code == feed_code))
    if feed is None:
        raise UnknownFeed(f"no feed {feed_code!r}")
    if feed.adapter is not AdapterKind.PUSH:
        raise NotPushed(f"feed {feed_code!r} is pulled by CreditHub, not pushed")
    if department_id is None or feed.department_id != department_id:
        raise ForeignFeed(f"feed {feed_code!r} belongs to another department")
    pushed = push.batch_from_items(items=items, sender=sender)
    started = time.perf_counter()

    run = IngestRun(feed_id=feed.id, trigger="push", status=IngestRunStatus.RUNNING)
    session.add(run)
    session.flush()
    outcomes: list[ItemOutcome] = []
    counts = store_batch(
        session=session,
        feed=feed,
        run=run,
        batch=pushed.batch,
        outcomes=outcomes,
        value_rules=value_rules,
    )
    _end_run(run, IngestRunStatus.SUCCEEDED, None)
    # Counted when stored; should the caller's transaction then fail, the metric still shows
    # the run (the metrics count work done, the database what was kept).
    _observe(feed_code, "push", run.status, counts, started)
    return PushSummary(run.id, counts, pushed.in_request_order(outcomes))
