"""Reading the audit trail (writing it is :mod:`core.audit`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import paginate
from core.models import AuditEvent


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
