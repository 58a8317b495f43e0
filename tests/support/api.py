"""Clients with tokens for API tests."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session, sessionmaker

from app.auth.services import create_client
from core.models import Role

# A number per client: ``id(object())`` was reused as soon as the object was freed, so two
# clients of one test could get the same name.
_names = itertools.count(1)


def make_token(
    session_factory: sessionmaker[Session],
    role: Role,
    *,
    department_code: str | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """Authorization headers for a new committed client."""
    with session_factory() as session:
        _client, token = create_client(
            session=session,
            name=name or f"{role.value}-{department_code or 'x'}-{next(_names)}",
            role=role,
            department_code=department_code,
        )
        session.commit()
    return {"Authorization": f"Bearer {token}"}
