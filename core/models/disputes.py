"""Credit repair applications and objections (disputes) about credit records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, enum_column, utcnow
from core.models.credit import CreditRecord
from core.models.enums import CreditStatus, ObjectionKind, ObjectionStatus, RepairStatus


class RepairApplication(Base):
    """A party's application to repair (stop publishing) a record after its minimum period.

    An approved application sets the record's status to repaired; the record and this decision
    stay for audit.
    """

    __tablename__ = "repair_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_contact: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RepairStatus] = mapped_column(
        enum_column(RepairStatus), default=RepairStatus.PENDING, index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)

    credit_record: Mapped[CreditRecord] = relationship()


class Objection(Base):
    """A dispute about a record's content, period or repair result.

    A new objection is ``received``: the record is unchanged (anyone may file one, so filing alone
    must not change what is published). Once a regulator or the record's department accepts it
    for handling it is ``open`` and the record shows ``disputed`` (its previous status is kept in
    ``record_status_before``); the source department answers by ``due_on``; a regulator closes it
    as corrected or upheld.
    """

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    kind: Mapped[ObjectionKind] = mapped_column(enum_column(ObjectionKind))
    raised_by_name: Mapped[str] = mapped_column(String(200))
    raised_by_contact: Mapped[str | None] = mapped_column(String(200))
    raised_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(
        enum_column(ObjectionStatus), default=ObjectionStatus.RECEIVED, index=True
    )
    record_status_before: Mapped[CreditStatus] = mapped_column(enum_column(CreditStatus))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    # Who accepted it for handling (a regulator or the record's department), and when.
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))

    credit_record: Mapped[CreditRecord] = relationship()
