"""Replaying the quarantine: a feed's quarantined records validated again with its *current*
mapping (after a mapping fix). Few records, read and written one by one through the ORM; not
the batch path of :mod:`ingest.pipeline.store`."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import CreditRecord, Feed, IngestRun, RecordCategory, SourceRecord, SourceStatus
from core.rules.settings import ValueRules
from ingest.mapping import MappingPlan, resolve_mapping
from ingest.pipeline.credit_values import credit_values
from ingest.pipeline.outcomes import Counts
from ingest.records import validate_record
from ingest.value_checks import ValueChecks
from resolution.linking import EntityLinker, LinkOutcome


def replay_quarantine(
    *, session: Session, feed: Feed, run: IngestRun | None, value_rules: ValueRules | None = None
) -> Counts:
    """Validate the feed's quarantined records again with its *current* mapping (after a
    mapping fix) and ``value_rules`` (the same checks as a batch). A record that now passes is
    accepted in place (same version, same payload) and linked; one that still fails keeps its
    place with its new errors. Does not commit."""
    mapping = resolve_mapping(feed.field_mapping or {})
    checks = ValueChecks(rules=value_rules or ValueRules(), fine_unit=mapping["fine_unit"])
    mapper = MappingPlan(mapping)  # planned once for all the records, not once per record
    waiting = list(
        session.scalars(
            select(SourceRecord)
            .where(SourceRecord.feed_id == feed.id, SourceRecord.status == SourceStatus.QUARANTINED)
            .order_by(SourceRecord.id)
        )
    )
    counts = Counts(fetched=len(waiting))
    linker = EntityLinker(session=session)
    linked_credits: list[tuple[CreditRecord, LinkOutcome]] = []
    for source in waiting:
        record = _validate_again(source, mapper, feed.record_category, checks)
        if record is None:
            counts.quarantined += 1
            continue
        if _replaced_later(session, source):
            # A later version already replaced it: this one is history, not a pending record.
            source.status = SourceStatus.SUPERSEDED
            counts.duplicate += 1
            continue
        credit = _supersede_accepted(session, source)
        source.status, source.errors = SourceStatus.ACCEPTED, None
        if credit is None:
            credit = CreditRecord(feed_id=feed.id, department_id=feed.department_id)
            session.add(credit)
            counts.accepted += 1
        else:
            counts.updated += 1
        credit.source_record_id = source.id
        for column, value in credit_values(
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


def _validate_again(
    source: SourceRecord, mapper: MappingPlan, category: RecordCategory, checks: ValueChecks
) -> dict[str, Any] | None:
    """The record, valid now; None when it is still not (its errors replaced by today's) or
    could never be read (nothing to validate)."""
    if source.source_key.startswith("unreadable:"):
        return None
    canonical = mapper.apply(source.raw_payload)
    try:
        return validate_record(category, canonical, checks)
    except ValidationError as exc:
        source.errors = exc.normalized_messages()
        return None


def _replaced_later(session: Session, source: SourceRecord) -> bool:
    """Whether a later version of the record is stored."""
    newer = session.scalar(
        select(SourceRecord.id).where(
            SourceRecord.feed_id == source.feed_id,
            SourceRecord.source_key == source.source_key,
            SourceRecord.version > source.version,
        )
    )
    return newer is not None


def _supersede_accepted(session: Session, source: SourceRecord) -> CreditRecord | None:
    """The version of the record in force, if any, marked superseded by ``source``; returns
    its credit record (which ``source`` takes over)."""
    previous = session.scalar(
        select(SourceRecord).where(
            SourceRecord.feed_id == source.feed_id,
            SourceRecord.source_key == source.source_key,
            SourceRecord.status == SourceStatus.ACCEPTED,
        )
    )
    if previous is None:
        return None
    previous.status = SourceStatus.SUPERSEDED
    source.supersedes_id = previous.id
    return session.scalar(select(CreditRecord).where(CreditRecord.source_record_id == previous.id))
