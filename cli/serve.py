"""The ``serve`` command: the API and web pages under waitress, optionally with the scheduler."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from app.health.services import database_health
from app.runtime import runtime


def make_server(app: Flask, *, host: str, port: int, threads: int) -> Any:
    """The waitress server for ``app``, refusing bodies over the app's own limit as they come,
    its own refusals answered as problem JSON like the app's.

    A chunked body has no Content-Length to refuse up front: waitress took up to its default
    1 GB of one, spooled to disk, before the app saw it and answered 413. Waitress reads a whole
    request before the app sees any of it, so a body over the limit (declared or chunked) and
    a request line or headers over ``max_request_header_size`` (256 KiB: a 1 MB query string)
    are refused by waitress itself, not the app; :class:`_ProblemChannel` makes those answers
    problem JSON too (413, 431, 400 for a malformed request)."""
    import waitress
    from waitress.server import BaseWSGIServer

    limit = runtime(app).config.max_request_bytes
    server = waitress.create_server(
        app, host=host, port=port, threads=threads, max_request_body_size=limit
    )
    # One server per listening socket ("localhost" may be IPv4 and IPv6): each accepts its
    # own connections through its channel class.
    listeners = [s for s in getattr(server, "map", {}).values() if isinstance(s, BaseWSGIServer)]
    for listener in listeners or [server]:
        listener.channel_class = _problem_channel()
    return server


def _problem_channel() -> type:
    """Waitress's channel answering its own refusals as RFC 9457 problem JSON (waitress
    writes them as text/plain and has no setting for it), with the headers every response
    of the app carries."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    from app.errors import PROBLEM_JSON, problem_document
    from app.security_headers import API_SECURITY_HEADERS

    class ProblemErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            error = self.request.error
            body = json.dumps(problem_document(error.code, error.reason, error.body)).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", PROBLEM_JSON))
            self.response_headers.extend(API_SECURITY_HEADERS.items())
            self.response_headers.append(("Cache-Control", "no-store"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class ProblemChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = ProblemErrorTask

    return ProblemChannel


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

    from cli.deliver import start_delivery_thread
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
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    deliveries = start_delivery_thread(app) if with_scheduler else None
    click.echo(f"CreditHub serving on http://{host}:{port} ({report['dialect']})")
    try:
        make_server(app, host=host, port=port, threads=threads).run()
    finally:
        if deliveries is not None:
            deliveries.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
