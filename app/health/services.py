"""Health checks, usable from the API and the CLI alike."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.migrate import current_revision, head_revision

# The code's migration head is read from the migration scripts (Alembic compiles every one of
# them: about 30 ms) and cannot change while the process runs, so it is read once. The database's
# own revision is still read on every probe (one small query): a database migrated down or
# replaced under a running server must turn the probe down.
_code_head = functools.cache(head_revision)


def database_health(*, engine: Engine) -> dict[str, Any]:
    """Reachability, dialect and schema revision; never raises for a database fault."""
    report: dict[str, Any] = {
        "dialect": engine.dialect.name,
        "reachable": False,
        "revision": None,
        "head": _code_head(),
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
