"""Health checks, usable from the API and the CLI alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.migrate import current_revision, head_revision


def database_health(*, engine: Engine) -> dict[str, Any]:
    """Reachability, dialect and schema revision; never raises for a database fault."""
    report: dict[str, Any] = {
        "dialect": engine.dialect.name,
        "reachable": False,
        "revision": None,
        "head": head_revision(),
        "up_to_date": False,
    }
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        report["reachable"] = True
        report["revision"] = current_revision(engine)
    except SQLAlchemyError as exc:
        report["error"] = type(exc).__name__
        return report
    report["up_to_date"] = report["revision"] == report["head"]
    return report
