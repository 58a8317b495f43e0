"""The record views and blocking keys of records linked before they existed.

Ingest finds the records a new record is compared with only through ``record_match_views``
and ``record_block_keys`` (:mod:`resolution.record_views`), which migration 0013 creates
empty. A database that held linked records before it could match none of them, and every new
record about those parties would make a duplicate entity. :func:`backfill_record_views`
builds the missing rows with the code ingest writes them with (``record_for_matching``,
``view_of``, ``stored_block_keys``, ``write_record_views``), one chunk per call.

Which entity: the one the record's credit record is linked to now (a split moves it, see
``resolution.corrections.split_entity``). Ingest stores a view under the entity the record was
linked to and lets the matcher follow ``merged_into_id`` to the survivor, so a merged entity's
id is kept as it is.

The stored payload is validated again by the caller's ``validate`` (ingest owns the feed
mappings and the schemas, and sits above this layer); a record that no longer validates
under its feed's current mapping is counted and left without a view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from core.models import CreditRecord, RecordMatchView, SourceRecord, SourceStatus
from matching.exact import party_keys
from matching.records import prepare
from resolution.record_views import (
    record_for_matching,
    stored_block_keys,
    view_of,
    write_record_views,
)

__all__ = ["BackfillChunk", "ValidateStored", "backfill_record_views", "records_without_views"]

# (feed id, raw payload) -> the validated record, or None when it no longer validates.
ValidateStored = Callable[[int, dict[str, Any]], dict[str, Any] | None]

DEFAULT_CHUNK = 500


@dataclass(frozen=True)
class BackfillChunk:
    """What one call did: records given views, records left without one (their payload no
    longer validates), and the last source id read (the next call starts after it; None when
    nothing was left)."""

    indexed: int
    unreadable: int
    last_id: int | None


def _missing(after: int) -> Select[tuple[int, int, dict[str, Any], int | None]]:
    """Accepted source records linked to an entity (through their credit record) and without
    a view, after source id ``after``, in id order."""
    return (
        select(
            SourceRecord.id,
            SourceRecord.feed_id,
            SourceRecord.raw_payload,
            CreditRecord.entity_id,
        )
        .join(CreditRecord, CreditRecord.source_record_id == SourceRecord.id)
        .where(
            SourceRecord.status == SourceStatus.ACCEPTED,
            CreditRecord.entity_id.is_not(None),
            SourceRecord.id > after,
            ~exists().where(RecordMatchView.source_record_id == SourceRecord.id),
        )
        .order_by(SourceRecord.id)
    )


def records_without_views(*, session: Session) -> bool:
    """Whether any linked, accepted record has no view (one indexed query)."""
    first = session.execute(_missing(0).with_only_columns(SourceRecord.id).limit(1)).first()
    return first is not None


def backfill_record_views(
    *,
    session: Session,
    validate: ValidateStored,
    after: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
) -> BackfillChunk:
    """Build the views and blocking keys of at most ``chunk_size`` linked records without one
    (source id above ``after``), exactly as ingest builds them. Records that have a view are
    never read, so running it again adds nothing. Does not commit: the caller commits each
    chunk and passes ``last_id`` as the next ``after``."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    rows = session.execute(_missing(after).limit(chunk_size)).all()
    if not rows:
        return BackfillChunk(indexed=0, unreadable=0, last_id=None)
    written: list[tuple[int, int, dict[str, Any], frozenset[str]]] = []
    unreadable = 0
    for source_id, feed_id, payload, entity_id in rows:
        record = validate(feed_id, payload)
        if record is None or entity_id is None:
            unreadable += 1
            continue
        matchable = record_for_matching(
            record, kind=party_keys(record).kind, record_id=f"record:{source_id}"
        )
        written.append(
            (source_id, entity_id, view_of(matchable), stored_block_keys(prepare(matchable)))
        )
    write_record_views(session, written)
    return BackfillChunk(indexed=len(written), unreadable=unreadable, last_id=rows[-1][0])
