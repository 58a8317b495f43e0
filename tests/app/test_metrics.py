"""``GET /metrics``: what it counts, that it names endpoints and never paths or ids, who may
read it, and the figures it computes at scrape time.

The instruments are the process's (as in production), shared by every app a test builds, so
the tests compare a scrape after with a scrape before, never absolute counts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config, ConfigError
from core.models import AdapterKind, EntityReview, RecordCategory, ReviewStatus, Role
from ingest.runner import run_feed
from tests.ingest.conftest import penalty_row, write_penalties
from tests.support.api import make_token
from tests.support.builders import make_entity, make_feed
from tests.support.metrics import Samples, parse_samples, value

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client: FlaskClient, **kwargs: object) -> Samples:
    response = client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return parse_samples(response.get_data(as_text=True))


def test_requests_are_counted_and_timed_by_endpoint_and_status(client: FlaskClient) -> None:
    labels = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    after = scrape(client)

    assert value(after, "credithub_http_requests_total", **labels) - value(
        before, "credithub_http_requests_total", **labels
    ) == pytest.approx(3)
    timed = "credithub_http_request_duration_seconds_count"
    assert value(after, timed, **labels) - value(before, timed, **labels) == pytest.approx(3)
    assert value(after, "credithub_http_request_duration_seconds_bucket", **labels, le="+Inf") > 0


def test_labels_name_endpoints_never_paths_ids_or_queries(client: FlaskClient) -> None:
    client.get("/api/v1/entities/987654?id_number=110101199003074477")  # 401: no token
    client.get("/no/such/page/55501?name=%E5%BC%A0%E4%B8%89")  # 404: no route
    response = client.get("/metrics")
    text = response.get_data(as_text=True)

    samples = scrape(client)
    endpoints = {
        dict(labels)["endpoint"]
        for name, labels in samples
        if name == "credithub_http_requests_total"
    }
    assert "unmatched" in endpoints  # the 404
    assert any(e.startswith("entities.") for e in endpoints), endpoints
    assert not [e for e in endpoints if "/" in e or "?" in e], endpoints
    for secret in ("987654", "110101199003074477", "55501", "张三", "name="):
        assert secret not in text


def test_a_scrape_after_an_ingest_run_shows_the_feeds_figures(
    client: FlaskClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_factory() as session:
        make_feed(
            session,
            code="metrics_env",
            record_category=RecordCategory.PENALTY,
            adapter=AdapterKind.FILE_DROP,
            adapter_settings={"path": str(tmp_path / "drop")},
            field_mapping={"preset": "double_publicity_penalty"},
        )
        session.commit()
    write_penalties(
        tmp_path / "drop" / "a.csv",
        [penalty_row(), penalty_row(CF_XZCFJDSWH="京环罚〔2026〕3号", CF_JDRQ="2026-13-01")],
    )
    feed = {"feed": "metrics_env"}
    before = scrape(client)
    summary = run_feed(session_factory=session_factory, feed_code="metrics_env")
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 1)
    assert moved(
        "credithub_ingest_runs_total", **feed, trigger="manual", status="succeeded"
    ) == pytest.approx(1)
    assert moved("credithub_ingest_records_total", **feed, outcome="accepted") == pytest.approx(1)
    records = "credithub_ingest_records_total"
    assert moved(records, **feed, outcome="quarantined") == pytest.approx(1)
    assert moved("credithub_ingest_run_duration_seconds_count", **feed) == pytest.approx(1)
    assert moved("credithub_ingest_run_duration_seconds_sum", **feed) > 0


def test_the_review_backlog_counts_pending_pairs(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        pairs = [(make_entity(session), make_entity(session)) for _ in range(3)]
        for number, (left, right) in enumerate(pairs):
            session.add(
                EntityReview(
                    entity_id=left.id,
                    candidate_entity_id=right.id,
                    score=0.8,
                    algorithm="test",
                    status=ReviewStatus.REJECTED if number == 0 else ReviewStatus.PENDING,
                )
            )
        session.commit()
    assert value(scrape(client), "credithub_review_backlog") == 2


def test_pool_use_is_shown_and_returns_after_requests(client: FlaskClient, backend: str) -> None:
    first = scrape(client)
    client.get("/healthz")
    second = scrape(client)
    # The scrape itself holds a connection (the backlog count) while it reads the gauges.
    assert value(second, "credithub_db_pool_checked_out") == value(
        first, "credithub_db_pool_checked_out"
    )
    assert value(second, "credithub_db_pool_size") >= 1


@pytest.mark.parametrize(("role", "status"), [(Role.REGULATOR, 200), (Role.ANALYST, 403)])
def test_a_token_is_judged_by_its_role_even_from_loopback(
    client: FlaskClient, session_factory: sessionmaker[Session], role: Role, status: int
) -> None:
    headers = make_token(session_factory, role)
    for environ in ({}, OUTSIDER):
        response = client.get("/metrics", headers=headers, environ_base=environ)
        assert response.status_code == status
        if status == 403:
            assert response.mimetype == "application/problem+json"
            assert response.get_json()["status"] == 403


def test_without_a_token_only_the_allowed_addresses_may_scrape(
    config: Config, make_app: Callable[[Config], Flask]
) -> None:
    local = make_app(config).test_client()
    assert local.get("/metrics").status_code == 200  # loopback, the default range
    refused = local.get("/metrics", environ_base=OUTSIDER)
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert "credithub_" not in refused.get_data(as_text=True)

    monitoring = Config(**{**config.__dict__, "metrics_allow": "10.0.0.0/8, 203.0.113.0/24"})
    other = make_app(monitoring).test_client()
    assert other.get("/metrics", environ_base=OUTSIDER).status_code == 200
    assert other.get("/metrics").status_code == 403  # loopback no longer listed


def test_a_bad_address_range_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="METRICS_ALLOW"):
        Config.from_env({"CREDITHUB_METRICS_ALLOW": "127.0.0.1/8,localhost"})
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        Config.from_env({"CREDITHUB_LOG_FORMAT": "xml"})


def test_a_monitoring_scrape_is_not_rate_limited_but_others_are(
    config: Config, make_app: Callable[[Config], Flask]
) -> None:
    client = make_app(Config(**{**config.__dict__, "rate_limit_per_minute": 2})).test_client()
    assert [client.get("/metrics").status_code for _ in range(4)] == [200] * 4
    outsider = [client.get("/metrics", environ_base=OUTSIDER).status_code for _ in range(3)]
    assert outsider == [403, 403, 429]


def test_a_log_line_is_json_with_the_request_id(config: Config) -> None:
    from app import create_app

    app = create_app(Config(**{**config.__dict__, "log_format": "json"}))

    @app.get("/test-log")
    def _log_something() -> str:
        app.logger.warning("something worth a line")
        return "ok"

    handler = next(h for h in logging.getLogger().handlers if hasattr(h, "credithub_log_handler"))
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        response = app.test_client().get("/test-log")
    finally:
        app.extensions["credithub"].engine.dispose()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(item for item in lines if item["message"] == "something worth a line")
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["level"] == "WARNING"
