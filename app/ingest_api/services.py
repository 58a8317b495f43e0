"""Reading the quarantine, the files set aside and the ingest run history, scoped to what the
caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import paginate
from core.models import (
    ApiClient,
    Feed,
    IngestedFile,
    IngestRun,
    Role,
    SourceRecord,
    SourceStatus,
)

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


@dataclass(frozen=True)
class SetAsideFile:
    """A dropped file that could not be read, as it is now (not read since in another
    version): the feed reads it again only once its content changes."""

    feed_id: int
    name: str
    size: int
    sha256: str
    reason: str
    set_aside_at: datetime
    run_id: int | None


def files_set_aside(
    *, session: Session, feed_ids: set[int] | None = None
) -> dict[int, list[SetAsideFile]]:
    """feed id -> its files whose latest receipt (by name) is a set-aside one, by name.

    Reads the receipts of the feeds (a row per file version, not per record)."""
    query = select(IngestedFile).order_by(IngestedFile.id)
    if feed_ids is not None:
        query = query.where(IngestedFile.feed_id.in_(feed_ids))
    latest: dict[tuple[int, str], IngestedFile] = {}
    for receipt in session.scalars(query):
        latest[(receipt.feed_id, receipt.name)] = receipt
    found: dict[int, list[SetAsideFile]] = {}
    for (feed_id, name), receipt in sorted(latest.items()):
        if receipt.set_aside_reason is not None:
            found.setdefault(feed_id, []).append(
                SetAsideFile(
                    feed_id=feed_id,
                    name=name,
                    size=receipt.size,
                    sha256=receipt.sha256,
                    reason=receipt.set_aside_reason,
                    set_aside_at=receipt.processed_at,
                    run_id=receipt.ingest_run_id,
                )
            )
    return found


def list_set_aside(
    *, session: Session, client: ApiClient, feed_code: str | None, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """Files set aside unread, feed by feed, by name (departments: their own feeds)."""
    feeds = _scope_to_department(select(Feed.id, Feed.code), client)
    if feed_code:
        feeds = feeds.where(Feed.code == feed_code)
    codes: dict[int, str] = {feed_id: code for feed_id, code in session.execute(feeds)}
    found = files_set_aside(session=session, feed_ids=set(codes))
    every = [f for feed_id in sorted(found, key=codes.__getitem__) for f in found[feed_id]]
    start = (page - 1) * page_size
    items = [
        {
            "feed": codes[f.feed_id],
            "name": f.name,
            "size": f.size,
            "sha256": f.sha256,
            "reason": f.reason,
            "set_aside_at": f.set_aside_at,
            "run_id": f.run_id,
        }
        for f in every[start : start + page_size]
    ]
    return items, len(every)


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
    set_aside: dict[int, list[dict[str, Any]]] = {}
    run_ids = [run.id for run, _code in rows]
    receipts = session.scalars(
        select(IngestedFile)
        .where(IngestedFile.ingest_run_id.in_(run_ids), IngestedFile.set_aside_reason.is_not(None))
        .order_by(IngestedFile.id)
    )
    for receipt in receipts:
        set_aside.setdefault(receipt.ingest_run_id or 0, []).append(
            {"name": receipt.name, "sha256": receipt.sha256, "reason": receipt.set_aside_reason}
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
            "set_aside_files": set_aside.get(run.id, []),
            **{name: getattr(run, name) for name in _RUN_COUNTS},
        }
        for run, code in rows
    ]
    return items, total
