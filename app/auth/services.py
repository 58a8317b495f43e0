"""API clients: create, revoke, authenticate. Services never commit."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.auth.tokens import hash_token, new_token
from core.models import ApiClient, Department, Role, utcnow


class ClientError(ValueError):
    """The client cannot be created or changed as asked; the message says why."""


def create_client(
    *, session: Session, name: str, role: Role, department_code: str | None = None
) -> tuple[ApiClient, str]:
    """A new client and its token (the only time the token exists in clear).

    Raises :class:`ClientError` for a duplicate name, an unknown department, a department
    client without a department, or the public role (the public needs no token).
    """
    if role is Role.PUBLIC:
        raise ClientError("the public role needs no token")
    if session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise ClientError(f"a client named {name!r} exists already")
    department = None
    if department_code:
        department = session.scalar(select(Department).where(Department.code == department_code))
        if department is None:
            raise ClientError(f"no department {department_code!r}")
    if role is Role.DEPARTMENT and department is None:
        raise ClientError("a department client needs --department")
    token = new_token()
    client = ApiClient(
        name=name,
        role=role,
        department=department,
        token_hash=hash_token(token),
        token_prefix=token[:12],
    )
    session.add(client)
    session.flush()
    return client, token


def revoke_client(*, session: Session, name: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise ClientError(f"no client named {name!r}")
    client.revoked_at = client.revoked_at or utcnow()
    return client


def authenticate(*, session: Session, token: str) -> ApiClient | None:
    """The active client holding ``token``, or None."""
    return session.scalar(_client_by_token_hash(), {"token_hash": hash_token(token)})


@functools.cache
def _client_by_token_hash() -> Any:
    # Every API request with a token runs this: built once, not per request (SQLAlchemy's
    # construction and cache-key walk cost more than the indexed look-up itself).
    return select(ApiClient).where(
        ApiClient.token_hash == bindparam("token_hash"), ApiClient.revoked_at.is_(None)
    )


def active_client(*, session: Session, client_id: int) -> ApiClient | None:
    """The client with ``client_id`` if it exists and is not revoked, or None.

    The pages keep only the client id in their signed session cookie; looking the client up on
    every request is what makes a revoked token stop working at the next page view.
    """
    return session.scalar(
        select(ApiClient).where(ApiClient.id == client_id, ApiClient.revoked_at.is_(None))
    )
