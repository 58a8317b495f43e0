"""``GET /healthz``: is the service up (database reachable, schema at the code's revision).

Anyone (load balancers, ``make run``'s check) learns only up or down. The database dialect,
the stamped and expected schema revisions and a connection error's class name tell an
attacker which database and which release they face, so only a regulator's bearer token
gets them; ``credithub db status`` calls :func:`database_health` directly on the server.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.auth.access import current_role
from app.health.services import database_health
from app.runtime import runtime
from core.models import Role

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> tuple[Response, int]:
    report = database_health(engine=runtime().engine)
    up = report["reachable"] and report["up_to_date"]
    body: dict[str, Any] = {"status": "up" if up else "down"}
    if report["reachable"] and _caller_is_regulator():
        body["database"] = report
    return jsonify(body), 200 if up else 503


def _caller_is_regulator() -> bool:
    """True for a valid regulator token; a bad token is refused (401) as everywhere else.

    A database whose schema is behind may have no client table to check a token against:
    then nobody is known to be a regulator (``credithub db status`` still tells the operator).
    """
    try:
        return current_role() is Role.REGULATOR
    except SQLAlchemyError:
        return False
