"""Writing the append-only audit trail. Never commits: the event lands with the action.

No Flask here: the web layer binds the current request's id and address with
:func:`bind_request_origin` (a context variable), so services below the web layer write the
same audit rows whether they run in a request, a CLI command or a scheduled job.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from core.models import ApiClient, AuditEvent, utcnow


@dataclass(frozen=True)
class RequestOrigin:
    """Where the current action came from, as the audit trail records it."""

    request_id: str | None
    client_address: str | None
    # The id the caller sent (X-Request-ID), kept beside the server's, never instead of it.
    client_request_id: str | None = None


# Spaces, dashes and dots do not change what a code query asks for.
_QUERY_NOISE = re.compile(r"[\s\-.]+")


def query_hash(query: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of a search query under ``key``, for the audit trail in place of the
    query: the same query (whatever its width, case or spacing) always gives the same hash, so
    repeated and enumerated look-ups show, but no number can be read back without the key."""
    normal = _QUERY_NOISE.sub("", unicodedata.normalize("NFKC", query)).upper()
    return hmac.new(key, normal.encode(), hashlib.sha256).hexdigest()


_ORIGIN: ContextVar[RequestOrigin | None] = ContextVar("credithub_request_origin", default=None)


def bind_request_origin(origin: RequestOrigin | None) -> None:
    """Make ``origin`` the one audit events record until it is bound again (``None`` at the end
    of a request)."""
    _ORIGIN.set(origin)


def current_request_origin() -> RequestOrigin | None:
    """The origin bound for the current request (None outside one): for log lines."""
    return _ORIGIN.get()


def record_event(
    *,
    session: Session,
    client: ApiClient | None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append who did ``action`` to which target; inside a request, its id and address too.

    The row is inserted at once, in ``session``'s transaction (it stands or falls with the
    action), by one statement built once per process: every search writes one, and the ORM's
    unit of work cost about a millisecond a request for an object nobody reads back."""
    origin = _ORIGIN.get()
    details = dict(details or {})
    if origin is not None and origin.client_request_id:
        details["client_request_id"] = origin.client_request_id
    row = {
        "occurred_at": utcnow(),
        "client_id": client.id if client else None,
        "actor": client.name if client else "public",
        "role": client.role.value if client else "public",
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "request_id": origin.request_id if origin else None,
        "client_address": origin.client_address if origin else None,
        "details": details,
    }
    session.execute(_insert_event(), row)


@functools.cache
def _insert_event() -> Any:
    table: Table = AuditEvent.__table__  # type: ignore[assignment]
    return insert(table)
