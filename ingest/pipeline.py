"""Storing a batch: exactly-once source records, validation with quarantine, versions,
credit records and entity links, counts. Never commits: the caller owns the transaction, and
stores the batch's watermark and file receipt in that same transaction.

Exactly once: a record is identified by (feed, source key). Re-delivered with the same payload
hash, it is a duplicate and is not stored again (the identical payload is already there). With a
different payload it becomes the next version: the previous accepted version is marked
superseded (its payload stays readable) and the credit record follows the new version.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    CreditRecord,
    CreditStatus,
    Feed,
    IngestedFile,
    IngestRun,
    RecordCategory,
    SourceRecord,
    SourceStatus,
)
from matching.exact import PartyKeys, party_keys

from .adapters.base import Batch, RawRecord
from .fuzzy_linking import FuzzyLinker
from .linking import ExactLinker
from .mapping import apply_mapping, resolve_mapping, source_key_of
from .records import validate_record
from .severity import classify_severity, publicity_end

_IN_CHUNK = 500


@dataclass
class Counts:
    """fetched = accepted + duplicate + updated + quarantined, for every batch and run."""

    fetched: int = 0
    accepted: int = 0
    duplicate: int = 0
    updated: int = 0
    quarantined: int = 0
    linked: int = 0
    new_entities: int = 0

    def add_to(self, run: IngestRun) -> None:
        for f in fields(self):
            setattr(run, f.name, (getattr(run, f.name) or 0) + getattr(self, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def json_safe(value: Any) -> Any:
    """The payload as JSON can hold it: dates as ISO text, decimals as text, NaN as null."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def payload_hash(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ItemOutcome:
    """What became of one delivered record (the push API reports these per item)."""

    origin: str
    source_key: str
    status: str  # accepted / duplicate / updated / rejected
    errors: dict[str, Any] | None = None
    entity_id: str | None = None


@dataclass
class _Prepared:
    raw: RawRecord
    payload: dict[str, Any]
    digest: str
    source_key: str
    canonical: dict[str, Any] | None
    unreadable_reason: str | None = None


@dataclass
class _KeyState:
    latest_version: int
    latest_hash: str
    # The version currently in force (status accepted), if any.
    accepted: SourceRecord | None


def store_batch(
    *,
    session: Session,
    feed: Feed,
    run: IngestRun | None,
    batch: Batch,
    outcomes: list[ItemOutcome] | None = None,
) -> Counts:
    """Store every record of ``batch`` for ``feed``; returns this batch's counts (also added
    to ``run``). Moves the feed's watermark and records the file receipt when the batch says so.
    When ``outcomes`` is given, one :class:`ItemOutcome` per record is appended to it, in order.

    Everything is read up front in a few queries and written in one flush at the end, so the
    cost per record is Python work, not database round trips.
    """
    mapping = resolve_mapping(feed.field_mapping or {})
    prepared = [_prepare(r, mapping) for r in batch.records]
    prepared += [_prepare_unreadable(r, reason) for r, reason in batch.unreadable]
    states = _load_states(session, feed.id, {p.source_key for p in prepared})
    credits = _load_credits(session, [s.accepted.id for s in states.values() if s.accepted])
    validated = [_validate(feed.record_category, item) for item in prepared]
    all_keys = [party_keys(record) if record else None for record, _ in validated]
    linker = ExactLinker(session=session, fuzzy=FuzzyLinker(session=session))
    linker.prefetch(k for k in all_keys if k is not None)
    counts = Counts(fetched=len(prepared))
    context = _BatchContext(session, feed, run, states, credits, linker, mapping, counts)
    for item, (record, errors), keys in zip(prepared, validated, all_keys, strict=True):
        outcome = context.store(item, record, errors, keys)
        if outcomes is not None:
            outcomes.append(outcome)
    if batch.watermark is not None:
        feed.watermark = batch.watermark
    if batch.receipt is not None:
        session.add(
            IngestedFile(
                feed_id=feed.id,
                name=batch.receipt.name,
                size=batch.receipt.size,
                sha256=batch.receipt.sha256,
                ingest_run_id=run.id if run else None,
            )
        )
    if run is not None:
        counts.add_to(run)
    session.flush()
    return counts


def _prepare(raw: RawRecord, mapping: dict[str, Any]) -> _Prepared:
    payload = json_safe(raw.payload)
    digest = payload_hash(payload)
    key = source_key_of(payload, mapping) or f"sha256:{digest}"
    return _Prepared(raw, payload, digest, key, apply_mapping(payload, mapping))


def _prepare_unreadable(raw: RawRecord, reason: str) -> _Prepared:
    payload = json_safe(raw.payload)
    digest = payload_hash(payload)
    return _Prepared(raw, payload, digest, f"unreadable:{digest}", None, reason)


def _validate(
    category: RecordCategory, item: _Prepared
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if item.unreadable_reason is not None:
        return None, {"_record": [item.unreadable_reason]}
    try:
        return validate_record(category, item.canonical or {}), None
    except ValidationError as exc:
        return None, exc.normalized_messages()


def _load_states(session: Session, feed_id: int, keys: Iterable[str]) -> dict[str, _KeyState]:
    states: dict[str, _KeyState] = {}
    key_list = list(keys)
    for start in range(0, len(key_list), _IN_CHUNK):
        chunk = key_list[start : start + _IN_CHUNK]
        rows = session.scalars(
            select(SourceRecord)
            .where(SourceRecord.feed_id == feed_id, SourceRecord.source_key.in_(chunk))
            .order_by(SourceRecord.version)
        )
        for row in rows:
            state = states.get(row.source_key)
            accepted = row if row.status is SourceStatus.ACCEPTED else None
            if state is None:
                states[row.source_key] = _KeyState(row.version, row.payload_hash, accepted)
            else:
                state.latest_version, state.latest_hash = row.version, row.payload_hash
                state.accepted = accepted or state.accepted
    return states


def _load_credits(session: Session, source_ids: list[int]) -> dict[int, CreditRecord]:
    credits: dict[int, CreditRecord] = {}
    for start in range(0, len(source_ids), _IN_CHUNK):
        chunk = source_ids[start : start + _IN_CHUNK]
        for credit in session.scalars(
            select(CreditRecord).where(CreditRecord.source_record_id.in_(chunk))
        ):
            credits[credit.source_record_id] = credit
    return credits


@dataclass
class _BatchContext:
    session: Session
    feed: Feed
    run: IngestRun | None
    states: dict[str, _KeyState]
    credits: dict[int, CreditRecord]
    linker: ExactLinker
    mapping: dict[str, Any]
    counts: Counts
    # Credit records of versions stored earlier in this same batch (not yet flushed).
    pending: dict[int, CreditRecord] = field(default_factory=dict)

    def store(
        self,
        item: _Prepared,
        record: dict[str, Any] | None,
        errors: dict[str, Any] | None,
        keys: PartyKeys | None,
    ) -> ItemOutcome:
        counts = self.counts
        outcome = ItemOutcome(item.raw.origin, item.source_key, "duplicate")
        state = self.states.get(item.source_key)
        if state is not None and state.latest_hash == item.digest:
            counts.duplicate += 1
            return outcome

        source = SourceRecord(
            feed_id=self.feed.id,
            ingest_run_id=self.run.id if self.run else None,
            source_key=item.source_key[:200],
            version=(state.latest_version + 1) if state else 1,
            raw_payload=item.payload,
            payload_hash=item.digest,
            status=SourceStatus.QUARANTINED if errors else SourceStatus.ACCEPTED,
            errors=errors,
            origin=item.raw.origin[:500],
        )
        previous = state.accepted if state else None
        if record is not None and previous is not None:
            previous.status = SourceStatus.SUPERSEDED
            source.supersedes = previous
        self.session.add(source)

        if state is None:
            state = self.states[item.source_key] = _KeyState(source.version, item.digest, None)
        state.latest_version, state.latest_hash = source.version, item.digest
        if record is None:
            counts.quarantined += 1
            outcome.status, outcome.errors = "rejected", errors
            return outcome
        state.accepted = source

        credit = None
        if previous is not None:
            credit = self.pending.get(id(previous))
            if credit is None and previous.id is not None:
                credit = self.credits.get(previous.id)
        if credit is None:
            credit = CreditRecord(feed_id=self.feed.id, department_id=self.feed.department_id)
            self.session.add(credit)
            counts.accepted += 1
            outcome.status = "accepted"
        else:
            counts.updated += 1
            outcome.status = "updated"
        credit.source_record = source
        self.pending[id(source)] = credit
        _fill_credit(credit, self.feed.record_category, record, self.mapping)

        linked = self.linker.link(
            record=record,
            source=source,
            authoritative_name=self.feed.record_category is RecordCategory.REGISTRY,
            keys=keys,
        )
        credit.entity = linked.entity
        credit.link_confidence = linked.confidence
        counts.linked += 1
        counts.new_entities += int(linked.created)
        outcome.entity_id = linked.entity.public_id
        return outcome


_CREDIT_COLUMNS = (
    "party_name",
    "decision_number",
    "content",
    "legal_basis",
    "decision_date",
    "valid_from",
    "valid_to",
    "authority_name",
    "authority_uscc",
    "confiscated_amount",
    "grade",
    "list_name",
    "removed_on",
    "removal_reason",
)
_EXTRA_SKIP = {*_CREDIT_COLUMNS, "fine_amount", "publicity_end", "title"}


def _fill_credit(
    credit: CreditRecord,
    category: RecordCategory,
    record: dict[str, Any],
    mapping: dict[str, Any],
) -> None:
    credit.category = category
    for column in _CREDIT_COLUMNS:
        setattr(credit, column, record.get(column))
    if category in (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST):
        credit.decision_date = record.get("listed_on")
        credit.content = record.get("list_reason")
    elif category is RecordCategory.TAX_GRADE:
        credit.decision_date = record.get("evaluated_on") or date(int(record["year"]), 12, 31)
        credit.title = f"{record['year']}年度纳税信用等级 {record['grade']}"
    elif category is RecordCategory.REGISTRY:
        credit.decision_date = record.get("established")
    credit.title = credit.title or record.get("title") or record.get("certificate_name")
    credit.subtype = (
        record.get("license_type") or record.get("penalty_category") or record.get("entity_type")
    )
    fine = record.get("fine_amount")
    if fine is not None and mapping.get("fine_unit") == "wan_yuan":
        fine = fine * 10000
    credit.fine_amount = fine
    confiscated = record.get("confiscated_amount")
    if confiscated is not None and mapping.get("fine_unit") == "wan_yuan":
        credit.confiscated_amount = confiscated * 10000
    credit.severity = classify_severity(category, record)
    credit.publicity_end = record.get("publicity_end") or publicity_end(
        credit.severity, credit.decision_date
    )
    # A new version of the source record must not undo a repair, a revocation or an open
    # dispute decided inside CreditHub: only a record still in force follows the feed.
    if credit.status in (None, CreditStatus.ACTIVE, CreditStatus.EXPIRED):
        credit.status = CreditStatus.EXPIRED if record.get("removed_on") else CreditStatus.ACTIVE
    credit.extra = json_safe(
        {k: v for k, v in record.items() if k not in _EXTRA_SKIP and v not in (None, {}, "")}
    )


def replay_quarantine(*, session: Session, feed: Feed, run: IngestRun | None) -> Counts:
    """Validate the feed's quarantined records again with its *current* mapping (after a
    mapping fix). A record that now passes is accepted in place (same version, same payload)
    and linked; one that still fails keeps its place with its new errors. Does not commit."""
    mapping = resolve_mapping(feed.field_mapping or {})
    waiting = list(
        session.scalars(
            select(SourceRecord)
            .where(SourceRecord.feed_id == feed.id, SourceRecord.status == SourceStatus.QUARANTINED)
            .order_by(SourceRecord.id)
        )
    )
    counts = Counts(fetched=len(waiting))
    linker = ExactLinker(session=session, fuzzy=FuzzyLinker(session=session))
    for source in waiting:
        if source.source_key.startswith("unreadable:"):
            counts.quarantined += 1
            continue
        canonical = apply_mapping(source.raw_payload, mapping)
        try:
            record = validate_record(feed.record_category, canonical)
        except ValidationError as exc:
            source.errors = exc.normalized_messages()
            counts.quarantined += 1
            continue
        newer = session.scalar(
            select(SourceRecord.id).where(
                SourceRecord.feed_id == feed.id,
                SourceRecord.source_key == source.source_key,
                SourceRecord.version > source.version,
            )
        )
        if newer is not None:
            # A later version already replaced it: this one is history, not a pending record.
            source.status = SourceStatus.SUPERSEDED
            counts.duplicate += 1
            continue
        previous = session.scalar(
            select(SourceRecord).where(
                SourceRecord.feed_id == feed.id,
                SourceRecord.source_key == source.source_key,
                SourceRecord.status == SourceStatus.ACCEPTED,
            )
        )
        credit = None
        if previous is not None:
            previous.status = SourceStatus.SUPERSEDED
            source.supersedes_id = previous.id
            credit = session.scalar(
                select(CreditRecord).where(CreditRecord.source_record_id == previous.id)
            )
        source.status, source.errors = SourceStatus.ACCEPTED, None
        if credit is None:
            credit = CreditRecord(feed_id=feed.id, department_id=feed.department_id)
            session.add(credit)
            counts.accepted += 1
        else:
            counts.updated += 1
        credit.source_record_id = source.id
        _fill_credit(credit, feed.record_category, record, mapping)
        session.flush()
        linked = linker.link(
            record=record,
            source=source,
            authoritative_name=feed.record_category is RecordCategory.REGISTRY,
        )
        credit.entity, credit.link_confidence = linked.entity, linked.confidence
        counts.linked += 1
        counts.new_entities += int(linked.created)
    if run is not None:
        counts.add_to(run)
    session.flush()
    return counts
