"""Webhook subscriptions, the outbox of change events, and their deliveries.

An :class:`OutboxEvent` is written in the same transaction as the change it reports
(``core/outbox.py``), so a change committed is an event that will be delivered, whatever
happens to the process afterwards. The delivery worker (``app/subscriptions/worker.py``) turns
each event into one :class:`Delivery` per subscription that watches it and may see it, then
sends those until they succeed or die.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, JSONType, UTCDateTime, utcnow
from core.models.credit import CreditRecord


class Subscription(Base):
    """A department's (or regulator's) webhook: where to post, which event kinds, whom to
    watch (``entity_ids`` and/or ``watch_mine``: every party the department has records
    about). ``secret`` signs every body (HMAC-SHA256); it is shown once, at creation."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    entity_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    watch_mine: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxEvent(Base):
    """A change to report: ``kind`` is one of ``core.outbox.EVENT_KINDS``. The record is named
    by id when the change went through the ORM, by its source record when it was bulk
    inserted (its id is not known then)."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "fanned_out", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    source_record_id: Mapped[int | None] = mapped_column(Integer)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)

    record: Mapped[CreditRecord | None] = relationship()


class Delivery(Base):
    """One event for one subscription: ``pending`` until the receiver answers 2xx
    (``delivered``) or the last retry fails (``dead``). ``body`` is fixed at fan-out, so
    every retry sends the same bytes with the same idempotency key and signature."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[Subscription] = relationship()


class SubscriptionGradeMark(Base):
    """The grade a subscriber last saw for an entity (through its own view), to tell it when
    the grade changes."""

    __tablename__ = "subscription_grade_marks"

    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    letter: Mapped[str] = mapped_column(String(1))
