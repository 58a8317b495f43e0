"""``credithub clients ...``: API clients and their tokens."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.auth.services import ClientError, authenticate, create_client, revoke_client
from app.runtime import runtime
from core.db import UnitOfWork
from core.models import ApiClient, Role

_ROLES = [r.value for r in Role if r is not Role.PUBLIC]
DEMO_TOKEN_FILE = "demo-token.txt"


@click.group("clients")
def clients_group() -> None:
    """API clients: create (prints the token once), revoke, list."""


@clients_group.command("create")
@click.option("--name", required=True, help="Unique client name.")
@click.option("--role", required=True, type=click.Choice(_ROLES))
@click.option("--department", "department_code", help="Department code (department role).")
@with_appcontext
def clients_create(name: str, role: str, department_code: str | None) -> None:
    """Create a client and print its bearer token (shown this once, stored only hashed)."""
    with UnitOfWork(runtime().session_factory) as uow:
        try:
            _client, token = create_client(
                session=uow.session, name=name, role=Role(role), department_code=department_code
            )
        except ClientError as exc:
            raise click.ClickException(str(exc)) from exc
        uow.commit()
    click.echo(token)


@clients_group.command("revoke")
@click.argument("name")
@with_appcontext
def clients_revoke(name: str) -> None:
    """Revoke client NAME's token at once."""
    with UnitOfWork(runtime().session_factory) as uow:
        try:
            revoke_client(session=uow.session, name=name)
        except ClientError as exc:
            raise click.ClickException(str(exc)) from exc
        uow.commit()
    click.echo(f"revoked {name}")


@clients_group.command("list")
@with_appcontext
def clients_list() -> None:
    """List clients (name, role, department, token prefix, revoked)."""
    with runtime().session_factory() as session:
        for client in session.scalars(select(ApiClient).order_by(ApiClient.name)):
            department = client.department.code if client.department else "-"
            revoked = client.revoked_at.isoformat() if client.revoked_at else "active"
            line = f"{client.name}\t{client.role.value}\t{department}\t{client.token_prefix}…"
            click.echo(f"{line}\t{revoked}")


@clients_group.command("demo-token")
@click.option("--name", default="demo-regulator", show_default=True, help="Client name.")
@with_appcontext
def clients_demo_token(name: str) -> None:
    """Print a regulator token for trying the web pages locally (``make run`` does this).

    The token is kept in INSTANCE_PATH/demo-token.txt (readable by its owner only) and printed
    again on later runs while it still works. When it is missing or was revoked, a new
    regulator client is created (NAME, or NAME-2, NAME-3... when the name is taken). Not for
    production: anyone holding the file can sign in as a regulator.
    """
    path = runtime().config.instance_path / DEMO_TOKEN_FILE
    with UnitOfWork(runtime().session_factory) as uow:
        stored = path.read_text(encoding="utf-8").strip() if path.exists() else ""
        if stored and authenticate(session=uow.session, token=stored) is not None:
            click.echo(stored)
            return
        taken = set(
            uow.session.scalars(select(ApiClient.name).where(ApiClient.name.startswith(name)))
        )
        free = next(
            candidate
            for candidate in (name, *(f"{name}-{n}" for n in range(2, len(taken) + 3)))
            if candidate not in taken
        )
        _client, token = create_client(session=uow.session, name=free, role=Role.REGULATOR)
        uow.commit()
    _write_private(path, token)
    click.echo(token)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    path.chmod(0o600)  # an existing file keeps its old mode through os.open
