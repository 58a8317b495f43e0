"""Planning a batch: every delivered record prepared (JSON-safe payload, hash, source key,
canonical fields through the feed's mapping plan) and validated, then decided in delivery
order against what the feed already stores: a duplicate, a new record, the next version of
one, or quarantined. Reads, never writes: :mod:`ingest.pipeline.store` writes the plans."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import RecordCategory, SourceRecord, SourceStatus
from ingest.adapters.base import Batch, RawRecord
from ingest.mapping import MappingPlan
from ingest.pipeline.outcomes import Counts, ItemOutcome
from ingest.pipeline.payloads import PayloadHasher, json_safe, payload_hash
from ingest.records import validate_record
from ingest.value_checks import ValueChecks

# Values per IN list: well within every backend's limit on bound parameters.
IN_CHUNK = 500
_KEY_CHARS = 200  # source_records.source_key

Validated = tuple[dict[str, Any] | None, dict[str, Any] | None]


@dataclass
class PreparedRecord:
    raw: RawRecord
    payload: dict[str, Any]
    digest: str
    source_key: str
    canonical: dict[str, Any] | None
    unreadable_reason: str | None = None


@dataclass
class KeyState:
    latest_version: int
    latest_hash: str
    # The version currently in force (status accepted), if any: its id when stored before
    # this batch, its plan when stored by this batch.
    accepted_id: int | None
    accepted_plan: RecordPlan | None = None


@dataclass
class RecordPlan:
    """What the batch writes for one non-duplicate record."""

    item: PreparedRecord
    record: dict[str, Any] | None
    outcome: ItemOutcome
    row: dict[str, Any]
    previous_id: int | None = None
    previous_plan: RecordPlan | None = None
    source_id: int | None = None


def prepare_records(batch: Batch, mapper: MappingPlan) -> list[PreparedRecord]:
    """The batch's records, then the ones its adapter could not read (to be quarantined)."""
    hasher = PayloadHasher()
    prepared = [_prepare(r, mapper, hasher) for r in batch.records]
    prepared += [_prepare_unreadable(r, reason) for r, reason in batch.unreadable]
    return prepared


def validate_records(
    category: RecordCategory, prepared: list[PreparedRecord], checks: ValueChecks
) -> list[Validated]:
    """Per record, in order: the validated record, or None and its errors (a value the
    schema cannot read, or one ``checks`` finds implausible)."""
    return [_validate(category, item, checks) for item in prepared]


def load_key_states(session: Session, feed_id: int, keys: Iterable[str]) -> dict[str, KeyState]:
    """What the feed stores of each of ``keys``: latest version and hash, the accepted one."""
    states: dict[str, KeyState] = {}
    key_list = list(keys)
    table = SourceRecord.__table__.c
    for start in range(0, len(key_list), IN_CHUNK):
        chunk = key_list[start : start + IN_CHUNK]
        rows = session.execute(
            select(table.id, table.source_key, table.version, table.payload_hash, table.status)
            .where(table.feed_id == feed_id, table.source_key.in_(chunk))
            .order_by(table.version)
        )
        for row_id, key, version, digest, status in rows:
            state = states.get(key)
            accepted = row_id if status is SourceStatus.ACCEPTED else None
            if state is None:
                states[key] = KeyState(version, digest, accepted)
            else:
                state.latest_version, state.latest_hash = version, digest
                state.accepted_id = accepted or state.accepted_id
    return states


def plan_records(
    *,
    feed_id: int,
    run_id: int | None,
    received: datetime,
    prepared: list[PreparedRecord],
    validated: list[Validated],
    states: dict[str, KeyState],
    counts: Counts,
) -> tuple[list[RecordPlan], list[ItemOutcome]]:
    """Decide what each record is (duplicate, new, next version, quarantined), in delivery
    order, so that a record is judged against the ones before it in the batch too; ``states``
    follow along. Returns the plans of the records to write and one outcome per record
    (a duplicate's stays ``duplicate``; the others' are settled when they are linked).
    Counts duplicates and quarantined records."""
    plans: list[RecordPlan] = []
    all_outcomes: list[ItemOutcome] = []
    for item, (record, errors) in zip(prepared, validated, strict=True):
        outcome = ItemOutcome(item.raw.origin, item.source_key, "duplicate")
        all_outcomes.append(outcome)
        state = states.get(item.source_key)
        if state is not None and state.latest_hash == item.digest:
            counts.duplicate += 1
            continue
        row: dict[str, Any] = {
            "feed_id": feed_id,
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
        plan = RecordPlan(item, record, outcome, row)
        plans.append(plan)
        if state is None:
            state = states[item.source_key] = KeyState(row["version"], item.digest, None)
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
    return plans, all_outcomes


def _prepare(raw: RawRecord, mapper: MappingPlan, hasher: PayloadHasher) -> PreparedRecord:
    payload, digest = hasher(raw.payload)
    key = _storable_key(raw.key or mapper.source_key(payload) or f"sha256:{digest}")
    return PreparedRecord(raw, payload, digest, key, mapper.apply(payload))


def _storable_key(key: str) -> str:
    """``key``, or for one longer than the column its first 128 characters and the SHA-256
    of the whole: one key per record still, the same each time the record comes. (Cut to the
    column when stored but looked up whole, a long key was never found again: the record came
    back as version 1, refused by the unique key, and two keys sharing 200 characters
    collided.)"""
    if len(key) <= _KEY_CHARS:
        return key
    return f"{key[:128]}…sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def _prepare_unreadable(raw: RawRecord, reason: str) -> PreparedRecord:
    payload = json_safe(raw.payload)
    digest = payload_hash(payload)
    return PreparedRecord(raw, payload, digest, f"unreadable:{digest}", None, reason)


def _validate(category: RecordCategory, item: PreparedRecord, checks: ValueChecks) -> Validated:
    if item.unreadable_reason is not None:
        return None, {"_record": [item.unreadable_reason]}
    try:
        return validate_record(category, item.canonical or {}, checks), None
    except ValidationError as exc:
        return None, exc.normalized_messages()
