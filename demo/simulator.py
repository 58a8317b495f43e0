"""A stand-in for the court's dishonest-debtor HTTP API, serving a JSON-lines file.

Protocol (what the ``http_pull`` adapter talks to)::

    GET {path}?updated_since=ISO-8601&page_size=N&page_token=T
    200 {"items": [...], "next_page_token": "..." | null}

Items come sorted ascending by ``(updated_at, case_number)``; ``updated_since`` is inclusive;
``page_size`` defaults to 100 and may be at most 1000. The page token is opaque to clients: it
encodes the sort key of the last item handed out, so records appended to the file while a
client pages through still show up (after that key) and no item is served twice. Bad
parameters get ``400 {"error": "..."}``. The file is re-read whenever its modification time
(or size) changes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "create_simulator", "run_simulator"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

log = logging.getLogger(__name__)

_SortKey = tuple[datetime, str]


class _BadRequest(Exception):
    pass


def _parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is taken as UTC."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple[int, int]
    keys: list[_SortKey]
    items: list[dict[str, Any]]


class _Feed:
    """The JSON-lines file, parsed and sorted, reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    def snapshot(self) -> _Snapshot:
        stat = self.path.stat()
        # Size as well as mtime: an append within the file system's timestamp granularity
        # would otherwise go unnoticed.
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._snapshot is None or self._snapshot.stamp != stamp:
                self._snapshot = self._load(stamp)
            return self._snapshot

    def _load(self, stamp: tuple[int, int]) -> _Snapshot:
        keyed: list[tuple[_SortKey, dict[str, Any]]] = []
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    key = (_parse_instant(item["updated_at"]), str(item["case_number"]))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    # A department's API would not serve a broken row either; say so and go on.
                    log.warning("%s line %d skipped: %s", self.path, number, exc)
                    continue
                keyed.append((key, item))
        keyed.sort(key=lambda pair: pair[0])
        return _Snapshot(stamp, [k for k, _ in keyed], [item for _, item in keyed])


def _encode_token(key: _SortKey) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> _SortKey:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        moment, case_number = json.loads(raw)
        if not isinstance(case_number, str) or not isinstance(moment, str):
            raise TypeError("token fields have the wrong types")
        return _parse_instant(moment), case_number
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise _BadRequest("page_token is not a token this API issued") from exc


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as exc:
        raise _BadRequest(f"page_size must be an integer, got {raw!r}") from exc
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _BadRequest(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def create_simulator(jsonl_path: Path, *, path: str = "/api/dishonest-debtors") -> Flask:
    """A Flask app serving ``jsonl_path`` at ``path`` with the paging protocol above."""
    feed = _Feed(Path(jsonl_path))
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.errorhandler(_BadRequest)
    def bad_request(exc: _BadRequest) -> tuple[Response, int]:
        return jsonify(error=str(exc)), 400

    @app.get(path)
    def dishonest_debtors() -> Response:
        args = request.args
        size = _page_size(args.get("page_size"))
        snapshot = feed.snapshot()
        start = 0
        since = args.get("updated_since")
        if since:
            try:
                moment = _parse_instant(since)
            except ValueError as exc:
                raise _BadRequest(f"updated_since is not an ISO 8601 time: {since!r}") from exc
            # Inclusive: the smallest key at that instant sorts before any real case number.
            start = bisect_left(snapshot.keys, (moment, ""))
        token = args.get("page_token")
        if token:
            start = max(start, bisect_right(snapshot.keys, _decode_token(token)))
        end = start + size
        items = snapshot.items[start:end]
        next_token = _encode_token(snapshot.keys[end - 1]) if end < len(snapshot.items) else None
        return jsonify(items=items, next_page_token=next_token)

    return app


def run_simulator(*, jsonl_path: Path, host: str = "127.0.0.1", port: int = 5050) -> None:
    """Serve the simulator with waitress until interrupted."""
    from waitress import serve

    serve(create_simulator(jsonl_path), host=host, port=port)
