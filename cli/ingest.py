"""``credithub ingest ...``: run feeds now, list runs, replay the quarantine."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.runtime import runtime
from core.models import Feed, IngestRun

_COLUMNS = ("fetched", "accepted", "duplicate", "updated", "quarantined", "linked", "new_entities")


@click.group("ingest")
def ingest_group() -> None:
    """Ingest departmental feeds."""


@ingest_group.command("run")
@click.argument("feed_codes", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every enabled pullable feed.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def ingest_run(feed_codes: tuple[str, ...], run_all: bool, quiet: bool) -> None:
    """Run FEED_CODES now (or --all), with a progress bar and a summary table.

    Exits 1 when any run failed; the failed run keeps every batch stored before the failure.
    """
    from tqdm import tqdm

    from ingest.auto_training import policy_of
    from ingest.leases import FeedBusy
    from ingest.runner import NotPullable, UnknownFeed, run_feed

    factory = runtime().session_factory
    if run_all:
        with factory() as session:
            feeds = session.scalars(select(Feed).where(Feed.enabled.is_(True)).order_by(Feed.code))
            feed_codes = tuple(f.code for f in feeds if f.adapter.value != "push")
    if not feed_codes:
        raise click.UsageError("name at least one feed, or --all")
    rows, failed = [], False
    for code in feed_codes:
        bar = tqdm(desc=code, unit=" rec", disable=quiet, leave=False)
        try:
            summary = run_feed(
                session_factory=factory,
                feed_code=code,
                on_batch=lambda counts, bar=bar: bar.update(counts.fetched),
                value_rules=runtime().rules.values,
                training=policy_of(runtime().config),
            )
        except (UnknownFeed, NotPullable, FeedBusy) as exc:
            bar.close()
            rows.append((code, "skipped", *([""] * len(_COLUMNS)), str(exc)))
            failed = True
            continue
        bar.close()
        counts = summary.counts.as_dict()
        # Files set aside do not fail the run; they are listed with their reasons.
        notes = [f"set aside {name}: {reason}" for name, reason in summary.set_aside]
        error = "; ".join([*([summary.error] if summary.error else []), *notes])
        rows.append((code, summary.status.value, *(str(counts[c]) for c in _COLUMNS), error))
        failed = failed or summary.error is not None
    _print_table(("feed", "status", *_COLUMNS, "error"), rows)
    if failed:
        raise SystemExit(1)


@ingest_group.command("replay")
@click.argument("feed_codes", nargs=-1, required=True)
@with_appcontext
def ingest_replay(feed_codes: tuple[str, ...]) -> None:
    """Re-validate FEED_CODES' quarantined records with the current mapping (after a fix)."""
    from ingest.runner import UnknownFeed, replay_feed

    rows = []
    for code in feed_codes:
        try:
            summary = replay_feed(
                session_factory=runtime().session_factory,
                feed_code=code,
                value_rules=runtime().rules.values,
            )
        except UnknownFeed as exc:
            raise click.ClickException(str(exc)) from exc
        counts = summary.counts.as_dict()
        rows.append((code, summary.status.value, *(str(counts[c]) for c in _COLUMNS), ""))
    _print_table(("feed", "status", *_COLUMNS, "error"), rows)


@ingest_group.command("runs")
@click.option("--feed", "feed_code", help="Only this feed.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@with_appcontext
def ingest_runs(feed_code: str | None, limit: int) -> None:
    """Show recent ingest runs with their counts and errors."""
    with runtime().session_factory() as session:
        query = select(IngestRun, Feed.code).join(Feed).order_by(IngestRun.id.desc()).limit(limit)
        if feed_code:
            query = query.where(Feed.code == feed_code)
        rows = [
            (
                str(run.id),
                code,
                run.status.value,
                run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                *(str(getattr(run, c)) for c in _COLUMNS),
                run.error or "",
            )
            for run, code in session.execute(query)
        ]
    _print_table(("run", "feed", "status", "started (UTC)", *_COLUMNS, "error"), rows)


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    for line in (header, tuple("-" * w for w in widths), *rows):
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)
            ).rstrip()
        )


@click.command("scheduler")
@click.option("--run-for", type=float, default=None, help="Stop after this many seconds.")
@click.option("--first-now", is_flag=True, help="Run every feed once at start-up too.")
@with_appcontext
def scheduler_command(run_for: float | None, first_now: bool) -> None:
    """Run every enabled feed on its catalogue schedule until stopped (Ctrl-C)."""
    import time

    from apscheduler.schedulers.background import BackgroundScheduler

    from ingest.auto_training import policy_of
    from ingest.scheduler import add_feed_jobs, watch_lag

    scheduler = BackgroundScheduler()
    watch_lag(scheduler)
    codes = add_feed_jobs(
        scheduler,
        session_factory=runtime().session_factory,
        value_rules=runtime().rules.values,
        training=policy_of(runtime().config),
    )
    click.echo(f"scheduling {len(codes)} feeds: {', '.join(codes) or '-'}")
    scheduler.start()
    if first_now:
        for job in scheduler.get_jobs():
            job.modify(next_run_time=None if job.next_run_time is None else _now())
    started = time.monotonic()
    try:
        while run_for is None or time.monotonic() - started < run_for:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)


def _now() -> datetime:
    return datetime.now(UTC)
