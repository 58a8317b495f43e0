"""The ``serve`` command: the API and web pages under waitress, optionally with the scheduler."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from app.health.services import database_health
from app.runtime import runtime


def make_server(app: Flask, *, host: str, port: int, threads: int) -> Any:
    """The waitress server for ``app``, refusing bodies over the app's own limit as they come.

    A chunked body has no Content-Length to refuse up front: waitress took up to its default
    1 GB of one, spooled to disk, before the app saw it and answered 413."""
    import waitress

    limit = runtime(app).config.max_request_bytes
    return waitress.create_server(
        app, host=host, port=port, threads=threads, max_request_body_size=limit
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option(
    "--with-scheduler", is_flag=True, help="Also run the feeds on their schedules in-process."
)
@with_appcontext
def serve(host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Serve the API with the waitress WSGI server until stopped (Ctrl-C)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from flask import current_app

    from ingest.scheduler import add_feed_jobs

    report = database_health(engine=runtime().engine)
    if not report["up_to_date"]:
        raise click.ClickException(
            f"database schema is at {report['revision']}, code expects {report['head']}: "
            "run 'credithub db upgrade' first"
        )
    scheduler = BackgroundScheduler()
    if with_scheduler:
        codes = add_feed_jobs(scheduler, session_factory=runtime().session_factory)
        click.echo(f"scheduling {len(codes)} feeds: {', '.join(codes) or '-'}")
        scheduler.start()
    click.echo(f"CreditHub serving on http://{host}:{port} ({report['dialect']})")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        make_server(app, host=host, port=port, threads=threads).run()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
