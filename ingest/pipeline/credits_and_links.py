"""A batch's accepted records as credit records linked to entities: the stored credit rows
of the versions they replace and every entity they could link to are read up front, links are
decided in memory in delivery order (an entity created by one record is found by the next),
then entities, links and credit records are written with one ``executemany`` per table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import CreditRecord, Feed, RecordCategory
from core.outbox import emit_inserted
from ingest.pipeline.credit_values import credit_values
from ingest.pipeline.link_locks import lock_new_codes
from ingest.pipeline.outcomes import Counts
from ingest.pipeline.plan import IN_CHUNK, RecordPlan
from matching.exact import PartyKeys, PartyKeysCache
from matching.records import MatchRecord, Prepared, prepare
from resolution.linking import EntityLinker, LinkOutcome
from resolution.record_views import record_for_matching

# Shared by every batch of the process: a party's records arrive in many batches. About
# 1.5 KB a party, so at most ~25 MB.
_PARTY_KEYS = PartyKeysCache(maxsize=1 << 14)

# A credit row not written yet (new in this batch) or a stored one a new version updates.
CreditRow = dict[str, Any] | CreditRecord


def store_credits_and_links(
    *,
    session: Session,
    feed: Feed,
    mapping: dict[str, Any],
    accepted: list[RecordPlan],
    received: datetime,
    counts: Counts,
) -> None:
    """Credit records and entity links for ``accepted`` (plans of stored source records, in
    delivery order); settles each one's outcome and counts it accepted or updated, linked and
    new entities."""
    credits = _load_credits(session, [p.previous_id for p in accepted if p.previous_id])
    linking = _start_linking(session, accepted)
    new_credits, updated_credits = _credit_and_link(
        feed=feed,
        mapping=mapping,
        accepted=accepted,
        credits=credits,
        linking=linking,
        received=received,
        counts=counts,
    )
    _write_links_and_credits(session, linking.linker, new_credits, updated_credits)


def _load_credits(session: Session, source_ids: list[int]) -> dict[int, CreditRecord]:
    """The credit records of the stored versions this batch replaces, by source id."""
    credits: dict[int, CreditRecord] = {}
    for start in range(0, len(source_ids), IN_CHUNK):
        chunk = source_ids[start : start + IN_CHUNK]
        for credit in session.scalars(
            select(CreditRecord).where(CreditRecord.source_record_id.in_(chunk))
        ):
            credits[credit.source_record_id] = credit
    return credits


@dataclass
class _Linking:
    """The batch's linker with what it read up front."""

    linker: EntityLinker
    keys: list[PartyKeys]  # per accepted record, in order
    # The record as the matcher takes it and as prepared, by source id.
    matcher_views: dict[int, tuple[MatchRecord, Prepared]]


def _start_linking(session: Session, accepted: list[RecordPlan]) -> _Linking:
    """A linker holding every stored record (and entity) the accepted records could be
    compared with, read in a few queries before the records are linked one by one."""
    all_keys: list[PartyKeys] = []
    matcher_views: dict[int, tuple[MatchRecord, Prepared]] = {}
    for plan in accepted:
        if plan.record is None or plan.source_id is None:
            continue
        keys = _PARTY_KEYS(plan.record)
        all_keys.append(keys)
        matchable = record_for_matching(
            plan.record, kind=keys.kind, record_id=f"record:{plan.source_id}"
        )
        matcher_views[plan.source_id] = (matchable, prepare(matchable))
    # Before anything is read: a concurrent batch bringing the same new code commits first.
    lock_new_codes(session, all_keys)
    linker = EntityLinker(session=session)
    linker.prefetch(prepared for _, prepared in matcher_views.values())
    return _Linking(linker, all_keys, matcher_views)


def _credit_and_link(
    *,
    feed: Feed,
    mapping: dict[str, Any],
    accepted: list[RecordPlan],
    credits: dict[int, CreditRecord],
    linking: _Linking,
    received: datetime,
    counts: Counts,
) -> tuple[list[dict[str, Any]], list[tuple[CreditRecord, LinkOutcome]]]:
    """Each accepted record's credit row and its link, in delivery order (entities created
    by one record are found by the next). Returns the new credit rows (each with its link
    under ``_link`` until the entities are written) and the stored ones updated."""
    category, linker, matcher_views = feed.record_category, linking.linker, linking.matcher_views
    authoritative = category is RecordCategory.REGISTRY
    new_credits: list[dict[str, Any]] = []
    updated_credits: list[tuple[CreditRecord, LinkOutcome]] = []
    # Credit rows of versions stored earlier in this batch, by their plan's identity.
    pending: dict[int, CreditRow] = {}
    for plan, keys in zip(accepted, linking.keys, strict=True):
        record, source_id = plan.record, plan.source_id
        assert record is not None and source_id is not None
        previous: CreditRow | None = None
        if plan.previous_plan is not None:
            previous = pending.get(id(plan.previous_plan))
        elif plan.previous_id is not None:
            previous = credits.get(plan.previous_id)
        credit: CreditRow
        linked_to: int | None
        if previous is None:
            counts.accepted += 1
            plan.outcome.status = "accepted"
            credit = {
                "feed_id": feed.id,
                "department_id": feed.department_id,
                "source_record_id": source_id,
                "created_at": received,
                "updated_at": received,
                **credit_values(category, record, mapping, None),
            }
            new_credits.append(credit)
            linked_to = None
        else:
            # The next version of a record: few, so only they take a call of their own.
            counts.updated += 1
            plan.outcome.status = "updated"
            credit = previous
            linked_to = _follow_version(credit, category, record, mapping, source_id)
        linked = linker.link(
            record=record,
            source_id=source_id,
            feed_id=feed.id,
            authoritative_name=authoritative,
            keys=keys,
            linked_to=linked_to,
            matchable=matcher_views[source_id][0],
            prepared=matcher_views[source_id][1],
        )
        if isinstance(credit, CreditRecord):
            updated_credits.append((credit, linked))
        else:
            credit["_link"] = linked
        pending[id(plan)] = credit
        counts.linked += 1
        counts.new_entities += int(linked.created)
        plan.outcome.entity_id = linked.entity.public_id
    return new_credits, updated_credits


def _follow_version(
    credit: CreditRow,
    category: RecordCategory,
    record: dict[str, Any],
    mapping: dict[str, Any],
    source_id: int,
) -> int | None:
    """``credit``, the credit row of the version ``record`` replaces, updated to follow it;
    returns the entity the row is linked to so far (the new link starts from there)."""
    if isinstance(credit, CreditRecord):
        linked_to = credit.entity_id
        for column, value in credit_values(category, record, mapping, credit.status).items():
            setattr(credit, column, value)
        credit.source_record_id = source_id
        return linked_to
    # A version stored earlier in this batch: its row is not written yet.
    credit.update(credit_values(category, record, mapping, credit["status"]))
    credit["source_record_id"] = source_id
    entity_id: int = credit["_link"].entity.id
    return entity_id


def _write_links_and_credits(
    session: Session,
    linker: EntityLinker,
    new_credits: list[dict[str, Any]],
    updated_credits: list[tuple[CreditRecord, LinkOutcome]],
) -> None:
    """Entities and links first (credit records point at the entities), then the new credit
    rows; the updated ones follow their link through the ORM."""
    linker.flush()
    if new_credits:
        for row in new_credits:
            final: LinkOutcome = row.pop("_link")
            row["entity_id"], row["link_confidence"] = final.entity.id, final.confidence
        insert_rows(session, CreditRecord.__table__, new_credits)
        emit_inserted(session, new_credits)  # their events, in the same transaction
    for existing, linked in updated_credits:
        existing.entity_id, existing.link_confidence = linked.entity.id, linked.confidence
