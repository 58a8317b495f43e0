"""Credit records (licensing, penalties, list entries, grades) and their links to entities."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, JSONType, UTCDateTime, enum_column, utcnow
from core.models.entities import Entity
from core.models.enums import CreditStatus, DecidedBy, MatchDecision, RecordCategory, Severity
from core.models.sources import SourceRecord


class CreditRecord(Base):
    """A credit fact about an entity, traceable to the source record (and so the feed and
    department) that furnished it. Repaired and expired records are kept, never deleted."""

    __tablename__ = "credit_records"
    __table_args__ = (
        Index("ix_credit_records_entity_category", "entity_id", "category"),
        Index("ix_credit_records_decision_date", "decision_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"), unique=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    link_confidence: Mapped[float | None] = mapped_column(Float)
    category: Mapped[RecordCategory] = mapped_column(enum_column(RecordCategory))
    subtype: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[Severity | None] = mapped_column(enum_column(Severity))
    status: Mapped[CreditStatus] = mapped_column(
        enum_column(CreditStatus), default=CreditStatus.ACTIVE, index=True
    )
    party_name: Mapped[str] = mapped_column(String(300))
    decision_number: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    content: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    decision_date: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    publicity_end: Mapped[date | None] = mapped_column(Date)
    authority_name: Mapped[str | None] = mapped_column(String(300))
    authority_uscc: Mapped[str | None] = mapped_column(String(18))
    fine_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    confiscated_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    # Grade letters (tax A/B/M/C/D, customs ratings) and list names live here.
    grade: Mapped[str | None] = mapped_column(String(16))
    list_name: Mapped[str | None] = mapped_column(String(100))
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    source_record: Mapped[SourceRecord] = relationship()
    entity: Mapped[Entity | None] = relationship()


class MatchLink(Base):
    """A decision that a source record does (or does not) belong to an entity, and why.

    Rows are kept when a later decision replaces them (``superseded_at`` set), so the history of
    every link, including a reviewer's "not the same", stays visible and enforceable.
    """

    __tablename__ = "match_links"
    __table_args__ = (
        Index("ix_match_links_record_current", "source_record_id", "superseded_at"),
        Index("ix_match_links_decision", "decision", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    decision: Mapped[MatchDecision] = mapped_column(enum_column(MatchDecision))
    score: Mapped[float] = mapped_column(Float)
    # {"rule": "...", "fields": [{"field": "uscc", "score": 1.0, "why": "..."}], ...}
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    algorithm: Mapped[str] = mapped_column(String(64))
    # The version of the scoring model (core.models.MatchingModel, or the hand-set default
    # weights' version) when the matcher decided the link; None when an identifier did.
    model_version: Mapped[str | None] = mapped_column(String(40))
    decided_by: Mapped[DecidedBy] = mapped_column(enum_column(DecidedBy))
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entity: Mapped[Entity] = relationship()
    source_record: Mapped[SourceRecord] = relationship()
