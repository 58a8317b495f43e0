"""The delivery worker: outbox events to deliveries (fan-out), deliveries to webhooks.

Run by the scheduler of ``credithub serve --with-scheduler`` and by ``credithub deliver``.
Each step owns its transactions (the worker is a transaction owner, like an ingest run):

* :func:`fan_out` reads events not yet fanned out and, for each active subscription that asks
  for its kind, watches its entity and may *see* its record (the subscriber's sharing view,
  ``core.rules.sharing``), writes one :class:`Delivery` with its body fixed (masked for the
  subscriber's role) and marks the event fanned out, all in one commit. It also derives
  ``grade.changed``: the subscriber's view of the entity's grade compared with the last one
  it was told (``SubscriptionGradeMark``);
* :func:`deliver_due` posts the due deliveries, several at once, and records their outcomes
  in one commit: a process killed between posting and committing posts them again (at least
  once; the ``Idempotency-Key`` lets the receiver drop the repeat). A failure schedules a
  retry after an exponential delay with jitter; the last failure leaves the delivery ``dead``
  (the dead letter), with its history.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from app.credit_checks.services import jsonable, record_summary
from app.entities.present import Viewer
from app.entities.queries import visible_clause
from app.entities.services import viewer_for
from app.subscriptions import webhooks
from core.config import Config
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

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    base_seconds: float = 10.0
    cap_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    allow_private: bool = False
    concurrency: int = 8  # posts in flight at once
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with "equal jitter": half the step fixed, half random, so
        retries of many deliveries failing together spread out instead of arriving at once."""
        step = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return timedelta(seconds=step / 2 + self.rng.uniform(0, step / 2))


def policy_from(config: Config) -> DeliveryPolicy:
    return DeliveryPolicy(
        max_attempts=config.webhook_max_attempts,
        base_seconds=float(config.webhook_backoff_seconds),
        allow_private=config.webhook_allow_private,
    )


@dataclass
class _Subscriber:
    subscription: Subscription
    viewer: Viewer


def fan_out(*, session: Session, today: date, grade_rules: GradeRules, limit: int = 1000) -> int:
    """Deliveries for up to ``limit`` events not yet fanned out; returns the events handled.
    Never commits."""
    events = list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.fanned_out.is_(False))
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
    )
    if not events:
        return 0
    subscribers = [
        _Subscriber(s, viewer_for(session=session, client=_client(session, s), today=today))
        for s in session.scalars(select(Subscription).where(Subscription.active.is_(True)))
    ]
    # Reads first, writes at the commit: on SQLite the write lock is then held for the flush
    # alone, not for the whole fan-out, and changes being stored meanwhile are not held up.
    with session.no_autoflush:
        for event in events:
            event.fanned_out = True
            record = _record_of(session, event)
            if record is None or record.entity_id is None:
                continue
            entity = survivor_of(session, session.get_one(Entity, record.entity_id))
            group = entity_group(session, entity)
            for subscriber in subscribers:
                if record.feed_id not in subscriber.viewer.feed_ids:
                    continue  # the subscriber may not see this record: no event either
                if not _watches(session, subscriber.subscription, entity, group):
                    continue
                if event.kind in subscriber.subscription.kinds:
                    _add_delivery(session, subscriber, event, entity, record)
                if GRADE_CHANGED in subscriber.subscription.kinds:
                    _grade_change(session, subscriber, entity, group, grade_rules)
    session.flush()
    return len(events)


def _client(session: Session, subscription: Subscription) -> ApiClient:
    return session.get_one(ApiClient, subscription.client_id)


def _record_of(session: Session, event: OutboxEvent) -> CreditRecord | None:
    if event.record_id is not None:
        return session.get(CreditRecord, event.record_id)
    return session.scalar(
        select(CreditRecord).where(CreditRecord.source_record_id == event.source_record_id)
    )


def _watches(
    session: Session, subscription: Subscription, entity: Entity, group: list[int]
) -> bool:
    if set(subscription.entity_ids) & set(group):
        return True
    if not subscription.watch_mine or subscription.department_id is None:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    CreditRecord.entity_id.in_(group),
                    CreditRecord.department_id == subscription.department_id,
                )
            )
        )
    )


def _add_delivery(
    session: Session,
    subscriber: _Subscriber,
    event: OutboxEvent,
    entity: Entity,
    record: CreditRecord | None,
    data: dict[str, Any] | None = None,
) -> None:
    subscription, viewer = subscriber.subscription, subscriber.viewer
    key = f"evt-{event.id}-sub-{subscription.id}"
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
        "record": _record_view(session, viewer, record) if record is not None else None,
        "data": data if data is not None else dict(event.data or {}),
    }
    if not viewer.full_identifiers:
        body = scrub(body)
    session.add(
        Delivery(
            subscription_id=subscription.id,
            event_id=event.id,
            kind=event.kind,
            idempotency_key=key,
            body=json.dumps(jsonable(body), ensure_ascii=False, sort_keys=True),
        )
    )


def _record_view(session: Session, viewer: Viewer, record: CreditRecord) -> dict[str, Any]:
    row = session.execute(
        select(Feed.code, Department.code, Department.name)
        .join(Department, Feed.department_id == Department.id)
        .where(Feed.id == record.feed_id)
    ).one()
    return record_summary(viewer, record, (row[0], row[1], row[2]))


def _grade_change(
    session: Session,
    subscriber: _Subscriber,
    entity: Entity,
    group: list[int],
    grade_rules: GradeRules,
) -> None:
    viewer = subscriber.viewer
    records = session.scalars(
        select(CreditRecord).where(
            CreditRecord.entity_id.in_(group), visible_clause(viewer.feed_ids)
        )
    ).all()
    letter = grade_entity(records=records, today=viewer.today, rules=grade_rules).letter
    key = (subscriber.subscription.id, entity.id)
    mark = session.get(SubscriptionGradeMark, key)
    if mark is None:
        session.add(SubscriptionGradeMark(subscription_id=key[0], entity_id=key[1], letter=letter))
        session.flush()  # the next event of this fan-out finds it (no autoflush here)
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
    _add_delivery(session, subscriber, change, entity, None, change.data)
    mark.letter = letter


def deliver_due(
    *,
    session_factory: sessionmaker[Session],
    policy: DeliveryPolicy,
    now: Callable[[], datetime] = utcnow,
    limit: int = 100,
    attempted: set[int] | None = None,
) -> dict[str, int]:
    """Post up to ``limit`` due deliveries at once (``policy.concurrency`` in parallel), then
    record every outcome in one commit; returns counts by the status each ended in.

    At least once: a worker killed before that commit posts the batch again (the receivers
    drop repeats by ``Idempotency-Key``). The rows are locked (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL) so two workers never post the same delivery at the same time. ``attempted``
    collects the ids posted, and those already in it are left for a later pass."""
    counts = {DELIVERED: 0, PENDING: 0, DEAD: 0}
    with session_factory() as session:
        due = list(
            session.scalars(
                select(Delivery)
                .where(
                    Delivery.status == PENDING,
                    Delivery.next_attempt_at <= now(),
                    Delivery.id.not_in(sorted(attempted or ())),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not due:
            return counts
        if attempted is not None:
            attempted.update(d.id for d in due)
        at = now()
        # Everything a post needs, read here: the ORM objects stay in this thread.
        requests = [_request(d, policy, at) for d in due]
        with ThreadPoolExecutor(max_workers=min(policy.concurrency, len(due))) as pool:
            answers = list(pool.map(lambda r: _send(r, policy), requests))
        for delivery, answer in zip(due, answers, strict=True):
            _record(delivery, answer, policy, at)
            counts[delivery.status] += 1
        session.commit()
    return counts


@dataclass(frozen=True)
class _Request:
    url: str
    body: str
    headers: dict[str, str]


def _request(delivery: Delivery, policy: DeliveryPolicy, at: datetime) -> _Request:
    subscription = delivery.subscription
    timestamp = str(int(at.timestamp()))
    headers = {
        webhooks.KEY_HEADER: delivery.idempotency_key,
        webhooks.TIMESTAMP_HEADER: timestamp,
        webhooks.SIGNATURE_HEADER: webhooks.sign(subscription.secret, timestamp, delivery.body),
        "X-CreditHub-Event": delivery.kind,
    }
    return _Request(subscription.url, delivery.body, headers)


def _send(request: _Request, policy: DeliveryPolicy) -> webhooks.Answer:
    try:
        webhooks.check_webhook_url(request.url, allow_private=policy.allow_private)
    except webhooks.WebhookRefused as exc:
        return webhooks.Answer(None, exc.message)
    return webhooks.post(
        url=request.url,
        body=request.body,
        headers=request.headers,
        timeout=policy.timeout_seconds,
    )


def _record(
    delivery: Delivery, answer: webhooks.Answer, policy: DeliveryPolicy, at: datetime
) -> None:
    delivery.attempts += 1
    delivery.last_status_code = answer.status_code
    delivery.last_error = answer.error
    if answer.ok:
        delivery.status, delivery.delivered_at = DELIVERED, at
    elif delivery.attempts >= policy.max_attempts:
        delivery.status = DEAD
    else:
        delivery.next_attempt_at = at + policy.delay(delivery.attempts)


def run_once(
    *,
    session_factory: sessionmaker[Session],
    policy: DeliveryPolicy,
    today: date,
    grade_rules: GradeRules,
    fan_out_batch: int = 200,
) -> dict[str, int]:
    """Alternate fanning out a batch of events and delivering what is due until the outbox is
    drained and nothing more is due: a steady stream of changes never keeps the events
    already fanned out from being sent."""
    fanned = 0
    totals = {DELIVERED: 0, PENDING: 0, DEAD: 0}
    attempted: set[int] = set()  # one attempt per delivery and pass, whatever the backoff
    while True:
        with session_factory() as session:
            handled = fan_out(
                session=session, today=today, grade_rules=grade_rules, limit=fan_out_batch
            )
            session.commit()
        fanned += handled
        counts = deliver_due(session_factory=session_factory, policy=policy, attempted=attempted)
        for status, n in counts.items():
            totals[status] += n
        if handled == 0 and not any(counts.values()):
            break
    return {"events": fanned, **totals}
