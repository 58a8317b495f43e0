"""Reading the quarantine and the ingest run history, scoped to what the caller may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import paginate
from core.models import ApiClient, Feed, IngestRun, Role, SourceRecord, SourceStatus

_RUN_COUNTS = ("fetched", "accepted", "duplicate", "updated", "quarantined", "linked")


def _scope_to_department(query: Any, client: ApiClient) -> Any:
    # Departments see their own feeds only; regulators and analysts see all.
    if client.role is Role.DEPARTMENT:
        return query.where(Feed.department_id == client.department_id)
    return query


def list_quarantine(
    *, session: Session, client: ApiClient, feed_code: str | None, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """Records waiting in quarantine (rejected and not replaced by a later version)."""
    query = (
        select(SourceRecord, Feed.code)
        .join(Feed)
        .where(SourceRecord.status == SourceStatus.QUARANTINED)
        .order_by(SourceRecord.id)
    )
    if feed_code:
        query = query.where(Feed.code == feed_code)
    rows, total = paginate(
        session, _scope_to_department(query, client), page=page, page_size=page_size
    )
    items = [
        {
            "id": record.id,
            "feed": code,
            "source_key": record.source_key,
            "version": record.version,
            "origin": record.origin,
            "received_at": record.received_at,
            "errors": record.errors,
            "raw_payload": record.raw_payload,
        }
        for record, code in rows
    ]
    return items, total


def list_runs(
    *,
    session: Session,
    client: ApiClient,
    feed_code: str | None,
    status: str | None,
    page: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    query = select(IngestRun, Feed.code).join(Feed).order_by(IngestRun.id.desc())
    if feed_code:
        query = query.where(Feed.code == feed_code)
    if status:
        query = query.where(IngestRun.status == status)
    rows, total = paginate(
        session, _scope_to_department(query, client), page=page, page_size=page_size
    )
    items = [
        {
            "id": run.id,
            "feed": code,
            "trigger": run.trigger,
            "status": run.status.value,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "new_entities": run.new_entities,
            "error": run.error,
            **{name: getattr(run, name) for name in _RUN_COUNTS},
        }
        for run, code in rows
    ]
    return items, total
