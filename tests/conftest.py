"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

``database_url`` is parametrised over both backends; each test gets a fresh database cloned
from a template migrated once per session (file copy on SQLite, ``CREATE DATABASE ... TEMPLATE``
on PostgreSQL). With ``CREDITHUB_TEST_REQUIRE_POSTGRES=1`` (``make test``, CI) a missing
PostgreSQL fails the run instead of skipping its half.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from cli.main import register_commands
from core.config import Config
from core.db import make_engine, make_session_factory
from core.migrate import upgrade
from tests.support.postgres import PostgresServer, PostgresUnavailable
from tests.support.redis import RedisServer, RedisUnavailable

BACKENDS = ("sqlite", "postgresql")
_TEMPLATE_DB = "credithub_template"
_outcomes: Counter[tuple[str, str]] = Counter()
_pg_version: list[str] = []


def _postgres_required() -> bool:
    return os.environ.get("CREDITHUB_TEST_REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        if _postgres_required():
            pytest.fail(f"PostgreSQL is required for this run but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    _pg_version.append(server.version())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(redis_session_server: RedisServer) -> RedisServer:
    """The session's Redis server, emptied for this test."""
    redis_session_server.flush()
    return redis_session_server


@pytest.fixture(scope="session")
def redis_session_server() -> Iterator[RedisServer]:
    """A Redis server for the tests of the shared rate-limit store; with
    ``CREDITHUB_TEST_REQUIRE_REDIS=1`` (``make test``) a missing one fails the run."""
    try:
        server = RedisServer.start()
    except RedisUnavailable as exc:
        if os.environ.get("CREDITHUB_TEST_REQUIRE_REDIS", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Redis is required for this run but unavailable: {exc}")
        pytest.skip(f"Redis unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    admin = create_engine(postgres_server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {_TEMPLATE_DB}"))
    admin.dispose()
    upgrade(postgres_server.url_for(_TEMPLATE_DB))
    return _TEMPLATE_DB


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, fully migrated database of the test's backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "credithub.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template_name}"))
    try:
        yield server.url_for(name)
    finally:
        # A connection a test left to the garbage collector (say, a streamed response never
        # read to its end) is finalised now, while its database exists, and not at a random
        # later moment: CPython 3.11 can raise "AST constructor recursion depth mismatch" when
        # such a finaliser runs while pytest is compiling a module.
        gc.collect()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret",
        testing=True,
        log_level="WARNING",
    )


@pytest.fixture
def make_app() -> Iterator[Callable[[Config], Flask]]:
    """Build apps for other configs; their engines are disposed after the test."""
    built: list[Flask] = []

    def _make(cfg: Config) -> Flask:
        built.append(create_app(cfg))
        return built[-1]

    yield _make
    for application in built:
        application.extensions["credithub"].engine.dispose()


@pytest.fixture
def app(config: Config, make_app: Callable[[Config], Flask]) -> Flask:
    return make_app(config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    register_commands(app)
    return app.test_cli_runner()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as sess:
        yield sess
        sess.rollback()


def pytest_report_header(config: pytest.Config) -> str:
    required = "required" if _postgres_required() else "used when available"
    return f"credithub: database tests run on SQLite and PostgreSQL ({required})"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        backend = next((b for b in BACKENDS if f"[{b}" in report.nodeid), "none")
        _outcomes[(backend, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("databases used")
    for backend in (*BACKENDS, "none"):
        counts = {o: n for (b, o), n in _outcomes.items() if b == backend}
        label = {"none": "no database"}.get(backend, backend)
        if backend == "postgresql" and _pg_version:
            label += f" ({_pg_version[0]})"
        summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "not run"
        terminalreporter.write_line(f"{label}: {summary}")
