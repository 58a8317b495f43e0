"""Fan-out: outbox events to one :class:`Delivery` per subscription that watches and may see
them, and the subscribers' view of an entity's grade (``grade.changed``).

:func:`fan_out` claims a batch of events not yet fanned out (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two workers never fan out the same event) and, for each active subscription
that asks for its kind, watches its entity and may *see* its record (the subscriber's sharing
view, ``core.rules.sharing``), writes one delivery with its body fixed (masked for the
subscriber's role) and marks the event fanned out; the caller commits. Everything a batch
reads more than once (records, merge groups, feed sources, "has my department records about
it", grades) is read once per batch: per event it would be several queries, and fan-out has to
keep up with 100 events a second (``benchmarks/credit_checks.py``).

``grade.changed`` compares the subscriber's view of the grade with the last one it was told
(:class:`SubscriptionGradeMark`); :func:`set_grade_baselines` writes that mark when the
subscription is made, so the first change after subscribing is reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.credit_checks.services import jsonable, record_summary
from app.entities.present import Viewer
from app.entities.queries import visible_clause
from app.entities.services import viewer_for
from core.models import (
    ApiClient,
    CreditRecord,
    Delivery,
    Department,
    Entity,
    Feed,
    OutboxEvent,
    Subscription,
    SubscriptionGradeMark,
    utcnow,
)
from core.outbox import GRADE_CHANGED
from core.rules.grading import grade_entity
from core.rules.settings import GradeRules
from core.rules.sharing import scrub
from resolution.survivors import entity_group, survivor_of

_IN_CHUNK = 500  # ids per IN (...) list


@dataclass
class _Subscriber:
    subscription: Subscription
    viewer: Viewer


@dataclass
class _Batch:
    """What one fan-out batch has read already (the database does not change under it in a
    way that matters: every event is fanned out against the state at fan-out time)."""

    session: Session
    grade_rules: GradeRules
    groups: dict[int, tuple[Entity, list[int]]] = field(default_factory=dict)
    sources: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    mine: dict[tuple[int, int], bool] = field(default_factory=dict)
    graded: set[tuple[int, int]] = field(default_factory=set)

    def group(self, entity_id: int) -> tuple[Entity, list[int]]:
        if entity_id not in self.groups:
            entity = survivor_of(self.session, self.session.get_one(Entity, entity_id))
            self.groups[entity_id] = (entity, entity_group(self.session, entity))
        return self.groups[entity_id]

    def source(self, feed_id: int) -> tuple[str, str, str]:
        if feed_id not in self.sources:
            row = self.session.execute(
                select(Feed.code, Department.code, Department.name)
                .join(Department, Feed.department_id == Department.id)
                .where(Feed.id == feed_id)
            ).one()
            self.sources[feed_id] = (row[0], row[1], row[2])
        return self.sources[feed_id]

    def department_has_records(self, department_id: int, entity: Entity, group: list[int]) -> bool:
        key = (department_id, entity.id)
        if key not in self.mine:
            self.mine[key] = bool(
                self.session.scalar(
                    select(
                        exists().where(
                            CreditRecord.entity_id.in_(group),
                            CreditRecord.department_id == department_id,
                        )
                    )
                )
            )
        return self.mine[key]


def fan_out(*, session: Session, today: date, grade_rules: GradeRules, limit: int = 1000) -> int:
    """Deliveries for up to ``limit`` events not yet fanned out; returns the events handled.
    Never commits."""
    events = list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.fanned_out.is_(False))
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0
    subscribers = [
        _Subscriber(s, viewer_for(session=session, client=_client(session, s), today=today))
        for s in session.scalars(select(Subscription).where(Subscription.active.is_(True)))
    ]
    batch = _Batch(session, grade_rules)
    records = _records_of(session, events) if subscribers else {}
    # Reads first, writes at the commit: on SQLite the write lock is then held for the flush
    # alone, not for the whole fan-out, and changes being stored meanwhile are not held up.
    with session.no_autoflush:
        for event in events:
            event.fanned_out = True
            record = records.get(event.id)
            if record is None or record.entity_id is None:
                continue
            entity, group = batch.group(record.entity_id)
            for subscriber in subscribers:
                if record.feed_id not in subscriber.viewer.feed_ids:
                    continue  # the subscriber may not see this record: no event either
                if not _watches(batch, subscriber.subscription, entity, group):
                    continue
                if event.kind in subscriber.subscription.kinds:
                    _add_delivery(batch, subscriber, event, entity, record)
                if GRADE_CHANGED in subscriber.subscription.kinds:
                    _grade_change(batch, subscriber, entity, group)
    session.flush()
    return len(events)


def _client(session: Session, subscription: Subscription) -> ApiClient:
    return session.get_one(ApiClient, subscription.client_id)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _records_of(session: Session, events: list[OutboxEvent]) -> dict[int, CreditRecord]:
    """Each event's record (by id, or by source record for bulk-inserted ones), in a few
    queries for the whole batch."""
    by_id = sorted({e.record_id for e in events if e.record_id is not None})
    by_source = sorted(
        {e.source_record_id for e in events if e.record_id is None and e.source_record_id}
    )
    found: dict[int, CreditRecord] = {}
    sourced: dict[int, CreditRecord] = {}
    for chunk in _chunks(by_id):
        found.update(
            (r.id, r)
            for r in session.scalars(select(CreditRecord).where(CreditRecord.id.in_(chunk)))
        )
    for chunk in _chunks(by_source):
        query = select(CreditRecord).where(CreditRecord.source_record_id.in_(chunk))
        sourced.update((r.source_record_id, r) for r in session.scalars(query))
    records: dict[int, CreditRecord] = {}
    for event in events:
        record = (
            found.get(event.record_id)
            if event.record_id is not None
            else sourced.get(event.source_record_id or -1)
        )
        if record is not None:
            records[event.id] = record
    return records


def _watches(batch: _Batch, subscription: Subscription, entity: Entity, group: list[int]) -> bool:
    if set(subscription.entity_ids) & set(group):
        return True
    if not subscription.watch_mine or subscription.department_id is None:
        return False
    return batch.department_has_records(subscription.department_id, entity, group)


def _add_delivery(
    batch: _Batch,
    subscriber: _Subscriber,
    event: OutboxEvent,
    entity: Entity,
    record: CreditRecord | None,
    data: dict[str, Any] | None = None,
) -> None:
    subscription, viewer = subscriber.subscription, subscriber.viewer
    key = f"evt-{event.id}-sub-{subscription.id}"
    view = record_summary(viewer, record, batch.source(record.feed_id)) if record else None
    body: dict[str, Any] = {
        "id": key,
        "kind": event.kind,
        "occurred_at": event.occurred_at or utcnow(),
        "subscription_id": subscription.id,
        "entity": {
            "public_id": entity.public_id,
            "kind": entity.kind.value,
            "display_name": entity.display_name,
        },
        "record": view,
        "data": data if data is not None else dict(event.data or {}),
    }
    if not viewer.full_identifiers:
        body = scrub(body)
    batch.session.add(
        Delivery(
            subscription_id=subscription.id,
            event_id=event.id,
            kind=event.kind,
            idempotency_key=key,
            body=json.dumps(jsonable(body), ensure_ascii=False, sort_keys=True),
        )
    )


def _letter(session: Session, viewer: Viewer, group: list[int], grade_rules: GradeRules) -> str:
    records = session.scalars(
        select(CreditRecord).where(
            CreditRecord.entity_id.in_(group), visible_clause(viewer.feed_ids)
        )
    ).all()
    return grade_entity(records=records, today=viewer.today, rules=grade_rules).letter


def _grade_change(batch: _Batch, subscriber: _Subscriber, entity: Entity, group: list[int]) -> None:
    key = (subscriber.subscription.id, entity.id)
    if key in batch.graded:
        return  # graded on the state this batch sees already: the answer is the same
    batch.graded.add(key)
    session = batch.session
    letter = _letter(session, subscriber.viewer, group, batch.grade_rules)
    mark = session.get(SubscriptionGradeMark, key)
    if mark is None:
        # Watched since before set_grade_baselines existed, or a party the department has
        # only now got records about ("mine"): this view is the baseline.
        session.add(SubscriptionGradeMark(subscription_id=key[0], entity_id=key[1], letter=letter))
        return
    if mark.letter == letter:
        return
    change = OutboxEvent(
        kind=GRADE_CHANGED,
        entity_id=entity.id,
        data={"from": mark.letter, "to": letter},
        fanned_out=True,
    )
    session.add(change)
    session.flush()
    _add_delivery(batch, subscriber, change, entity, None, change.data)
    mark.letter = letter


def set_grade_baselines(
    *,
    session: Session,
    subscription: Subscription,
    client: ApiClient,
    today: date,
    grade_rules: GradeRules,
) -> int:
    """The grade the new ``subscription`` sees now for each entity it watches (named ones,
    and with ``watch_mine`` every party its department has records about), so the first
    change after subscribing is a ``grade.changed``; returns the marks written. Never
    commits."""
    viewer = viewer_for(session=session, client=client, today=today)
    batch = _Batch(session, grade_rules)
    targets = set(subscription.entity_ids)
    if subscription.watch_mine and subscription.department_id is not None:
        query = select(CreditRecord.entity_id).where(
            CreditRecord.department_id == subscription.department_id,
            CreditRecord.entity_id.is_not(None),
        )
        targets |= set(session.scalars(query.distinct()))
    written = 0
    for entity_id in sorted(targets):
        entity, group = batch.group(entity_id)
        key = (subscription.id, entity.id)
        if key in batch.graded:
            continue
        batch.graded.add(key)
        letter = _letter(session, viewer, group, grade_rules)
        session.add(SubscriptionGradeMark(subscription_id=key[0], entity_id=key[1], letter=letter))
        written += 1
    session.flush()
    return written
