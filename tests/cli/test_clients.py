from __future__ import annotations

import stat
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import ApiClient
from tests.support.builders import make_department
from tests.support.pages import sign_in


def test_clients_create_prints_a_token_once_and_stores_only_its_hash(
    runner: FlaskCliRunner, client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    result = runner.invoke(args=["clients", "create", "--name", "reg1", "--role", "regulator"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("chk_") and len(token) > 40
    with session_factory() as session:
        stored = session.scalars(select(ApiClient)).one()
        assert token not in (stored.token_hash, stored.token_prefix)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/catalogue", headers=headers).status_code == 200

    revoked = runner.invoke(args=["clients", "revoke", "reg1"])
    assert revoked.exit_code == 0
    assert client.get("/api/v1/catalogue", headers=headers).status_code == 401
    listing = runner.invoke(args=["clients", "list"])
    assert "reg1" in listing.output and token not in listing.output


def test_clients_create_refuses_bad_requests(
    runner: FlaskCliRunner, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        make_department(session, code="EPB")
        session.commit()
    no_dept = runner.invoke(args=["clients", "create", "--name", "d", "--role", "department"])
    assert no_dept.exit_code != 0 and "needs --department" in no_dept.output
    unknown = runner.invoke(
        args=["clients", "create", "--name", "d", "--role", "department", "--department", "X"]
    )
    assert unknown.exit_code != 0 and "no department 'X'" in unknown.output
    ok = runner.invoke(
        args=["clients", "create", "--name", "d", "--role", "department", "--department", "EPB"]
    )
    assert ok.exit_code == 0
    again = runner.invoke(
        args=["clients", "create", "--name", "d", "--role", "department", "--department", "EPB"]
    )
    assert again.exit_code != 0 and "exists already" in again.output


def test_demo_token_is_created_once_kept_private_and_renewed_when_revoked(
    runner: FlaskCliRunner, app: Flask, session_factory: sessionmaker[Session]
) -> None:
    first = runner.invoke(args=["clients", "demo-token"])
    assert first.exit_code == 0, first.output
    token = first.output.strip()
    path = Path(app.instance_path) / "demo-token.txt"
    assert path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert runner.invoke(args=["clients", "demo-token"]).output.strip() == token  # reused

    client = app.test_client()
    assert sign_in(client, token).status_code == 303  # a first user can sign in with it
    assert "demo-regulator" in client.get("/search").text

    assert runner.invoke(args=["clients", "revoke", "demo-regulator"]).exit_code == 0
    renewed = runner.invoke(args=["clients", "demo-token"])
    assert renewed.exit_code == 0 and renewed.output.strip() != token
    assert path.read_text().strip() == renewed.output.strip()
    with session_factory() as session:
        names = set(session.scalars(select(ApiClient.name)))
        assert names == {"demo-regulator", "demo-regulator-2"}
