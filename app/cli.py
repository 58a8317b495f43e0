"""The ``credithub`` command line (a Flask/Click group; ``credithub --help`` lists commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from . import create_app, migrate
from .db import UnitOfWork
from .health.services import database_health
from .web_db import runtime


def _create_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """CreditHub: unified social credit information aggregation service."""


def register_commands(app: Flask) -> None:
    """Attach the commands to ``app.cli``, so ``credithub`` and the test runner both see them."""
    from ingest.sample.cli import sample_group

    from .clients_cli import clients_group
    from .ingest_cli import ingest_group, scheduler_command
    from .reports.cli import report_command
    from .resolve_cli import resolve_command

    commands = (
        db_group,
        catalogue_group,
        ingest_group,
        scheduler_command,
        clients_group,
        sample_group,
        resolve_command,
        report_command,
        serve,
    )
    for command in commands:
        app.cli.add_command(command)


@click.group("db")
def db_group() -> None:
    """Database schema: migrate, inspect."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or migrate the database schema (CREDITHUB_DATABASE_URL) to REVISION."""
    url = runtime().config.database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current_revision(runtime().engine)}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION ('base' empties the database)."""
    migrate.downgrade(runtime().config.database_url, revision)
    click.echo(f"database at revision {migrate.current_revision(runtime().engine)}")


@db_group.command("status")
@with_appcontext
def db_status() -> None:
    """Show the database URL's dialect, its schema revision and the code's head revision."""
    report = database_health(engine=runtime().engine)
    for key, value in report.items():
        click.echo(f"{key}: {value}")
    if not (report["reachable"] and report["up_to_date"]):
        raise SystemExit(1)


@click.group("catalogue")
def catalogue_group() -> None:
    """The catalogue of departmental feeds."""


@catalogue_group.command("sync")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def catalogue_sync(path: Path) -> None:
    """Create or update departments and feeds from the catalogue TOML file PATH."""
    from ingest.catalogue import CatalogueError, load_catalogue, sync_catalogue

    try:
        catalogue = load_catalogue(path)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    with UnitOfWork(runtime().session_factory) as uow:
        result = sync_catalogue(session=uow.session, catalogue=catalogue)
        uow.commit()
    click.echo(
        f"catalogue {path}: {len(catalogue.departments)} departments; feeds created "
        f"{len(result.created)}, updated {len(result.updated)}, unchanged "
        f"{len(result.unchanged)}, disabled {len(result.disabled)}"
    )


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
