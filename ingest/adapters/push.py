"""Push adapter: a department sends its records itself (``POST /api/v1/records``) instead of
CreditHub pulling them. One request is one :class:`Batch` of at most :data:`MAX_PUSH_RECORDS`
items, stored as one run by ``ingest.runner.run_push`` in the request's own transaction.

Every item gets an outcome in the request's order. An item that is not an object or has no
usable ``source_id`` (the sender's id for the record, its source key) cannot be keyed, so it
goes to quarantine as unreadable, with the reason, rather than failing the request.

A pushed record's key within its feed is its ``source_id`` and nothing else: the feed's
mapping may name a key column (the penalty preset names the decision number), but two items
with different source ids are two records, and the same source id again is the same record
(a duplicate or its next version).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ingest.adapters.base import Batch, RawRecord

MAX_PUSH_RECORDS = 1000

T = TypeVar("T")


class InvalidPush(ValueError):
    """The items cannot be taken as a batch at all: none, or more than one request may hold."""


@dataclass
class PushedBatch:
    batch: Batch
    # The request's order: each item's place among the batch's records (True) or among its
    # unreadable ones (False).
    order: list[tuple[bool, int]]

    def in_request_order(self, outcomes: Sequence[T]) -> list[T]:
        """``outcomes`` as the pipeline reports them (readable records first, then unreadable
        ones), put back in the order of the request's items."""
        readable = len(self.batch.records)
        records, unreadable = outcomes[:readable], outcomes[readable:]
        return [records[i] if ok else unreadable[i] for ok, i in self.order]


def batch_from_items(*, items: list[Any], sender: str) -> PushedBatch:
    """The pushed ``items`` as one batch; each record's origin names ``sender`` and the item's
    index. Raises :class:`InvalidPush` for no items or more than :data:`MAX_PUSH_RECORDS`."""
    if not items:
        raise InvalidPush("records must hold at least one record")
    if len(items) > MAX_PUSH_RECORDS:
        raise InvalidPush(f"at most {MAX_PUSH_RECORDS} records per request, got {len(items)}")
    records: list[RawRecord] = []
    unreadable: list[tuple[RawRecord, str]] = []
    order: list[tuple[bool, int]] = []
    for index, item in enumerate(items):
        origin = f"push by {sender} item {index}"
        if not isinstance(item, dict):
            unreadable.append(
                (RawRecord({"_raw": json.dumps(item)[:10000]}, origin), "not an object")
            )
            order.append((False, len(unreadable) - 1))
        elif (problem := _source_id_problem(item.get("source_id"))) is not None:
            unreadable.append((RawRecord(item, origin), problem))
            order.append((False, len(unreadable) - 1))
        else:
            # The sender's id is the key, never a field of the record: two records with one
            # decision number (two parties of one decision, a department's typo) stay two.
            records.append(RawRecord(item, origin, key=str(item["source_id"]).strip()))
            order.append((True, len(records) - 1))
    return PushedBatch(Batch(records=records, unreadable=unreadable), order)


def _source_id_problem(source_id: Any) -> str | None:
    # Tested for None and blank, not falsiness: 0 is an id. A structure is not one (its text,
    # "{'a': 1}", would have been the record's key).
    if source_id is None or (isinstance(source_id, str) and not source_id.strip()):
        return "source_id is required"
    if isinstance(source_id, bool) or not isinstance(source_id, str | int):
        return "source_id must be text or an integer"
    return None
