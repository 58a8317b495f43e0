"""Environment references in adapter settings: expanded when a run starts, never stored, an
unset variable fails the run with its name (and nothing of any value)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from core.models import AdapterKind, Feed, IngestRunStatus, RecordCategory
from ingest.adapters.environment import (
    EnvironmentReferenceError,
    expand_environment,
    redact,
    reference_problems,
    referenced_values,
)
from ingest.runner import RunSummary

from .conftest import penalty_row, write_penalties

Run = Callable[[str], RunSummary]


def test_references_are_replaced_in_nested_settings_and_others_left_alone() -> None:
    settings = {
        "url": "postgresql://reader:${PASSWORD}@${HOST:-localhost}:${PORT:-5432}/x",
        "headers": {"Authorization": "Bearer ${TOKEN}"},
        "columns": ["a", "${COLUMN:-b}"],
        "page_size": 100,
        "literal": "$HOME and {braces} and $ alone",
    }
    environ = {"PASSWORD": "s3cret", "PORT": "6543", "TOKEN": "t0k", "HOME": "/root"}
    assert expand_environment(settings, environ=environ) == {
        "url": "postgresql://reader:s3cret@localhost:6543/x",
        "headers": {"Authorization": "Bearer t0k"},
        "columns": ["a", "b"],
        "page_size": 100,
        "literal": "$HOME and {braces} and $ alone",
    }
    assert settings["headers"] == {"Authorization": "Bearer ${TOKEN}"}, "input not modified"


def test_a_set_variable_wins_over_the_default_even_when_empty() -> None:
    assert expand_environment({"a": "${X:-d}"}, environ={"X": ""}) == {"a": ""}


def test_unset_variable_without_default_names_the_setting_and_variable_only() -> None:
    settings = {"headers": {"Authorization": "Bearer ${COURT_TOKEN}"}, "url": "${URL}"}
    with pytest.raises(EnvironmentReferenceError) as caught:
        expand_environment(settings, environ={"URL": "http://secret-host"})
    message = str(caught.value)
    assert message.startswith("headers.Authorization: environment variable COURT_TOKEN is not set")
    assert "secret-host" not in message


@pytest.mark.parametrize("value", ["${", "http://h:${PORT/x", "${1ABC}", "${A-B}", "x${}y"])
def test_malformed_references_are_named(value: str) -> None:
    assert reference_problems({"url": value}) == [
        f"url: malformed environment reference in {value!r} (write ${{NAME}} or ${{NAME:-default}})"
    ]


def test_well_formed_references_have_no_problems() -> None:
    settings = {"url": "${A}${B:-}${C:-x:y}", "n": 3, "h": {"k": ["${D}"]}}
    assert reference_problems(settings) == []


def drop_feed(penalty_feed: Callable[..., Feed], path: str) -> Feed:
    return penalty_feed(adapter_settings={"path": path})


def test_run_reads_the_folder_the_environment_names(
    penalty_feed: Callable[..., Feed],
    run: Run,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_penalties(tmp_path / "elsewhere" / "p.csv", [penalty_row()])
    drop_feed(penalty_feed, "${CREDITHUB_TEST_DROPS}/elsewhere")
    monkeypatch.setenv("CREDITHUB_TEST_DROPS", str(tmp_path))

    summary = run("env")

    assert (summary.status, summary.counts.accepted) == (IngestRunStatus.SUCCEEDED, 1)
    with session_factory() as session:
        stored = session.scalars(select(Feed.adapter_settings)).one()
    assert stored == {"path": "${CREDITHUB_TEST_DROPS}/elsewhere"}


def test_unset_variable_fails_the_run_clearly_and_takes_nothing(
    penalty_feed: Callable[..., Feed],
    run: Run,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CREDITHUB_TEST_DROPS", raising=False)
    drop_feed(penalty_feed, "${CREDITHUB_TEST_DROPS}/elsewhere")

    summary = run("env")

    assert summary.status is IngestRunStatus.FAILED
    assert summary.error == (
        "path: environment variable CREDITHUB_TEST_DROPS is not set "
        "(the catalogue refers to it as ${CREDITHUB_TEST_DROPS})"
    )
    assert summary.counts.fetched == 0
    with session_factory() as session:
        assert session.scalars(select(Feed.watermark)).one() is None


def test_http_feed_sends_a_token_from_the_environment(
    httpserver: HTTPServer,
    penalty_feed: Callable[..., Feed],
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("Authorization"))
        return Response('{"items": [], "next_page_token": null}', content_type="application/json")

    httpserver.expect_request("/debtors").respond_with_handler(handler)
    monkeypatch.setenv("CREDITHUB_TEST_COURT_TOKEN", "t0k-from-env")
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.HTTP_PULL,
        adapter_settings={
            "url": httpserver.url_for("/debtors"),
            "headers": {"Authorization": "Bearer ${CREDITHUB_TEST_COURT_TOKEN}"},
            "max_retries": 0,
        },
        field_mapping={"source_key": "case_number", "fields": {"party_name": "name"}},
    )

    assert run("env").status is IngestRunStatus.SUCCEEDED
    assert seen == ["Bearer t0k-from-env"]


def test_redact_hides_every_environment_value_in_a_message() -> None:
    settings = {"url": "http://h/?token=${TOKEN}&k=${KEY}", "x": "${PORT:-1}", "y": "${UNSET}"}
    environ = {"TOKEN": "abcd1234", "KEY": "abcd", "PORT": "80", "OTHER": "leak-not-referenced"}
    values = referenced_values(settings, environ=environ)
    assert sorted(values) == ["80", "abcd", "abcd1234"]
    message = "GET http://h/?token=abcd1234&k=abcd on port 80 failed (leak-not-referenced)"
    assert redact(message, values) == (
        "GET http://h/?token=***&k=*** on port 80 failed (leak-not-referenced)"
    )


def test_a_failed_run_shows_no_token_taken_from_the_environment(
    httpserver: HTTPServer,
    penalty_feed: Callable[..., Feed],
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpserver.expect_request("/debtors").respond_with_data("no", status=403)
    monkeypatch.setenv("CREDITHUB_TEST_COURT_TOKEN", "t0k-from-env")
    url = httpserver.url_for("/debtors") + "?token=${CREDITHUB_TEST_COURT_TOKEN}"
    penalty_feed(
        adapter=AdapterKind.HTTP_PULL,
        adapter_settings={"url": url, "max_retries": 0},
    )

    summary = run("env")

    assert summary.status is IngestRunStatus.FAILED
    assert summary.error is not None and "403" in summary.error
    assert "token=***" in summary.error and "t0k-from-env" not in summary.error
