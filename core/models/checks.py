"""Credit checks (信用核查) made by departments at a decision, and their feedback (反馈)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, JSONType, UTCDateTime, utcnow


class CreditCheck(Base):
    """One check: who asked about which party for which matter, and exactly what was answered.

    ``result`` is the answer as the caller received it (masked for the caller's role), so the
    check can be shown again and audited as it was, whatever changes later. ``outcome`` is
    ``matched``, ``ambiguous`` (candidates, no guess) or ``not_found``.
    """

    __tablename__ = "credit_checks"
    __table_args__ = (Index("ix_credit_checks_department_created", "department_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    matter: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str | None] = mapped_column(String(200))
    # As the caller typed it: an ID number here is personal data, shown masked to non-regulators.
    identifier: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    feedback: Mapped[list[CreditCheckFeedback]] = relationship(
        back_populates="check", order_by="CreditCheckFeedback.id"
    )


class CreditCheckFeedback(Base):
    """What the department did with one measure of a check: applied, or not and why."""

    __tablename__ = "credit_check_feedback"
    __table_args__ = (UniqueConstraint("check_id", "measure_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("credit_checks.id"), index=True)
    measure_code: Mapped[str] = mapped_column(String(64))
    applied: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    check: Mapped[CreditCheck] = relationship(back_populates="feedback")
