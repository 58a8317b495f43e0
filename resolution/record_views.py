"""Linked records as the matcher reads them: the ``MatchRecord`` made of a validated record
(:func:`record_for_matching`), its stored form (:func:`view_of`, a ``RecordMatchView`` row's
JSON) with its blocking keys (:func:`stored_block_keys`, ``RecordBlockKey`` rows), writing
both (:func:`write_record_views`), reading a view back (:func:`match_record_of`), and the
process's cache of stored views already prepared (:data:`PREPARED_VIEWS`).

Ingest (:mod:`resolution.record_matching`), relinking and the backfill of records linked
before the views existed (:mod:`resolution.view_backfill`) all go through here, so the rows
they write are the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import RecordBlockKey, RecordMatchView
from matching.blocking import blocking_keys
from matching.records import MatchRecord, Prepared, prepare

__all__ = [
    "PREPARED_VIEWS",
    "PreparedViews",
    "match_record_of",
    "record_for_matching",
    "stored_block_keys",
    "view_of",
    "write_record_views",
]

# The key column's length (longer keys are not stored, so never found).
_MAX_KEY_LENGTH = 200


def record_for_matching(record: dict[str, Any], *, kind: str, record_id: str) -> MatchRecord:
    """A validated record as the matcher takes it: its name, codes, legal representative,
    address, phone, postcode and the birth date and gender the feed gives (a resident id's
    own are read by ``matching.records.prepare``, and win)."""
    codes = tuple(
        str(record[f])
        for f in ("uscc", "org_code", "registration_number", "taxpayer_number", "code", "id_number")
        if record.get(f)
    )
    return MatchRecord(
        record_id=record_id,
        name=str(record.get("party_name") or ""),
        kind=kind,
        codes=codes,
        legal_rep=record.get("legal_rep"),
        address=record.get("address"),
        birth_date=record.get("birth_date"),
        postcode=record.get("postcode"),
        phone=record.get("phone"),
        gender=record.get("gender"),
    )


def view_of(record: MatchRecord) -> dict[str, Any]:
    """A record's matcher fields as stored JSON (the record id is the row's key)."""
    birth = record.birth_date
    return {
        "name": record.name,
        "kind": record.kind,
        "codes": list(record.codes),
        "legal_rep": record.legal_rep,
        "address": record.address,
        "birth_date": birth.isoformat() if isinstance(birth, date) else birth,
        "postcode": record.postcode,
        "phone": record.phone,
        "gender": record.gender,
    }


def stored_block_keys(record: Prepared, keys: Iterable[str] | None = None) -> frozenset[str]:
    """The blocking keys stored for a linked record: those the key column holds. ``keys``:
    the record's blocking keys, when known already."""
    found = blocking_keys(record) if keys is None else keys
    return frozenset(k for k in found if len(k) <= _MAX_KEY_LENGTH)


def write_record_views(
    session: Session, rows: list[tuple[int, int, dict[str, Any], frozenset[str]]]
) -> None:
    """Store linked records as the matcher reads them: ``(source id, entity id, view_of(..),
    stored_block_keys(..))`` each, one statement per table. Ingest
    (:meth:`resolution.record_matching.RecordMatcher.flush`) and the backfill of records
    linked before the views existed (:mod:`resolution.view_backfill`) both write through here."""
    if not rows:
        return
    insert_rows(
        session,
        RecordMatchView.__table__,
        [{"source_record_id": s, "entity_id": e, "view": v} for s, e, v, _ in rows],
    )
    insert_rows(
        session,
        RecordBlockKey.__table__,
        [{"key": k, "source_record_id": s} for s, _, _, keys in rows for k in keys],
    )


def match_record_of(source_id: int, view: dict[str, Any]) -> MatchRecord:
    """The stored view of record ``source_id`` as the matcher takes it."""
    return MatchRecord(
        record_id=f"record:{source_id}",
        name=str(view.get("name") or ""),
        kind=view.get("kind"),
        codes=tuple(view.get("codes") or ()),
        legal_rep=view.get("legal_rep"),
        address=view.get("address"),
        birth_date=view.get("birth_date"),
        postcode=view.get("postcode"),
        phone=view.get("phone"),
        gender=view.get("gender"),
    )


_VIEW_FIELDS = (
    "name",
    "kind",
    "codes",
    "legal_rep",
    "address",
    "birth_date",
    "postcode",
    "phone",
    "gender",
)


def _frozen(view: dict[str, Any]) -> tuple[Any, ...]:
    """A stored view as a hashable key (every field, so equal keys mean equal records)."""
    return tuple(
        tuple(value) if isinstance(value, list) else value
        for value in (view.get(name) for name in _VIEW_FIELDS)
    )


class PreparedViews:
    """Stored records prepared once per process, not once per batch that reads them (the
    records of one party are read again by every batch holding another of its records), and
    records linked by a batch kept as prepared then. Keyed by the source id and the whole
    view, so records of other databases in the same process never collide: as the view's
    JSON text the database returns (:meth:`get_text`: a hit costs neither decoding the JSON
    nor building a key of its fields; the text is SQLite's stored text or PostgreSQL's JSONB
    output, so one entry per backend) or as its fields (:meth:`get`, :meth:`put`). At most
    ``maxsize`` entries (a few KB each, so some 150 MB at most); a full cache starts again."""

    def __init__(self, maxsize: int = 1 << 16) -> None:
        self.maxsize = maxsize
        self._entries: dict[tuple[int, Any], Prepared] = {}

    def get_text(self, source_id: int, text: str) -> Prepared:
        """Record ``source_id`` from its stored view as JSON text."""
        found = self._entries.get((source_id, text))
        if found is None:
            view = json.loads(text)
            found = self.get(source_id, view)
            # From now on the text finds it: one entry a record, not two.
            self._entries.pop((source_id, _frozen(view)), None)
            self._store((source_id, text), found)
        return found

    def get(self, source_id: int, view: dict[str, Any]) -> Prepared:
        """Record ``source_id`` from its stored view."""
        key = (source_id, _frozen(view))
        found = self._entries.get(key)
        if found is None:
            found = prepare(match_record_of(source_id, view))
            self._store(key, found)
        return found

    def put(self, source_id: int, view: dict[str, Any], record: Prepared) -> None:
        """``record`` is what :meth:`get` will find for ``view`` (a record linked just now:
        what the next batches read back; JSON turns its tuples into lists)."""
        self._store((source_id, _frozen(view)), record)

    def _store(self, key: tuple[int, Any], record: Prepared) -> None:
        if len(self._entries) >= self.maxsize:
            self._entries.clear()
        self._entries[key] = record


PREPARED_VIEWS = PreparedViews()
