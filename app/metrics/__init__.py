"""``GET /metrics`` (Prometheus text format) and the per-request figures it shows.

Every request is timed from before the first ``before_request`` hook to the response, and
counted under its Flask endpoint name (``unmatched`` for a URL no route matches), method and
status: never the path, whose ids and query strings would be personal data and unbounded.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from app.runtime import runtime
from core.metrics import observe_request, watch_pool

UNMATCHED = "unmatched"


def init_app(app: Flask) -> None:
    """Time every request; register ``/metrics``. Call before any other ``before_request``
    hook is registered, so their work (token look-up, rate limit) is in the time."""
    from app.metrics.routes import blp

    watch_pool(runtime(app).engine)

    @app.before_request
    def _start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            observe_request(
                endpoint=request.endpoint or UNMATCHED,
                method=request.method,
                status=response.status_code,
                seconds=time.perf_counter() - started,
            )
        return response

    app.register_blueprint(blp)
