"""Log lines: JSON (python-json-logger), one object a line, or plain text for development;
each line carries the id of the request it was written in, if any.

The request id is the server's own (``core.audit.RequestOrigin``, bound for each request by
``app.auth.access``), the same id the audit trail and the ``X-Request-ID`` header carry, so a
log line, an audit event and a caller's report of a failed request can be joined.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from core.audit import current_request_origin

LOG_FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
# Marks the handler this module installed, so configuring again replaces it, not adds one.
_HANDLER_MARK = "credithub_log_handler"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the server's id of the current request, or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        origin = current_request_origin()
        record.request_id = origin.request_id if origin is not None else None
        return True


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is written (not when the handler
    was made): a test harness or a daemon may replace it after the app was built."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)
        self._stream: Any = None

    @property
    def stream(self) -> Any:
        return self._stream if self._stream is not None else sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._stream = value


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``log_format`` ("json" or "text"); raises ``ValueError`` otherwise."""
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"log format must be one of {LOG_FORMATS}, not {log_format!r}")


def stderr_handler(log_format: str) -> logging.Handler:
    """The service's handler: stderr, ``log_format``, each record with its request id. Also
    what ``credithub serve`` gives gunicorn's own loggers (``cli.gunicorn_server``), so its
    lines ("Booting worker", a worker's timeout) are in the same format as the app's."""
    handler = StderrHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(*, level: int, log_format: str) -> None:
    """Send the root logger's records to stderr in ``log_format`` at ``level``; calling it
    again (another app in the same process) replaces the handler it installed before."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    root.addHandler(stderr_handler(log_format))
    root.setLevel(level)
