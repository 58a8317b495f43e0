"""gunicorn's own log lines follow ``CREDITHUB_LOG_FORMAT``: JSON lines, like the app's, when
the format is json; gunicorn's plain text otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from gunicorn.glogging import Logger

from cli.gunicorn_server import GunicornServer
from core.config import Config


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """gunicorn configures the process's loggers: put back what it changed."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    named = {n: logging.getLogger(n) for n in ("gunicorn.error", "gunicorn.access")}
    kept = {n: (lg.level, list(lg.handlers), lg.propagate) for n, lg in named.items()}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, logger in named.items():
        logger.level, logger.handlers[:], logger.propagate = kept[name]


def _server_log(make_app: Callable[[Config], Flask], tmp_path: Path, log_format: str) -> Logger:
    config = Config(
        instance_path=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        secret_key="test-secret",
        testing=True,
        log_level="INFO",
        log_format=log_format,
    )
    server = GunicornServer(make_app(config), bind="127.0.0.1:0", workers=1, threads=1)
    return Logger(server.cfg)  # what gunicorn's arbiter and workers log through


def test_gunicorn_writes_json_lines_when_the_format_is_json(
    make_app: Callable[[Config], Flask], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _server_log(make_app, tmp_path, "json")
    log.info("Booting worker with pid: %s", 4242)
    log.critical("WORKER TIMEOUT (pid:%s)", 4242)
    logging.getLogger("credithub.test").warning("from the app")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["level"], line["message"]) for line in lines] == [
        ("gunicorn.error", "INFO", "Booting worker with pid: 4242"),
        ("gunicorn.error", "CRITICAL", "WORKER TIMEOUT (pid:4242)"),
        ("credithub.test", "WARNING", "from the app"),
    ]
    assert all("request_id" in line for line in lines)


def test_gunicorn_keeps_its_text_lines_when_the_format_is_text(
    make_app: Callable[[Config], Flask], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _server_log(make_app, tmp_path, "text")
    log.info("Booting worker with pid: %s", 4242)
    err = capsys.readouterr().err
    assert "[INFO] Booting worker with pid: 4242" in err
    assert not err.lstrip().startswith("{")
