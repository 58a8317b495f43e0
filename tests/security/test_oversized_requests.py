"""Oversized requests get problem JSON, whoever refuses them: the app (any WSGI server, the
test client) or waitress under ``credithub serve``, which refuses before the app sees them."""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from waitress.channel import HTTPChannel

from cli.serve import make_server
from core.config import Config

TWENTY_MB = 20 * 1024 * 1024
ONE_MB_QUERY = "/api/v1/public/entities?q=" + "a" * (1024 * 1024)


def assert_problem(status: int, content_type: str, body: bytes, expected: int) -> None:
    assert status == expected
    assert content_type.startswith("application/problem+json")
    document = json.loads(body)
    assert document["status"] == expected
    assert document["title"]


def test_app_refuses_a_20_mb_body_as_problem_json(client: FlaskClient) -> None:
    for path in ("/api/v1/records", "/healthz"):
        response = client.post(
            path, data=b"x" * TWENTY_MB, headers={"Content-Type": "application/json"}
        )
        assert_problem(response.status_code, response.content_type, response.data, 413)


def test_app_refuses_a_long_query_string_with_431(
    config: Config, make_app: Callable[[Config], Flask]
) -> None:
    response = make_app(config).test_client().get(ONE_MB_QUERY)
    assert_problem(response.status_code, response.content_type, response.data, 431)
    assert "8192 bytes" in response.get_json()["detail"]
    # The limit is the configured one: at it the request is served, one byte more is refused.
    client = make_app(dataclasses.replace(config, max_query_bytes=100)).test_client()
    prefix = "/api/v1/public/entities?q="
    assert client.get(prefix + "a" * 98).status_code == 200
    over = client.get(prefix + "a" * 99)
    assert_problem(over.status_code, over.content_type, over.data, 431)


def test_the_query_limit_is_a_setting() -> None:
    config = Config.from_env({"CREDITHUB_MAX_QUERY_BYTES": "100"})
    assert config.max_query_bytes == 100


@pytest.fixture
def served(app: Flask) -> Iterator[int]:
    """``app`` under the waitress server ``credithub serve`` runs; yields its port."""
    server = make_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        # Closing the sockets under a connection waitress still holds races its loop's
        # select (EBADF in the server thread): let it finish the refused connection first.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            isinstance(dispatcher, HTTPChannel) for dispatcher in list(server._map.values())
        ):
            time.sleep(0.05)
        server.close()
        thread.join(timeout=10)


def send(port: int, method: str, path: str, *, body_size: int = 0) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest(method, path)
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if body_size:
        headers["Content-Length"] = str(body_size)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    try:
        block = b"x" * (1 << 20)
        for _ in range(body_size // len(block)):
            connection.send(block)
    except OSError:
        pass  # the server refused the body and stopped reading
    response = connection.getresponse()
    # Waitress's own answers carry the headers of every app response too.
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in (response.getheader("Content-Security-Policy") or "")
    result = (response.status, response.getheader("Content-Type") or "", response.read())
    connection.close()
    return result


def test_waitress_answers_a_20_mb_body_as_problem_json(served: int) -> None:
    status, content_type, body = send(served, "POST", "/api/v1/records", body_size=TWENTY_MB)
    assert_problem(status, content_type, body, 413)


def test_waitress_answers_a_1_mb_query_string_as_problem_json(served: int) -> None:
    status, content_type, body = send(served, "GET", ONE_MB_QUERY)
    assert_problem(status, content_type, body, 431)


def test_a_query_over_the_apps_limit_under_waitress_is_the_apps_431(served: int) -> None:
    status, content_type, body = send(served, "GET", "/api/v1/public/entities?q=" + "a" * 9000)
    assert_problem(status, content_type, body, 431)
    assert "8192 bytes" in json.loads(body)["detail"]
