"""``GET /healthz``: is the database reachable, and is its schema at the code's revision."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.health.services import database_health
from app.runtime import runtime

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> tuple[Response, int]:
    report = database_health(engine=runtime().engine)
    ok = report["reachable"] and report["up_to_date"]
    body = {"status": "ok" if ok else "unavailable", "database": report}
    return jsonify(body), 200 if ok else 503
