"""Writing the append-only audit trail. Never commits: the event lands with the action."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiClient, AuditEvent
from ..pagination import paginate


def record_event(
    *,
    session: Session,
    client: ApiClient | None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append who did ``action`` to which target; inside a request, its id and address too."""
    event = AuditEvent(
        client_id=client.id if client else None,
        actor=client.name if client else "public",
        role=client.role.value if client else "public",
        action=action,
        target_type=target_type,
        target_id=target_id,
        request_id=g.get("request_id") if has_request_context() else None,
        client_address=request.remote_addr if has_request_context() else None,
        details=details or {},
    )
    session.add(event)
    return event


def list_events(
    *, session: Session, filters: dict[str, Any], page: int, page_size: int
) -> tuple[list[AuditEvent], int]:
    """Audit events, newest first, filtered by any of actor, role, action, target, request id
    and a time range (timezone-less bounds are read as UTC)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    for name in ("actor", "role", "action", "target_type", "target_id", "request_id"):
        if filters.get(name):
            query = query.where(getattr(AuditEvent, name) == filters[name])
    if filters.get("since"):
        query = query.where(AuditEvent.occurred_at >= _aware(filters["since"]))
    if filters.get("until"):
        query = query.where(AuditEvent.occurred_at <= _aware(filters["until"]))
    rows, total = paginate(session, query, page=page, page_size=page_size)
    return [row[0] for row in rows], total


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
