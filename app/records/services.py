"""Departments pushing records. Never commits: the request owns the transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AdapterKind, ApiClient, Feed, IngestRun, IngestRunStatus, utcnow
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.outcomes import Counts, ItemOutcome
from ingest.pipeline.store import store_batch

MAX_PUSH_RECORDS = 1000


class PushRefused(Exception):
    """The push cannot be taken at all; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class PushResult:
    run_id: int
    counts: Counts
    items: list[ItemOutcome]


def push_records(
    *, session: Session, client: ApiClient, feed_code: str, items: list[Any]
) -> PushResult:
    """Store ``items`` for ``feed_code`` as one batch (one ingest run), item by item.

    Idempotent on (feed, ``source_id``): the same item again is a duplicate, a changed one a new
    version. Items that fail validation are kept in quarantine and reported ``rejected``.
    Raises :class:`PushRefused` (404 unknown feed, 409 not a push feed, 403 another
    department's feed, 422 too many or no items).
    """
    feed = session.scalar(select(Feed).where(Feed.code == feed_code))
    if feed is None:
        raise PushRefused(404, f"no feed {feed_code!r}")
    if feed.adapter is not AdapterKind.PUSH:
        raise PushRefused(409, f"feed {feed_code!r} is pulled by CreditHub, not pushed")
    if client.department_id is None or feed.department_id != client.department_id:
        raise PushRefused(403, f"feed {feed_code!r} belongs to another department")
    if not items:
        raise PushRefused(422, "records must hold at least one record")
    if len(items) > MAX_PUSH_RECORDS:
        raise PushRefused(422, f"at most {MAX_PUSH_RECORDS} records per request, got {len(items)}")

    records: list[RawRecord] = []
    unreadable: list[tuple[RawRecord, str]] = []
    order: list[tuple[bool, int]] = []
    for index, item in enumerate(items):
        origin = f"push by {client.name} item {index}"
        if not isinstance(item, dict):
            unreadable.append(
                (RawRecord({"_raw": json.dumps(item)[:10000]}, origin), "not an object")
            )
            order.append((False, len(unreadable) - 1))
        elif (problem := _source_id_problem(item.get("source_id"))) is not None:
            unreadable.append((RawRecord(item, origin), problem))
            order.append((False, len(unreadable) - 1))
        else:
            records.append(RawRecord(item, origin))
            order.append((True, len(records) - 1))

    run = IngestRun(feed_id=feed.id, trigger="push", status=IngestRunStatus.RUNNING)
    session.add(run)
    session.flush()
    outcomes: list[ItemOutcome] = []
    batch = Batch(records=records, unreadable=unreadable)
    counts = store_batch(session=session, feed=feed, run=run, batch=batch, outcomes=outcomes)
    run.status, run.finished_at = IngestRunStatus.SUCCEEDED, utcnow()
    # store_batch reports readable records first, then unreadable ones: restore request order.
    readable, broken = outcomes[: len(records)], outcomes[len(records) :]
    ordered = [readable[i] if ok else broken[i] for ok, i in order]
    return PushResult(run.id, counts, ordered)


def _source_id_problem(source_id: Any) -> str | None:
    # Tested for None and blank, not falsiness: 0 is an id. A structure is not one (its text,
    # "{'a': 1}", would have been the record's key).
    if source_id is None or (isinstance(source_id, str) and not source_id.strip()):
        return "source_id is required"
    if isinstance(source_id, bool) or not isinstance(source_id, str | int):
        return "source_id must be text or an integer"
    return None
