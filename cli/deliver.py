"""``credithub deliver``: run the webhook delivery worker (``app/subscriptions/worker.py``)
once, or every ``--every`` seconds until stopped. ``credithub serve --with-scheduler`` runs the
same step every ``DELIVERY_INTERVAL_SECONDS``."""

from __future__ import annotations

import time
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from app.runtime import runtime, today
from app.subscriptions.worker import policy_from, run_once

DELIVERY_INTERVAL_SECONDS = 5


def deliver_step(app: Flask) -> dict[str, int]:
    """One fan-out and delivery pass for ``app``'s database and settings."""
    with app.app_context():
        return run_once(
            session_factory=runtime().session_factory,
            policy=policy_from(runtime().config),
            today=today(),
            grade_rules=runtime().rules.grade,
        )


def add_delivery_job(scheduler: Any, app: Flask) -> None:
    """The delivery step as a scheduler job (one at a time: a slow pass is not overlapped)."""
    scheduler.add_job(
        deliver_step,
        "interval",
        seconds=DELIVERY_INTERVAL_SECONDS,
        args=[app],
        id="webhook-deliveries",
        max_instances=1,
        coalesce=True,
    )


@click.command("deliver")
@click.option("--every", type=float, help="Repeat every N seconds until stopped.")
@with_appcontext
def deliver_command(every: float | None) -> None:
    """Fan out outbox events to subscriptions and post the deliveries that are due."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    while True:
        counts = deliver_step(app)
        click.echo(
            f"events {counts['events']}, delivered {counts['delivered']}, "
            f"to retry {counts['pending']}, dead {counts['dead']}"
        )
        if every is None:
            return
        time.sleep(every)
