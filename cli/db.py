"""The ``db`` command group: migrate and inspect the schema."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.health.services import database_health
from app.runtime import runtime
from core import migrate
from core.db import UnitOfWork


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
    current = migrate.current_revision(runtime().engine)
    click.echo(f"database at revision {current}")
    if current == migrate.head_revision():
        _index_records_linked_before_views()


def _index_records_linked_before_views() -> None:
    """Records linked before migration 0013 have no matcher views, so ingest could match
    nothing to their entities: build them now (once; later upgrades find none and skip).
    Only at head, where the code's models match the schema."""
    from cli.matching import reindex_record_views
    from resolution.view_backfill import records_without_views

    with UnitOfWork(runtime().session_factory) as uow:
        missing = records_without_views(session=uow.session)
    if not missing:
        return
    click.echo("linked records without matcher views: indexing them (credithub matching reindex)")
    indexed, unreadable = reindex_record_views(runtime().session_factory, chunk_size=500)
    click.echo(f"{indexed} records indexed; {unreadable} left without a view")


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
