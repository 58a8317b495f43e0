from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.migrate import downgrade, head_revision
from core.models import Role
from tests.support.api import make_token


def test_healthz_tells_anyone_only_that_it_is_up(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "up"}


def test_healthz_tells_a_regulator_the_database_and_revision(
    client: FlaskClient, session_factory: sessionmaker[Session], backend: str
) -> None:
    response = client.get("/healthz", headers=make_token(session_factory, Role.REGULATOR))
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "up"
    assert body["database"]["reachable"] is True
    assert body["database"]["dialect"] == backend
    assert body["database"]["revision"] == head_revision()


def test_healthz_is_503_when_schema_is_behind(
    config: Config, make_app: Callable[[Config], Flask]
) -> None:
    downgrade(config.database_url, "base")
    response = make_app(config).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "down"}


def test_healthz_is_503_when_database_is_unreachable(
    config: Config, make_app: Callable[[Config], Flask]
) -> None:
    broken = Config(
        instance_path=config.instance_path,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        testing=True,
    )
    response = make_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "down"}
