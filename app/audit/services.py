"""Writing the append-only audit trail. Never commits: the event lands with the action."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from ..models import ApiClient, AuditEvent


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
