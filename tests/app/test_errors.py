"""A service's refusal needs no handling in the views: one handler answers it, as problem JSON
on the API and as the error page on the web pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.errors import PROBLEM_JSON
from core.config import Config
from core.errors import NotFound, ServiceRefused


class _Conflict(ServiceRefused):
    status = 409


@pytest.fixture
def refusing_app(config: Config, make_app: Callable[[Config], Flask]) -> Flask:
    """The real app plus two views that only raise what a service would."""
    app = make_app(config)

    def conflict() -> str:
        raise _Conflict("record 7 is already closed", errors={"record": ["closed"]})

    def missing() -> str:
        raise NotFound("No entity has the id 'X'.")

    app.add_url_rule("/api/v1/test-conflict", "test_conflict", conflict)
    app.add_url_rule("/api/v1/test-missing", "test_missing", missing)
    return app


def test_a_refusal_is_problem_json_with_its_status_message_and_errors(
    refusing_app: Flask,
) -> None:
    client: FlaskClient = refusing_app.test_client()
    conflict = client.get("/api/v1/test-conflict")
    assert conflict.status_code == 409
    assert conflict.mimetype == PROBLEM_JSON
    assert conflict.json == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "record 7 is already closed",
        "errors": {"record": ["closed"]},
    }
    missing = client.get("/api/v1/test-missing")
    assert missing.status_code == 404
    assert missing.json["detail"] == "No entity has the id 'X'."
    assert "errors" not in missing.json


def test_the_status_may_be_given_when_raised() -> None:
    refusal = ServiceRefused("too many", status=422)
    assert (refusal.status, refusal.message, str(refusal), refusal.errors) == (
        422,
        "too many",
        "too many",
        {},
    )
    assert ServiceRefused("plain").status == 400
    assert NotFound("gone").status == 404
