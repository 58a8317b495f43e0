"""Storing a batch: its records planned (:mod:`ingest.pipeline.plan`), their source records
written, their credit records and entity links (:mod:`ingest.pipeline.credits_and_links`),
then what the batch moves besides: the feed's watermark, the file receipt, the run's counts.
Never commits: the caller owns the transaction, so all of a batch is stored or none of it."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import Feed, IngestedFile, IngestRun, SourceRecord, SourceStatus, utcnow
from core.rules.settings import ValueRules
from ingest.adapters.base import Batch
from ingest.mapping import MappingPlan, resolve_mapping
from ingest.pipeline.credits_and_links import store_credits_and_links
from ingest.pipeline.outcomes import Counts, ItemOutcome
from ingest.pipeline.plan import (
    IN_CHUNK,
    RecordPlan,
    load_key_states,
    plan_records,
    prepare_records,
    validate_records,
)
from ingest.value_checks import ValueChecks


def store_batch(
    *,
    session: Session,
    feed: Feed,
    run: IngestRun | None,
    batch: Batch,
    outcomes: list[ItemOutcome] | None = None,
    value_rules: ValueRules | None = None,
) -> Counts:
    """Store every record of ``batch`` for ``feed``; returns this batch's counts (also added
    to ``run``). Moves the feed's watermark and records the file receipt when the batch says so.
    When ``outcomes`` is given, one :class:`ItemOutcome` per record is appended to it, in order.
    Implausible dates and amounts (``value_rules``, default the rules' defaults, against
    today in China) quarantine their record, not the batch.

    Everything is read up front in a few queries and written with one ``executemany`` per
    table (source records, credit records, entities and their rows, match links), so the cost
    per record is Python work, not database round trips or ORM bookkeeping.
    """
    mapping = resolve_mapping(feed.field_mapping or {})
    prepared = prepare_records(batch, MappingPlan(mapping))
    states = load_key_states(session, feed.id, {p.source_key for p in prepared})
    checks = ValueChecks(rules=value_rules or ValueRules(), fine_unit=mapping["fine_unit"])
    validated = validate_records(feed.record_category, prepared, checks)
    counts = Counts(fetched=len(prepared))
    received = utcnow()
    plans, all_outcomes = plan_records(
        feed_id=feed.id,
        run_id=run.id if run else None,
        received=received,
        prepared=prepared,
        validated=validated,
        states=states,
        counts=counts,
    )
    _write_source_records(session, plans)
    store_credits_and_links(
        session=session,
        feed=feed,
        mapping=mapping,
        accepted=[p for p in plans if p.record is not None],
        received=received,
        counts=counts,
    )
    if outcomes is not None:
        outcomes.extend(all_outcomes)
    _record_batch(session=session, feed=feed, run=run, batch=batch, counts=counts)
    session.flush()
    return counts


def _write_source_records(session: Session, plans: list[RecordPlan]) -> None:
    """The planned source records, their ids back in the plans (credit records and links
    point at them), and the versions they replace marked superseded."""
    table = SourceRecord.__table__
    if plans:
        # (feed, source key, version) is unique, so RETURNING needs no order (SQLite cannot
        # promise one without sending the rows one at a time).
        by_version = {(p.row["source_key"], p.row["version"]): p for p in plans}
        for source_id, key, version in insert_rows(
            session, table, [p.row for p in plans], returning=("id", "source_key", "version")
        ):
            by_version[(key, version)].source_id = source_id
    superseded = [p.previous_id for p in plans if p.previous_id is not None]
    for start in range(0, len(superseded), IN_CHUNK):
        session.execute(
            update(table)
            .where(table.c.id.in_(superseded[start : start + IN_CHUNK]))
            .values(status=SourceStatus.SUPERSEDED)
        )
    # A version replacing one stored earlier in this batch points at it, now both have ids.
    chained = [p for p in plans if p.previous_plan is not None]
    if chained:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(supersedes_id=bindparam("b_previous")),
            [{"b_id": p.source_id, "b_previous": p.previous_plan.source_id} for p in chained],  # type: ignore[union-attr]
        )


def _record_batch(
    *, session: Session, feed: Feed, run: IngestRun | None, batch: Batch, counts: Counts
) -> None:
    """What the batch moves besides its records, in the same transaction: the feed's
    watermark, the file receipt, the run's counts."""
    if batch.watermark is not None:
        feed.watermark = batch.watermark
    if batch.receipt is not None:
        receipt = batch.receipt
        # The same bytes again: a file set aside, retried after its feed's catalogue entry
        # changed. Its receipt now says how this try went.
        stored = session.scalar(
            select(IngestedFile).where(
                IngestedFile.feed_id == feed.id,
                IngestedFile.name == receipt.name,
                IngestedFile.sha256 == receipt.sha256,
            )
        )
        if stored is None:
            stored = IngestedFile(feed_id=feed.id, name=receipt.name, sha256=receipt.sha256)
            session.add(stored)
        stored.size, stored.set_aside_reason = receipt.size, batch.set_aside
        stored.ingest_run_id, stored.processed_at = (run.id if run else None), utcnow()
    if run is not None:
        counts.add_to(run)
