"""``credithub clients ...``: API clients and their tokens."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .auth.services import ClientError, create_client, revoke_client
from .db import UnitOfWork
from .models import ApiClient, Role
from .web_db import runtime

_ROLES = [r.value for r in Role if r is not Role.PUBLIC]


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
