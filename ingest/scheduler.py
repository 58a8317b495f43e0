"""APScheduler jobs: every enabled, pulled feed runs on its catalogue schedule.

Schedules are written ``interval:SECONDS`` or ``cron:MIN HOUR DOM MON DOW``. Misfires are
coalesced (a scheduler that was down runs a feed once, not once per missed slot), and a job
never overlaps itself in one process (``max_instances=1``). Across processes the feed lease
(``ingest.leases``) keeps two schedulers on the same database from running a feed at once:
the second one logs that the feed is busy and skips that slot.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.metrics import observe_scheduler_lag
from core.models import AdapterKind, Feed
from core.rules.settings import ValueRules
from ingest.auto_training import TrainingPolicy, train_if_due
from ingest.leases import FeedBusy
from ingest.runner import run_feed

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
# How often the scheduler checks whether the matcher's model is due for training (seconds).
TRAINING_INTERVAL = 3600


class ScheduleError(ValueError):
    """A feed's schedule cannot be read; the message names the feed and the schedule."""


def parse_schedule(schedule: str, *, timezone: str = "Asia/Shanghai") -> BaseTrigger:
    """The trigger for ``interval:SECONDS`` or ``cron:<crontab>``; raises ``ScheduleError``.

    Cron schedules are read in China Standard Time: departments publish their update times
    in local time.
    """
    kind, _, spec = schedule.partition(":")
    try:
        if kind == "interval":
            seconds = int(spec)
            if seconds < 1:
                raise ValueError("interval must be at least 1 second")
            return IntervalTrigger(seconds=seconds)
        if kind == "cron":
            return CronTrigger.from_crontab(spec.strip(), timezone=timezone)
    except ValueError as exc:
        raise ScheduleError(f"bad schedule {schedule!r}: {exc}") from exc
    raise ScheduleError(f"bad schedule {schedule!r}: use interval:SECONDS or cron:<crontab>")


def scheduled_run(
    session_factory: sessionmaker[Session],
    feed_code: str,
    value_rules: ValueRules | None = None,
    training: TrainingPolicy | None = None,
) -> None:
    """One scheduled slot of a feed; a feed busy elsewhere is skipped, not queued."""
    try:
        summary = run_feed(
            session_factory=session_factory,
            feed_code=feed_code,
            trigger="schedule",
            value_rules=value_rules,
            training=training,
        )
    except FeedBusy as exc:
        log.info("skipping %s this slot: %s", feed_code, exc)
        return
    log.info(
        "feed %s run %s %s: %s",
        feed_code,
        summary.run_id,
        summary.status.value,
        summary.counts.as_dict(),
    )


def scheduled_training(session_factory: sessionmaker[Session], policy: TrainingPolicy) -> None:
    """The ``matching:train`` job: train the matcher's model when due (a service fed by
    pushes alone has no feed run to do it after), or finish an interrupted relink."""
    try:
        train_if_due(session_factory, policy)
    except Exception:
        log.exception("training the matching model failed")


def add_feed_jobs(
    scheduler: BaseScheduler,
    *,
    session_factory: sessionmaker[Session],
    value_rules: ValueRules | None = None,
    training: TrainingPolicy | None = None,
) -> list[str]:
    """Add a job per enabled, scheduled, pulled feed; returns the feed codes scheduled.
    ``training``: each feed run trains the matcher's model when this policy says so, and the
    job ``matching:train`` checks every :data:`TRAINING_INTERVAL` seconds.

    A feed with an unreadable schedule is logged and left out rather than stopping the others.
    """
    if training is not None and training.enabled:
        scheduler.add_job(
            scheduled_training,
            IntervalTrigger(seconds=TRAINING_INTERVAL),
            args=(session_factory, training),
            id="matching:train",
            name="train the matching model when due",
            replace_existing=True,
            **JOB_DEFAULTS,
        )
    with session_factory() as session:
        feeds = session.scalars(
            select(Feed).where(Feed.enabled.is_(True), Feed.schedule.is_not(None))
        ).all()
        plans = [(f.code, f.schedule) for f in feeds if f.adapter is not AdapterKind.PUSH]
    scheduled = []
    for code, schedule in plans:
        try:
            trigger = parse_schedule(str(schedule))
        except ScheduleError as exc:
            log.error("feed %s not scheduled: %s", code, exc)
            continue
        options: dict[str, Any] = {"id": f"feed:{code}", "name": f"ingest {code}", **JOB_DEFAULTS}
        scheduler.add_job(
            scheduled_run,
            trigger,
            args=(session_factory, code, value_rules, training),
            replace_existing=True,
            **options,
        )
        scheduled.append(code)
    return scheduled


def watch_lag(scheduler: BaseScheduler) -> None:
    """Record how late each job starts (``credithub_scheduler_lag_seconds``): the time from
    its scheduled run time to its submission to the executor. A coalesced misfire counts
    from the latest slot it stands for."""

    def submitted(event: JobSubmissionEvent) -> None:
        if not event.scheduled_run_times:
            return
        latest = max(event.scheduled_run_times)
        lag = (datetime.now(latest.tzinfo) - latest).total_seconds()
        observe_scheduler_lag(job=str(event.job_id), seconds=lag)

    scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)
