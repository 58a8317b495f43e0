"""core.logs: JSON lines (or text) that carry the request id bound for the audit trail."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.audit import RequestOrigin, bind_request_origin
from core.logs import RequestIdFilter, formatter


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.core.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    bind_request_origin(None)


def test_json_lines_carry_the_request_id_and_none_outside_a_request(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.handlers[0].setFormatter(formatter("json"))
    logger.warning("outside")
    bind_request_origin(RequestOrigin("abc123", "127.0.0.1"))
    logger.warning("inside %s", "a request")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] is None and first["message"] == "outside"
    assert second["request_id"] == "abc123" and second["message"] == "inside a request"
    assert second["level"] == "WARNING" and second["logger"] == "tests.core.test_logs"


def test_text_lines_for_development(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.handlers[0].setFormatter(formatter("text"))
    bind_request_origin(RequestOrigin("abc123", None))
    logger.info("hello")
    logger.warning("hello")
    assert stream.getvalue().rstrip().endswith("WARNING tests.core.test_logs [abc123] hello")
    with pytest.raises(ValueError, match="log format"):
        formatter("xml")
