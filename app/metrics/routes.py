"""``GET /metrics``: the service's figures for Prometheus (see docs/serving.md)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from app.metrics.access import require_metrics_reader
from app.metrics.services import ScrapeTimeCollector
from app.runtime import request_session
from core.metrics import exposition

blp = Blueprint("metrics", __name__)


@blp.get("/metrics")
def metrics() -> Response:
    require_metrics_reader()
    body = exposition(ScrapeTimeCollector(session=request_session()))
    # The classic text format (what generate_latest writes): every Prometheus reads it.
    response = Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response.headers["Cache-Control"] = "no-store"
    return response
