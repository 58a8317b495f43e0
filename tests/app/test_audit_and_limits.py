from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.audit import record_event
from core.config import Config
from core.models import Role
from tests.support.api import make_token
from tests.support.redis import RedisServer


def test_regulators_read_the_audit_trail_with_filters(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        record_event(session=session, client=None, action="entity.read", target_id="CHP-1")
        record_event(session=session, client=None, action="export", target_id="report")
        session.commit()
    headers = make_token(session_factory, Role.REGULATOR)
    page = client.get("/api/v1/audit?action=entity.read", headers=headers)
    assert page.status_code == 200
    assert [e["target_id"] for e in page.json["items"]] == ["CHP-1"]
    assert page.headers["X-Request-ID"]
    # reading the trail is audited too, under the server's request id; the caller's is kept beside
    read = client.get("/api/v1/audit", headers={**headers, "X-Request-ID": "req-42"})
    server_id = read.headers["X-Request-ID"]
    assert server_id != "req-42" and read.headers["X-Client-Request-ID"] == "req-42"
    mine = client.get(f"/api/v1/audit?request_id={server_id}&action=audit.read", headers=headers)
    assert mine.json["total"] == 1
    assert mine.json["items"][0]["details"]["client_request_id"] == "req-42"
    assert (
        client.get("/api/v1/audit", headers=make_token(session_factory, Role.ANALYST)).status_code
        == 403
    )


def test_the_audit_trail_has_no_write_path(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    headers = make_token(session_factory, Role.REGULATOR)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.open("/api/v1/audit", method=method, headers=headers).status_code == 405


def test_rate_limit_answers_429_with_retry_after(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    limited = make_app(replace(config, rate_limit_per_minute=3)).test_client()
    headers = make_token(session_factory, Role.ANALYST)
    statuses = [limited.get("/api/v1/catalogue", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited.get("/api/v1/catalogue", headers=headers)
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    # another client has its own allowance
    other = make_token(session_factory, Role.ANALYST)
    assert limited.get("/api/v1/catalogue", headers=other).status_code == 200


def test_docs_page_serves_every_asset_locally(client: FlaskClient) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        response = client.get(f"/api/docs/assets/{asset}")
        assert response.status_code == 200, asset
        response.close()
    assert "/api/v1/openapi.json" in client.get("/api/docs/initializer.js").get_data(as_text=True)


def test_two_servers_on_one_redis_share_the_rate_limit(
    config: Config,
    make_app: Callable[[Config], Flask],
    session_factory: sessionmaker[Session],
    redis_server: RedisServer,
) -> None:
    shared = replace(config, rate_limit_per_minute=4, redis_url=redis_server.url)
    one, two = make_app(shared).test_client(), make_app(shared).test_client()
    headers = make_token(session_factory, Role.ANALYST)
    statuses = [c.get("/api/v1/catalogue", headers=headers).status_code for c in (one, two) * 3]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_two_servers_on_one_database_share_the_rate_limit(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    shared = replace(config, rate_limit_per_minute=3)
    one, two = make_app(shared).test_client(), make_app(shared).test_client()
    statuses = [c.get("/api/v1/public/entities?q=星河").status_code for c in (one, two) * 2]
    assert statuses == [200, 200, 200, 429]
    # the pages count against the same budget (per address when nobody is signed in)
    assert one.get("/sign-in").status_code == 429
