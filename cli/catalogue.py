"""The ``catalogue`` command group: departments and feeds from a catalogue file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.runtime import runtime
from core.db import UnitOfWork
from ingest.catalogue import CatalogueError, load_catalogue, sync_catalogue


@click.group("catalogue")
def catalogue_group() -> None:
    """The catalogue of departmental feeds."""


@catalogue_group.command("sync")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def catalogue_sync(path: Path) -> None:
    """Create or update departments and feeds from the catalogue TOML file PATH."""
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
