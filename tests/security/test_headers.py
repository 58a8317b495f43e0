"""Security headers on every response (API, errors, the API docs page, the web pages), the
docs page keeping no bearer token, and personal data never stored by a cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from core.config import Config
from core.models import Role
from tests.support.api import make_token
from tests.support.credit import USCC_XINGHE, make_company, make_credit_feed, make_record


def assert_secured(response: TestResponse) -> None:
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"no-referrer", "same-origin"}


@pytest.fixture
def company(session_factory: sessionmaker[Session]) -> tuple[str, int]:
    with session_factory() as session:
        entity = make_company(session, name="北京星河科技有限公司", uscc=USCC_XINGHE)
        record = make_record(session, entity=entity, feed=make_credit_feed(session))
        session.commit()
        return entity.public_id, record.id


def test_every_kind_of_response_carries_the_headers(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    analyst = make_token(session_factory, Role.ANALYST)
    for url, headers in (
        ("/healthz", {}),
        ("/api/v1/openapi.json", {}),
        ("/api/v1/entities", analyst),
        ("/api/v1/entities", {}),  # 401
        ("/api/v1/no-such-thing", {}),  # 404
        ("/api/v1/public/entities?q=" + "a" * 9000, {}),  # 431
        ("/api/docs/", {}),
        ("/api/docs/initializer.js", {}),
        ("/api/docs/assets/swagger-ui-bundle.js", {}),
        ("/sign-in", {}),
    ):
        response = client.get(url, headers=headers)
        response.close()
        assert_secured(response)


def test_the_docs_page_may_run_only_its_own_scripts(client: FlaskClient) -> None:
    policy = client.get("/api/docs/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-eval'" not in policy
    assert "script-src 'self' 'unsafe-inline'" not in policy
    assert "connect-src 'self'" in policy


def test_the_docs_page_does_not_keep_bearer_tokens(client: FlaskClient) -> None:
    script = client.get("/api/docs/initializer.js").get_data(as_text=True)
    assert "persistAuthorization: false" in script
    assert "persistAuthorization: true" not in script


def test_personal_data_is_never_stored_by_a_cache(
    config: Config,
    make_app: Callable[[Config], Flask],
    session_factory: sessionmaker[Session],
    company: tuple[str, int],
) -> None:
    public_id, _record_id = company
    client = make_app(dataclasses.replace(config, today="2026-06-01")).test_client()
    regulator = make_token(session_factory, Role.REGULATOR)
    for url in (
        f"/api/v1/entities/{public_id}",
        f"/api/v1/entities/{public_id}/records",
        "/api/v1/entities?q=星河",
        "/api/v1/reports/records?format=csv",
        "/api/v1/audit",
    ):
        response = client.get(url, headers=regulator)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    # What is the same for everybody and holds no one's data may be cached: the description,
    # and the public look-up of companies (persons: tests/app/test_public.py).
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")
    page = client.get(f"/api/v1/public/entities/{public_id}")
    assert page.headers["Cache-Control"].startswith("public, max-age=")
    # Every search is audited (issue 14), so a cache may keep the answer but must ask again.
    search = client.get("/api/v1/public/entities?q=星河")
    assert search.headers["Cache-Control"] == "public, no-cache"
