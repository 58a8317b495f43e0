"""Webhook subscriptions of departments and regulators, and their delivery history. Never
commits.

A subscription watches entities named by public id or identifier (each must name exactly one
party: an ambiguous or unknown one is refused, never guessed), and/or ``mine``: every party
the subscriber's department has records about. Events reach it only for records its sharing
view lets it see, masked for its role (``app/subscriptions/worker.py``). A client sees the
subscriptions of its department (its own, without a department).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.credit_checks.parties import FOUND, find_party
from app.subscriptions.fanout import set_grade_baselines
from app.subscriptions.webhooks import check_webhook_url
from app.subscriptions.worker import CANCELLED, PENDING
from core.audit import record_event
from core.errors import NotFound, ServiceRefused
from core.models import ApiClient, Delivery, Entity, Role, Subscription
from core.outbox import EVENT_KINDS, GRADE_CHANGED
from core.rules.settings import GradeRules
from resolution.survivors import resolve_entity

RECENT_DELIVERIES = 20


class SubscriptionNotFound(NotFound):
    """No subscription has the id, or it belongs to another department."""


def create_subscription(
    *,
    session: Session,
    client: ApiClient,
    url: str,
    kinds: Sequence[str],
    public_ids: Sequence[str],
    identifiers: Sequence[str],
    mine: bool,
    allow_private: bool,
    today: date,
    grade_rules: GradeRules,
) -> tuple[Subscription, str]:
    """A new subscription and its signing secret (shown to the caller once). Audited
    (``subscription.create``). With ``grade.changed`` among its kinds, the grade each watched
    party has now in the subscriber's view is recorded as the baseline
    (:func:`app.subscriptions.fanout.set_grade_baselines`): the first change after
    subscribing is reported.

    Raises :class:`ServiceRefused` (422) for a refused URL (``app.subscriptions.webhooks``),
    an unknown event kind, nothing to watch, an unknown public id, or an identifier that does
    not name exactly one party.
    """
    check_webhook_url(url, allow_private=allow_private)
    problems: dict[str, list[str]] = {}
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    if unknown or not kinds:
        problems["kinds"] = [f"Known kinds: {', '.join(EVENT_KINDS)}; got {list(kinds)}."]
    if mine and client.department_id is None:
        problems["mine"] = ["Only a client of a department has records of its own."]
    entity_ids = _watched(session, public_ids, identifiers, problems)
    if not (entity_ids or mine) and "public_ids" not in problems and "identifiers" not in problems:
        problems["watch"] = ["Name entities to watch, or set mine."]
    if problems:
        raise ServiceRefused("The subscription cannot be made.", status=422, errors=problems)
    secret = new_webhook_secret()
    subscription = Subscription(
        client_id=client.id,
        department_id=client.department_id,
        url=url,
        secret=secret,
        kinds=sorted(set(kinds)),
        entity_ids=sorted(set(entity_ids)),
        watch_mine=mine,
    )
    session.add(subscription)
    session.flush()
    baselines = 0
    if GRADE_CHANGED in subscription.kinds:
        baselines = set_grade_baselines(
            session=session,
            subscription=subscription,
            client=client,
            today=today,
            grade_rules=grade_rules,
        )
    record_event(
        session=session,
        client=client,
        action="subscription.create",
        target_type="subscription",
        target_id=str(subscription.id),
        details={
            "kinds": subscription.kinds,
            "entities": len(entity_ids),
            "mine": mine,
            "grade_baselines": baselines,
        },
    )
    return subscription, secret


def _watched(
    session: Session,
    public_ids: Sequence[str],
    identifiers: Sequence[str],
    problems: dict[str, list[str]],
) -> list[int]:
    """The entities named, each exactly; what names none (or several) goes to ``problems``."""
    entity_ids: list[int] = []
    for public_id in public_ids:
        found = resolve_entity(session, public_id)
        if found is None:
            problems.setdefault("public_ids", []).append(f"No entity has the id {public_id!r}.")
        else:
            entity_ids.append(found[0].id)
    for identifier in identifiers:
        party = find_party(session, identifier)
        if party.outcome != FOUND or party.entity is None:
            problems.setdefault("identifiers", []).append(
                f"{identifier!r} names no single party ({party.outcome})."
            )
        else:
            entity_ids.append(party.entity.id)
    return entity_ids


def _mine(client: ApiClient) -> Any:
    if client.department_id is not None:
        return Subscription.department_id == client.department_id
    return Subscription.client_id == client.id


def list_subscriptions(*, session: Session, client: ApiClient) -> list[Subscription]:
    return list(
        session.scalars(select(Subscription).where(_mine(client)).order_by(Subscription.id))
    )


def get_subscription(*, session: Session, client: ApiClient, subscription_id: int) -> Subscription:
    """Raises :class:`SubscriptionNotFound`."""
    found = session.scalar(
        select(Subscription).where(Subscription.id == subscription_id, _mine(client))
    )
    if found is None:
        raise SubscriptionNotFound(f"No subscription has the id {subscription_id}.")
    return found


def cancel_subscription(
    *, session: Session, client: ApiClient, subscription_id: int
) -> Subscription:
    """Deactivate a subscription of the caller's department (its own, without one), or any
    subscription for a regulator: no event is fanned out to it any more, and its deliveries
    still pending (waiting for a first post or a retry) are ``cancelled``, never posted.
    Audited (``subscription.cancel``, with how many pending deliveries were dropped); a second
    cancellation changes nothing and is not audited again.

    Raises :class:`SubscriptionNotFound` (404) for another department's subscription."""
    query = select(Subscription).where(Subscription.id == subscription_id)
    if client.role is not Role.REGULATOR:
        query = query.where(_mine(client))
    found = session.scalar(query.with_for_update())
    if found is None:
        raise SubscriptionNotFound(f"No subscription has the id {subscription_id}.")
    if not found.active:
        return found
    found.active = False
    dropped = session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == found.id, Delivery.status == PENDING)
        .values(status=CANCELLED, last_error="subscription cancelled")
    ).rowcount
    record_event(
        session=session,
        client=client,
        action="subscription.cancel",
        target_type="subscription",
        target_id=str(found.id),
        details={"pending_deliveries_cancelled": dropped, "owner_client_id": found.client_id},
    )
    session.flush()
    return found


def recent_deliveries(
    *, session: Session, subscription: Subscription, limit: int = RECENT_DELIVERIES
) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.subscription_id == subscription.id)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )


def present_subscription(
    session: Session, subscription: Subscription, *, secret: str | None = None
) -> dict[str, Any]:
    watched = session.scalars(
        select(Entity.public_id).where(Entity.id.in_(subscription.entity_ids or [-1]))
    ).all()
    body: dict[str, Any] = {
        "id": subscription.id,
        "url": subscription.url,
        "kinds": subscription.kinds,
        "entities": sorted(watched),
        "mine": subscription.watch_mine,
        "active": subscription.active,
        "created_at": subscription.created_at,
        "deliveries": [
            present_delivery(d)
            for d in recent_deliveries(session=session, subscription=subscription)
        ],
    }
    if secret is not None:
        body["secret"] = secret
    return body


def present_delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "kind": delivery.kind,
        "idempotency_key": delivery.idempotency_key,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


def new_webhook_secret() -> str:
    """64 random letters (about 365 bits). Letters only: the answer that shows the secret passes
    the masking safety net (``app.auth.access``), which stars out any run of digits that reads
    like a mobile or resident-id number, and a hex secret holds such runs now and then."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(64))
