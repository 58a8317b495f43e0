"""Per-client rate limit: a sliding one-minute window per token (per address for callers
without one). In memory, per process: enough to stop a runaway client hammering one server;
a multi-server deployment would move the counters to a shared store.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from flask import Flask, request
from werkzeug.exceptions import TooManyRequests

WINDOW_SECONDS = 60.0


class SlidingWindow:
    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float:
        """Record a request; returns 0 if allowed, else the seconds until one is allowed."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= moment - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - moment
            hits.append(moment)
            return 0.0


def init_app(app: Flask, *, per_minute: int) -> None:
    if per_minute <= 0:
        return
    window = SlidingWindow(per_minute)

    @app.before_request
    def _limit() -> None:
        if not request.path.startswith("/api/"):
            return
        header = request.headers.get("Authorization", "")
        key = f"token:{header[-16:]}" if header else f"addr:{request.remote_addr}"
        wait = window.hit(key)
        if wait > 0:
            exc = TooManyRequests(
                description=f"More than {per_minute} requests a minute; retry in {wait:.0f} s."
            )
            exc.retry_after = math.ceil(wait)  # type: ignore[attr-defined]
            raise exc
