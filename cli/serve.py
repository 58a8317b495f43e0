"""The ``serve`` command: the API and web pages under gunicorn (Linux: a worker per core,
``cli/gunicorn_server.py``) or waitress (one process, the fallback), optionally with the
scheduler, which runs in exactly one process."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from app.health.services import database_health
from app.runtime import runtime
from core.metrics import mark_process_dead, use_multiprocess_dir


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


def default_server() -> str:
    """gunicorn where it runs (Linux and other POSIX systems, when installed), else waitress."""
    if os.name != "posix":
        return "waitress"
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "waitress"
    return "gunicorn"


def _scheduler_starter(app: Flask) -> Callable[[], Callable[[], None]]:
    """A function that starts the scheduler (the feeds and the webhook deliveries) in the calling
    process and returns its stop."""

    def start() -> Callable[[], None]:
        from apscheduler.schedulers.background import BackgroundScheduler

        from cli.deliver import start_delivery_thread
        from ingest.auto_training import policy_of
        from ingest.scheduler import add_feed_jobs, watch_lag

        scheduler = BackgroundScheduler()
        watch_lag(scheduler)
        with app.app_context():
            codes = add_feed_jobs(
                scheduler,
                session_factory=runtime().session_factory,
                value_rules=runtime().rules.values,
                training=policy_of(runtime().config),
            )
        click.echo(
            f"scheduling {len(codes)} feeds in process {os.getpid()}: {', '.join(codes) or '-'}"
        )
        scheduler.start()
        deliveries = start_delivery_thread(app)

        def stop() -> None:
            deliveries.set()
            scheduler.shutdown(wait=False)

        return stop

    return start


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--server",
    type=click.Choice(["gunicorn", "waitress"]),
    default=None,
    help="gunicorn (default on Linux) or waitress (one process; the fallback elsewhere).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="gunicorn worker processes (default: the number of cores).",
)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run the feeds on their schedules (in exactly one process).",
)
@with_appcontext
def serve(
    host: str,
    port: int,
    server: str | None,
    workers: int | None,
    threads: int,
    with_scheduler: bool,
) -> None:
    """Serve the API and pages until stopped (Ctrl-C): gunicorn with a worker per core, or
    waitress."""
    from flask import current_app

    chosen = server or default_server()
    if chosen == "gunicorn":
        # Before anything records a metric (the schema check below checks out a connection).
        with metrics_dir() as directory:
            use_multiprocess_dir(directory)
            _run_gunicorn(
                host=host,
                port=port,
                workers=workers,
                threads=threads,
                with_scheduler=with_scheduler,
            )
        return
    report = _checked_schema()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    start = _scheduler_starter(app) if with_scheduler else None
    stop = start() if start is not None else None
    click.echo(f"CreditHub serving on http://{host}:{port} ({report['dialect']}, waitress)")
    try:
        make_server(app, host=host, port=port, threads=threads).run()
    finally:
        if stop is not None:
            stop()


def _checked_schema() -> dict[str, Any]:
    report = database_health(engine=runtime().engine)
    if not report["up_to_date"]:
        raise click.ClickException(
            f"database schema is at {report['revision']}, code expects {report['head']}: "
            "run 'credithub db upgrade' first"
        )
    return report


def _run_gunicorn(
    *, host: str, port: int, workers: int | None, threads: int, with_scheduler: bool
) -> None:
    from flask import current_app

    from cli.gunicorn_server import GunicornServer

    report = _checked_schema()
    # The check's connection made this (master) process a live contributor to the pool
    # gauges; it serves nothing, so it leaves the sum before the workers fork.
    mark_process_dead(os.getpid())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    count = workers or os.cpu_count() or 1
    click.echo(
        f"CreditHub serving on http://{host}:{port} ({report['dialect']}, gunicorn, "
        f"{count} workers x {threads} threads)"
    )
    GunicornServer(
        app,
        bind=f"{host}:{port}",
        workers=count,
        threads=threads,
        start_scheduler=_scheduler_starter(app) if with_scheduler else None,
        lock_path=runtime().config.instance_path / "scheduler.lock",
    ).run()


@contextmanager
def metrics_dir() -> Iterator[Path]:
    """A fresh directory for the workers' metric files (prometheus-client multiprocess mode),
    removed when the server stops: files of an earlier server's processes would be summed
    into this one's figures."""
    directory = Path(tempfile.mkdtemp(prefix="credithub-metrics-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
