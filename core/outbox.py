"""The outbox: change events written in the same transaction as the change (issue 16).

Every change a subscriber may be told about passes through here, so the hooks are two:

* an ORM ``before_flush`` listener (registered by importing this module, which
  ``core.models`` does): a credit record added through the ORM is ``record.created`` (and
  ``list.entered`` for a list entry); a stored record whose status becomes ``repaired`` is
  ``record.repaired``, ``disputed`` is ``record.disputed``; a list entry given a removal date
  is ``list.left``; any other change to a record's columns is ``record.updated``. Repairs,
  objections and the next version of an ingested record all change records through the ORM,
  so they need no code of their own;
* :func:`emit_inserted`, called by ingest where it bulk-inserts new credit rows (bulk inserts
  bypass the ORM): ``record.created`` and ``list.entered`` by source record.

``grade.changed`` is not written here: a grade depends on who looks (sharing), so the
delivery worker derives it per subscriber from the record events
(``app/subscriptions/worker.py``). Events are rows in the caller's session: never committed
here, they land with the change or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import CreditRecord, CreditStatus, OutboxEvent, RecordCategory, utcnow

RECORD_CREATED = "record.created"
RECORD_UPDATED = "record.updated"
LIST_ENTERED = "list.entered"
LIST_LEFT = "list.left"
RECORD_REPAIRED = "record.repaired"
RECORD_DISPUTED = "record.disputed"
GRADE_CHANGED = "grade.changed"
EVENT_KINDS = (
    RECORD_CREATED,
    RECORD_UPDATED,
    LIST_ENTERED,
    LIST_LEFT,
    RECORD_REPAIRED,
    RECORD_DISPUTED,
    GRADE_CHANGED,
)
_LISTS = (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST, "list_entry", "red_list")
# Columns whose change is bookkeeping, not news.
_QUIET = {"updated_at", "link_confidence"}
_STATUS_KINDS = {CreditStatus.REPAIRED: RECORD_REPAIRED, CreditStatus.DISPUTED: RECORD_DISPUTED}


def emit_inserted(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Events for credit rows bulk-inserted in ``session``'s transaction (dicts with at
    least ``source_record_id``, ``entity_id``, ``category`` and ``removed_on``)."""
    now = utcnow()
    events: list[dict[str, Any]] = []
    for row in rows:
        kinds = [RECORD_CREATED]
        if row.get("category") in _LISTS and row.get("removed_on") is None:
            kinds.append(LIST_ENTERED)
        events += [
            {
                "kind": kind,
                "source_record_id": row["source_record_id"],
                "entity_id": row.get("entity_id"),
                "data": {},
                "occurred_at": now,
                "fanned_out": False,
            }
            for kind in kinds
        ]
    # In bulk, as the rows themselves were: an ingest batch inserts thousands.
    insert_rows(session, cast(Table, OutboxEvent.__table__), events)


@event.listens_for(Session, "before_flush")
def _record_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.new):
        if isinstance(obj, CreditRecord):
            session.add(OutboxEvent(kind=RECORD_CREATED, record=obj, entity_id=obj.entity_id))
            if obj.category in _LISTS and obj.removed_on is None:
                session.add(OutboxEvent(kind=LIST_ENTERED, record=obj, entity_id=obj.entity_id))
    for obj in list(session.dirty):
        if isinstance(obj, CreditRecord) and session.is_modified(obj):
            kind = _change_kind(obj)
            if kind is not None:
                session.add(OutboxEvent(kind=kind, record=obj, entity_id=obj.entity_id))


def _change_kind(record: CreditRecord) -> str | None:
    state = inspect(record)
    changed = {
        attr.key
        for attr in state.attrs
        if attr.key in CreditRecord.__table__.c and attr.history.has_changes()
    }
    if "status" in changed and record.status in _STATUS_KINDS:
        return _STATUS_KINDS[record.status]
    removed = state.attrs.removed_on.history
    if "removed_on" in changed and record.removed_on is not None and not any(removed.deleted):
        return LIST_LEFT
    return RECORD_UPDATED if changed - _QUIET else None
