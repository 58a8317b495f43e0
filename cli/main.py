"""The ``credithub`` command line (a Flask/Click group; ``credithub --help`` lists commands).

One module per command group beside this one; :func:`register_commands` puts them all on an
app's CLI, so ``credithub`` and the tests' CLI runner see the same commands.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app


def _create_app() -> Flask:
    app = create_app()
    register_commands(app)
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """CreditHub: unified social credit information aggregation service."""


def register_commands(app: Flask) -> None:
    """Attach the commands to ``app.cli``."""
    from cli.catalogue import catalogue_group
    from cli.check import check_command
    from cli.clients import clients_group
    from cli.db import db_group
    from cli.deliver import deliver_command
    from cli.ingest import ingest_group, scheduler_command
    from cli.matching import matching_group
    from cli.report import report_command
    from cli.resolve import resolve_command
    from cli.sample import sample_group
    from cli.serve import serve

    commands = (
        db_group,
        catalogue_group,
        ingest_group,
        scheduler_command,
        clients_group,
        sample_group,
        resolve_command,
        matching_group,
        report_command,
        check_command,
        deliver_command,
        serve,
    )
    for command in commands:
        app.cli.add_command(command)
