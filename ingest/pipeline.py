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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from decimal import Decimal
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import (
    CreditRecord,
    CreditStatus,
    Feed,
    IngestedFile,
    IngestRun,
    RecordCategory,
    SourceRecord,
    SourceStatus,
    utcnow,
)
from core.rules.publicity import classify_severity, publicity_end
from ingest.adapters.base import Batch, RawRecord
from ingest.mapping import MappingPlan, resolve_mapping
from ingest.records import validate_record
from matching.exact import PartyKeys, PartyKeysCache
from matching.records import Prepared, prepare
from resolution.fuzzy_linking import FuzzyLinker, record_for_matching
from resolution.linking import ExactLinker, LinkOutcome

_IN_CHUNK = 500
# Shared by every batch of the process: a party's records arrive in many batches. About
# 1.5 KB a party, so at most ~25 MB.
_PARTY_KEYS = PartyKeysCache(maxsize=1 << 14)


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


_TEXT = {str}


def _is_text_row(value: Any) -> bool:
    """A dict of text keys to text values (what a CSV row is)."""
    return (
        type(value) is dict
        and set(map(type, value.values())) <= _TEXT
        and set(map(type, value)) <= _TEXT
    )


def json_safe(value: Any) -> Any:
    """The payload as JSON can hold it: dates as ISO text, decimals as text, NaN as null."""
    # A CSV row (text keys, text values) needs no conversion.
    if _is_text_row(value):
        return dict(value)
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
    """SHA-256 of the payload's canonical JSON (sorted keys, no spaces, UTF-8). Stored with
    every source record: re-delivery is recognised by it, so it must never change."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class PayloadHasher:
    """:func:`json_safe` and :func:`payload_hash` for the records of one batch.

    Rows of text (every CSV row) are hashed through a template per key set, made once: the
    keys' JSON in sorted order with a slot per value, each value encoded by the function
    ``json.dumps`` itself uses for text (``encode_basestring``, as ``ensure_ascii=False``
    chooses), so the canonical text is the same, byte for byte, without ``json.dumps``
    walking and sorting every row. Other payloads take the general path.
    ``tests/ingest/test_payload_hash.py`` pins hashes and compares both paths."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, ...], tuple[str, Callable[[Any], Any]]] = {}

    def __call__(self, raw: Any) -> tuple[Any, str]:
        """The JSON-safe payload and its hash."""
        if not _is_text_row(raw):
            payload = json_safe(raw)
            return payload, payload_hash(payload)
        payload = dict(raw)
        found = self._templates.get(tuple(payload))
        if found is None:
            found = self._templates[tuple(payload)] = _text_template(payload)
        template, values = found
        canonical = template % tuple(map(encode_basestring, values(payload)))
        return payload, hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text_template(row: Mapping[str, str]) -> tuple[str, Callable[[Any], Any]]:
    keys = sorted(row)  # what sort_keys does: str order, by code point
    slots = ",".join(encode_basestring(k).replace("%", "%%") + ":%s" for k in keys)
    if len(keys) == 1:
        only = keys[0]
        return "{" + slots + "}", lambda r: (r[only],)
    return "{" + slots + "}", itemgetter(*keys) if keys else lambda _r: ()


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
    # The version currently in force (status accepted), if any: its id when stored before
    # this batch, its plan when stored by this batch.
    accepted_id: int | None
    accepted_plan: _Plan | None = None


@dataclass
class _Plan:
    """What the batch writes for one non-duplicate record."""

    item: _Prepared
    record: dict[str, Any] | None
    outcome: ItemOutcome
    row: dict[str, Any]
    previous_id: int | None = None
    previous_plan: _Plan | None = None
    source_id: int | None = None


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

    Everything is read up front in a few queries and written with one ``executemany`` per
    table (source records, credit records, entities and their rows, match links), so the cost
    per record is Python work, not database round trips or ORM bookkeeping.
    """
    mapping = resolve_mapping(feed.field_mapping or {})
    mapper, hasher = MappingPlan(mapping), PayloadHasher()
    prepared = [_prepare(r, mapper, hasher) for r in batch.records]
    prepared += [_prepare_unreadable(r, reason) for r, reason in batch.unreadable]
    states = _load_states(session, feed.id, {p.source_key for p in prepared})
    validated = [_validate(feed.record_category, item) for item in prepared]
    counts = Counts(fetched=len(prepared))
    run_id = run.id if run else None
    received = utcnow()

    # 1. Decide what each record is (duplicate, new, next version, quarantined), in order.
    plans: list[_Plan] = []
    all_outcomes: list[ItemOutcome] = []
    for item, (record, errors) in zip(prepared, validated, strict=True):
        outcome = ItemOutcome(item.raw.origin, item.source_key, "duplicate")
        all_outcomes.append(outcome)
        state = states.get(item.source_key)
        if state is not None and state.latest_hash == item.digest:
            counts.duplicate += 1
            continue
        row: dict[str, Any] = {
            "feed_id": feed.id,
            "ingest_run_id": run_id,
            "source_key": item.source_key,
            "version": (state.latest_version + 1) if state else 1,
            "raw_payload": item.payload,
            "payload_hash": item.digest,
            "received_at": received,
            "status": SourceStatus.QUARANTINED if errors else SourceStatus.ACCEPTED,
            "errors": errors,
            "origin": item.raw.origin[:500],
            "supersedes_id": None,
        }
        plan = _Plan(item, record, outcome, row)
        plans.append(plan)
        if state is None:
            state = states[item.source_key] = _KeyState(row["version"], item.digest, None)
        state.latest_version, state.latest_hash = row["version"], item.digest
        if record is None:
            counts.quarantined += 1
            outcome.status, outcome.errors = "rejected", errors
            continue
        if state.accepted_plan is not None:
            plan.previous_plan = state.accepted_plan
            state.accepted_plan.row["status"] = SourceStatus.SUPERSEDED
        elif state.accepted_id is not None:
            plan.previous_id = row["supersedes_id"] = state.accepted_id
        state.accepted_id, state.accepted_plan = None, plan

    # 2. Source records, with their ids back (credit records and links point at them).
    if plans:
        table = SourceRecord.__table__
        # (feed, source key, version) is unique, so RETURNING needs no order (SQLite cannot
        # promise one without sending the rows one at a time).
        by_version = {(p.row["source_key"], p.row["version"]): p for p in plans}
        for source_id, key, version in insert_rows(
            session, table, [p.row for p in plans], returning=("id", "source_key", "version")
        ):
            by_version[(key, version)].source_id = source_id
    superseded = [p.previous_id for p in plans if p.previous_id is not None]
    _set_status(session, superseded, SourceStatus.SUPERSEDED)
    chained = [p for p in plans if p.previous_plan is not None]
    if chained:
        table = SourceRecord.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(supersedes_id=bindparam("b_previous")),
            [{"b_id": p.source_id, "b_previous": p.previous_plan.source_id} for p in chained],  # type: ignore[union-attr]
        )

    # 3. Credit records and links, in delivery order (entities created by one record are
    # found by the next).
    accepted = [p for p in plans if p.record is not None]
    credits = _load_credits(session, [p.previous_id for p in accepted if p.previous_id])
    all_keys = [_PARTY_KEYS(p.record) for p in accepted if p.record is not None]
    linker = ExactLinker(session=session, fuzzy=FuzzyLinker(session=session))
    linker.prefetch(all_keys)
    matcher_views = _prefetch_fuzzy(linker, accepted, all_keys)
    new_credits: list[dict[str, Any]] = []
    updated_credits: list[tuple[CreditRecord, LinkOutcome]] = []
    # Credit rows of versions stored earlier in this batch, by their plan's identity.
    pending: dict[int, dict[str, Any] | CreditRecord] = {}
    authoritative = feed.record_category is RecordCategory.REGISTRY
    for plan, keys in zip(accepted, all_keys, strict=True):
        record, source_id = plan.record, plan.source_id
        assert record is not None and source_id is not None
        previous: dict[str, Any] | CreditRecord | None = None
        if plan.previous_plan is not None:
            previous = pending.get(id(plan.previous_plan))
        elif plan.previous_id is not None:
            previous = credits.get(plan.previous_id)
        if previous is None:
            counts.accepted += 1
            plan.outcome.status = "accepted"
        else:
            counts.updated += 1
            plan.outcome.status = "updated"
        credit: dict[str, Any] | CreditRecord
        if isinstance(previous, CreditRecord):
            credit, linked_to = previous, previous.entity_id
            values = _credit_values(feed.record_category, record, mapping, credit.status)
            for column, value in values.items():
                setattr(credit, column, value)
            credit.source_record_id = source_id
        elif previous is not None:
            # A version stored earlier in this batch: its row is not written yet.
            credit, linked_to = previous, previous["_link"].entity.id
            credit.update(_credit_values(feed.record_category, record, mapping, credit["status"]))
            credit["source_record_id"] = source_id
        else:
            credit, linked_to = (
                {
                    "feed_id": feed.id,
                    "department_id": feed.department_id,
                    "source_record_id": source_id,
                    "created_at": received,
                    "updated_at": received,
                    **_credit_values(feed.record_category, record, mapping, None),
                },
                None,
            )
            new_credits.append(credit)
        linked = linker.link(
            record=record,
            source_id=source_id,
            feed_id=feed.id,
            authoritative_name=authoritative,
            keys=keys,
            linked_to=linked_to,
            prepared=matcher_views.get(source_id),
        )
        if isinstance(credit, CreditRecord):
            updated_credits.append((credit, linked))
        else:
            credit["_link"] = linked
        pending[id(plan)] = credit
        counts.linked += 1
        counts.new_entities += int(linked.created)
        plan.outcome.entity_id = linked.entity.public_id

    # 4. Entities and links first: credit records point at the entities.
    linker.flush()
    if new_credits:
        for row in new_credits:
            final: LinkOutcome = row.pop("_link")
            row["entity_id"], row["link_confidence"] = final.entity.id, final.confidence
        insert_rows(session, CreditRecord.__table__, new_credits)
    for existing, linked in updated_credits:
        existing.entity_id, existing.link_confidence = linked.entity.id, linked.confidence

    if outcomes is not None:
        outcomes.extend(all_outcomes)
    if batch.watermark is not None:
        feed.watermark = batch.watermark
    if batch.receipt is not None:
        session.add(
            IngestedFile(
                feed_id=feed.id,
                name=batch.receipt.name,
                size=batch.receipt.size,
                sha256=batch.receipt.sha256,
                ingest_run_id=run_id,
            )
        )
    if run is not None:
        counts.add_to(run)
    session.flush()
    return counts


def _prefetch_fuzzy(
    linker: ExactLinker, plans: list[_Plan], all_keys: list[PartyKeys]
) -> dict[int, Prepared]:
    """The matcher's view of every record no stored entity holds an identifier of (those
    the matcher may see), by source id, with their blocking keys read in one go rather than
    one query per record."""
    if linker.fuzzy is None:
        return {}
    unmatched: dict[int, Prepared] = {}
    # Codes of the records before, in this batch: a record sharing one is (almost always)
    # linked by it to the entity the earlier record creates, so preparing it for the matcher
    # is wasted. Should it need the matcher after all, link() prepares it then.
    earlier: set[tuple[str, str]] = set()
    for p, keys in zip(plans, all_keys, strict=True):
        if p.record is None or p.source_id is None or linker.holds_any(keys):
            continue
        codes = [(k.id_type, k.value) for k in keys.keys if k.id_type not in _NOT_CODES]
        if not earlier.isdisjoint(codes):
            continue
        earlier.update(codes)
        unmatched[p.source_id] = prepare(
            record_for_matching(p.record, kind=keys.kind, record_id=f"record:{p.source_id}")
        )
    if unmatched:
        linker.fuzzy.prefetch(unmatched.values())
    return unmatched


# Keys that do not name a party by themselves (a masked id needs the name too).
_NOT_CODES = frozenset({"name", "masked_id"})


def _set_status(session: Session, ids: list[int], status: SourceStatus) -> None:
    table = SourceRecord.__table__
    for start in range(0, len(ids), _IN_CHUNK):
        session.execute(
            update(table)
            .where(table.c.id.in_(ids[start : start + _IN_CHUNK]))
            .values(status=status)
        )


def _prepare(raw: RawRecord, mapper: MappingPlan, hasher: PayloadHasher) -> _Prepared:
    payload, digest = hasher(raw.payload)
    key = _storable_key(mapper.source_key(payload) or f"sha256:{digest}")
    return _Prepared(raw, payload, digest, key, mapper.apply(payload))


_KEY_CHARS = 200  # source_records.source_key


def _storable_key(key: str) -> str:
    """``key``, or for one longer than the column its first 128 characters and the SHA-256
    of the whole: one key per record still, the same each time the record comes. (Cut to the
    column when stored but looked up whole, a long key was never found again: the record came
    back as version 1, refused by the unique key, and two keys sharing 200 characters
    collided.)"""
    if len(key) <= _KEY_CHARS:
        return key
    return f"{key[:128]}…sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


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
    table = SourceRecord.__table__.c
    for start in range(0, len(key_list), _IN_CHUNK):
        chunk = key_list[start : start + _IN_CHUNK]
        rows = session.execute(
            select(table.id, table.source_key, table.version, table.payload_hash, table.status)
            .where(table.feed_id == feed_id, table.source_key.in_(chunk))
            .order_by(table.version)
        )
        for row_id, key, version, digest, status in rows:
            state = states.get(key)
            accepted = row_id if status is SourceStatus.ACCEPTED else None
            if state is None:
                states[key] = _KeyState(version, digest, accepted)
            else:
                state.latest_version, state.latest_hash = version, digest
                state.accepted_id = accepted or state.accepted_id
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


def _credit_values(
    category: RecordCategory,
    record: dict[str, Any],
    mapping: dict[str, Any],
    status: CreditStatus | None,
) -> dict[str, Any]:
    """The credit record's columns for a validated record; ``status`` is the credit record's
    current status (None for a new one)."""
    values: dict[str, Any] = {"category": category}
    for column in _CREDIT_COLUMNS:
        values[column] = record.get(column)
    title = None
    if category in (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST):
        values["decision_date"] = record.get("listed_on")
        values["content"] = record.get("list_reason")
    elif category is RecordCategory.TAX_GRADE:
        values["decision_date"] = record.get("evaluated_on") or date(int(record["year"]), 12, 31)
        title = f"{record['year']}年度纳税信用等级 {record['grade']}"
    elif category is RecordCategory.REGISTRY:
        values["decision_date"] = record.get("established")
    values["title"] = title or record.get("title") or record.get("certificate_name")
    values["subtype"] = (
        record.get("license_type") or record.get("penalty_category") or record.get("entity_type")
    )
    fine = record.get("fine_amount")
    if fine is not None and mapping.get("fine_unit") == "wan_yuan":
        fine = fine * 10000
    values["fine_amount"] = fine
    confiscated = record.get("confiscated_amount")
    if confiscated is not None and mapping.get("fine_unit") == "wan_yuan":
        values["confiscated_amount"] = confiscated * 10000
    severity = classify_severity(category, record)
    values["severity"] = severity
    values["publicity_end"] = record.get("publicity_end") or publicity_end(
        severity, values["decision_date"]
    )
    # A new version of the source record must not undo a repair, a revocation or an open
    # dispute decided inside CreditHub: only a record still in force follows the feed.
    if status in (None, CreditStatus.ACTIVE, CreditStatus.EXPIRED):
        status = CreditStatus.EXPIRED if record.get("removed_on") else CreditStatus.ACTIVE
    values["status"] = status
    # Leaves out what is empty (None, "", {}): tested cheapest first, None being most values.
    values["extra"] = json_safe(
        {
            k: v
            for k, v in record.items()
            if v is not None and k not in _EXTRA_SKIP and v != "" and v != _NO_ITEMS
        }
    )
    return values


_NO_ITEMS: dict[str, Any] = {}


def replay_quarantine(*, session: Session, feed: Feed, run: IngestRun | None) -> Counts:
    """Validate the feed's quarantined records again with its *current* mapping (after a
    mapping fix). A record that now passes is accepted in place (same version, same payload)
    and linked; one that still fails keeps its place with its new errors. Does not commit."""
    mapping = resolve_mapping(feed.field_mapping or {})
    mapper = MappingPlan(mapping)  # planned once for all the records, not once per record
    waiting = list(
        session.scalars(
            select(SourceRecord)
            .where(SourceRecord.feed_id == feed.id, SourceRecord.status == SourceStatus.QUARANTINED)
            .order_by(SourceRecord.id)
        )
    )
    counts = Counts(fetched=len(waiting))
    linker = ExactLinker(session=session, fuzzy=FuzzyLinker(session=session))
    linked_credits: list[tuple[CreditRecord, LinkOutcome]] = []
    for source in waiting:
        if source.source_key.startswith("unreadable:"):
            counts.quarantined += 1
            continue
        canonical = mapper.apply(source.raw_payload)
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
        for column, value in _credit_values(
            feed.record_category, record, mapping, credit.status
        ).items():
            setattr(credit, column, value)
        linked = linker.link(
            record=record,
            source_id=source.id,
            feed_id=feed.id,
            authoritative_name=feed.record_category is RecordCategory.REGISTRY,
            linked_to=credit.entity_id,
        )
        linked_credits.append((credit, linked))
        counts.linked += 1
        counts.new_entities += int(linked.created)
    linker.flush()
    for credit, linked in linked_credits:
        credit.entity_id, credit.link_confidence = linked.entity.id, linked.confidence
    if run is not None:
        counts.add_to(run)
    session.flush()
    return counts
