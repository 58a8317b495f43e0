"""``/healthz`` gives away the database and the release only to regulators."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.migrate import head_revision
from core.models import Role
from tests.support.api import make_token
from tests.support.builders import make_department


def test_only_regulators_learn_the_database_and_revision(
    client: FlaskClient, session_factory: sessionmaker[Session], backend: str
) -> None:
    with session_factory() as session:
        make_department(session, code="EPB")
        session.commit()
    for headers in (
        {},
        make_token(session_factory, Role.ANALYST),
        make_token(session_factory, Role.DEPARTMENT, department_code="EPB"),
    ):
        response = client.get("/healthz", headers=headers)
        assert response.status_code == 200
        assert response.json == {"status": "up"}
        text = response.get_data(as_text=True)
        assert backend not in text and head_revision() not in text
    regulator = client.get("/healthz", headers=make_token(session_factory, Role.REGULATOR))
    assert regulator.json["database"]["dialect"] == backend


def test_a_forged_token_is_refused_not_answered(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert "database" not in response.get_data(as_text=True)
