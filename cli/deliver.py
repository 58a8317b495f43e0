"""``credithub deliver``: run the webhook delivery worker (``app/subscriptions/worker.py``)
once, or continuously with ``--every S``: it drains the outbox without pausing while there is
work and polls every ``S`` seconds once idle. ``credithub serve --with-scheduler`` runs the
same loop in a thread, polling every ``SERVE_POLL_SECONDS``."""

from __future__ import annotations

import threading

import click
from flask import Flask
from flask.cli import with_appcontext

from app.runtime import runtime, today
from app.subscriptions.worker import Poster, policy_from, run_loop, run_once

# Idle poll of the worker inside ``serve``: an event committed while the worker is idle waits
# at most this long for it (the lag target is p99 under 5 s, docs/credit-checks.md).
SERVE_POLL_SECONDS = 0.5


def deliver_step(app: Flask, poster: Poster | None = None) -> dict[str, int]:
    """One fan-out and delivery pass (until drained) for ``app``'s database and settings."""
    with app.app_context():
        return run_once(
            session_factory=runtime().session_factory,
            policy=policy_from(runtime().config),
            today=today(),
            grade_rules=runtime().rules.grade,
            poster=poster,
        )


def start_delivery_thread(
    app: Flask, *, poll_seconds: float = SERVE_POLL_SECONDS
) -> threading.Event:
    """The delivery loop in a daemon thread beside the server; set the returned event to stop
    it (a pass under way finishes first)."""
    stop = threading.Event()
    with app.app_context():
        policy = policy_from(runtime().config)
    thread = threading.Thread(
        target=run_loop,
        args=(lambda poster: deliver_step(app, poster),),
        kwargs={"policy": policy, "stop": stop, "poll_seconds": poll_seconds},
        name="webhook-deliveries",
        daemon=True,
    )
    thread.start()
    return stop


def _echo(counts: dict[str, int]) -> None:
    click.echo(
        f"events {counts['events']}, delivered {counts['delivered']}, "
        f"to retry {counts['pending']}, dead {counts['dead']}"
    )


@click.command("deliver")
@click.option(
    "--every",
    type=click.FloatRange(min=0.05),
    help="Keep running: drain the outbox continuously, poll every N seconds once idle.",
)
@with_appcontext
def deliver_command(every: float | None) -> None:
    """Fan out outbox events to subscriptions and post the deliveries that are due."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if every is None:
        _echo(deliver_step(app))
        return
    stop = threading.Event()
    try:
        run_loop(
            lambda poster: deliver_step(app, poster),
            policy=policy_from(runtime().config),
            stop=stop,
            poll_seconds=every,
            report=lambda counts: _echo(counts) if any(counts.values()) else None,
        )
    except KeyboardInterrupt:
        stop.set()
