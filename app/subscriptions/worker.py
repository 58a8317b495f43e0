"""The delivery worker: outbox events to deliveries (fan-out), deliveries to webhooks.

Run by ``credithub serve --with-scheduler`` (a thread beside the server) and by ``credithub
deliver [--every S]``, both through :func:`run_loop`: while there is work it fans out and posts
without pausing, and it polls every ``S`` seconds (half a second in ``serve``) once the outbox
is drained, so an event waits for the worker at most that long plus the work ahead of it.
Each step owns its transactions (the worker is a transaction owner, like an ingest run):

* :func:`app.subscriptions.fanout.fan_out` turns a batch of events into one delivery per
  subscription that watches and may see them, in one commit;
* :func:`deliver_due` claims a batch of due deliveries (an indexed query on status and due
  time, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so two workers never post the same one),
  posts them ``concurrency`` at a time over pooled keep-alive connections (:class:`Poster`),
  and records their outcomes in one commit: a process killed between posting and committing
  posts them again (at least once; the ``Idempotency-Key`` lets the receiver drop the repeat).
  A failure schedules a retry after an exponential delay with jitter; the last failure leaves
  the delivery ``dead`` (the dead letter), with its history.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import TracebackType

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.subscriptions import webhooks
from app.subscriptions.fanout import fan_out
from core.config import Config
from core.models import Delivery, utcnow
from core.rules.settings import GradeRules

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
CANCELLED = "cancelled"  # its subscription was cancelled before it was posted


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


class Poster:
    """Posts webhooks ``policy.concurrency`` at a time, each thread over its own pooled
    ``requests.Session`` (keep-alive: a receiver that keeps connections open is not asked for a
    new TCP, and TLS, handshake per event). Made once per worker loop, not per batch."""

    def __init__(self, policy: DeliveryPolicy) -> None:
        self.policy = policy
        self._pool = ThreadPoolExecutor(
            max_workers=policy.concurrency, thread_name_prefix="webhook-post"
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Poster:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for http in self._sessions:
                http.close()
            self._sessions.clear()

    def post_all(self, requests_: list[_Request]) -> list[webhooks.Answer]:
        return list(self._pool.map(self._send, requests_))

    def _http(self) -> requests.Session:
        http: requests.Session | None = getattr(self._local, "http", None)
        if http is None:
            http = requests.Session()
            self._local.http = http
            with self._lock:
                self._sessions.append(http)
        return http

    def _send(self, request: _Request) -> webhooks.Answer:
        try:
            webhooks.check_webhook_url(request.url, allow_private=self.policy.allow_private)
        except webhooks.WebhookRefused as exc:
            return webhooks.Answer(None, exc.message)
        return webhooks.post(
            url=request.url,
            body=request.body,
            headers=request.headers,
            timeout=self.policy.timeout_seconds,
            http=self._http(),
        )


def deliver_due(
    *,
    session_factory: sessionmaker[Session],
    policy: DeliveryPolicy,
    now: Callable[[], datetime] = utcnow,
    limit: int = 100,
    attempted: set[int] | None = None,
    poster: Poster | None = None,
) -> dict[str, int]:
    """Post up to ``limit`` due deliveries at once (``policy.concurrency`` in parallel), then
    record every outcome in one commit; returns counts by the status each ended in.

    At least once: a worker killed before that commit posts the batch again (the receivers
    drop repeats by ``Idempotency-Key``). The rows are locked (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL) so two workers never post the same delivery at the same time. ``attempted``
    collects the ids that failed and wait for a retry, and those already in it are left for a
    later pass (with no backoff they would be due again at once)."""
    if poster is None:
        with Poster(policy) as own:
            return deliver_due(
                session_factory=session_factory,
                policy=policy,
                now=now,
                limit=limit,
                attempted=attempted,
                poster=own,
            )
    counts = {DELIVERED: 0, PENDING: 0, DEAD: 0}
    with session_factory() as session:
        query = (
            select(Delivery)
            .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now())
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if attempted:
            query = query.where(Delivery.id.not_in(sorted(attempted)))
        due = list(session.scalars(query))
        if not due:
            return counts
        for delivery in [d for d in due if not d.subscription.active]:
            # Fanned out just before its subscription was cancelled: never posted.
            delivery.status, delivery.last_error = CANCELLED, "subscription cancelled"
            due.remove(delivery)
        at = now()
        # Everything a post needs, read here: the ORM objects stay in this thread.
        answers = poster.post_all([_request(d, at) for d in due])
        for delivery, answer in zip(due, answers, strict=True):
            _record(delivery, answer, policy, at)
            counts[delivery.status] += 1
            if attempted is not None and delivery.status == PENDING:
                attempted.add(delivery.id)
        session.commit()
    return counts


@dataclass(frozen=True)
class _Request:
    url: str
    body: str
    headers: dict[str, str]


def _request(delivery: Delivery, at: datetime) -> _Request:
    subscription = delivery.subscription
    timestamp = str(int(at.timestamp()))
    headers = {
        webhooks.KEY_HEADER: delivery.idempotency_key,
        webhooks.TIMESTAMP_HEADER: timestamp,
        webhooks.SIGNATURE_HEADER: webhooks.sign(subscription.secret, timestamp, delivery.body),
        "X-CreditHub-Event": delivery.kind,
    }
    return _Request(subscription.url, delivery.body, headers)


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
    poster: Poster | None = None,
) -> dict[str, int]:
    """Alternate fanning out a batch of events and delivering what is due until the outbox is
    drained and nothing more is due: a steady stream of changes never keeps the events
    already fanned out from being sent."""
    if poster is None:
        with Poster(policy) as own:
            return run_once(
                session_factory=session_factory,
                policy=policy,
                today=today,
                grade_rules=grade_rules,
                fan_out_batch=fan_out_batch,
                poster=own,
            )
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
        counts = deliver_due(
            session_factory=session_factory, policy=policy, attempted=attempted, poster=poster
        )
        for status, n in counts.items():
            totals[status] += n
        if handled == 0 and not any(counts.values()):
            break
    return {"events": fanned, **totals}


def run_loop(
    step: Callable[[Poster], dict[str, int]],
    *,
    policy: DeliveryPolicy,
    stop: threading.Event,
    poll_seconds: float,
    report: Callable[[dict[str, int]], None] | None = None,
) -> None:
    """Run ``step`` (a :func:`run_once` pass, which drains the outbox) again and again until
    ``stop`` is set, waiting ``poll_seconds`` after each pass: work that arrives while a pass
    runs is taken by the same pass, work that arrives while idle waits at most the poll. A
    failing pass (a database gone away, a lock timeout) is logged and retried after the
    poll: nothing is lost, the events and deliveries stay in their tables."""
    with Poster(policy) as poster:
        while not stop.is_set():
            try:
                counts = step(poster)
            except Exception:  # the loop must outlive one bad pass; the rows wait
                log.exception("webhook delivery pass failed; retrying in %s s", poll_seconds)
            else:
                if report is not None:
                    report(counts)
            stop.wait(poll_seconds)
