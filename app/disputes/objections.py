"""Objections to credit records. Never commits: the request owns the transaction.

Every submission and decision (accept, answer, close) writes an audit event in the same
transaction, so an action without its trail cannot be committed.

State rules worth knowing:
- A new objection is ``received`` and changes nothing about the record: anyone may file one
  (anonymous objections are rate limited per address), so filing alone must not take a record
  out of publication. A regulator, or the department owning the record, accepts it for
  handling (``open``); only then does the record show ``disputed``. Several received objections
  may wait on one record; at most one is open or answered at a time.
- Closing an objection as ``corrected`` does not edit the record here: the source department
  pushes the corrected record through its feed. Both outcomes restore the earlier status.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.disputes.disputed_records import (
    DisputeRefused,
    mask_contact,
    record_summary,
    visible_record,
)
from app.disputes.workdays import CHINA, WorkingCalendar
from core.audit import record_event
from core.db import paginate
from core.models import (
    ApiClient,
    CreditRecord,
    CreditStatus,
    Department,
    Objection,
    ObjectionKind,
    ObjectionStatus,
    RepairApplication,
    RepairStatus,
    Role,
    utcnow,
)
from core.rules.settings import Rules

OPEN_OBJECTION = (ObjectionStatus.OPEN, ObjectionStatus.ANSWERED)
# Waiting for the department (to accept, then answer): these can be overdue.
_AWAITING_ANSWER = (ObjectionStatus.RECEIVED, ObjectionStatus.OPEN)


def raise_objection(
    *,
    session: Session,
    client: ApiClient | None,
    record_id: int,
    today: date,
    rules: Rules,
    kind: ObjectionKind,
    raised_by_name: str,
    raised_by_contact: str | None,
    description: str,
    calendar: WorkingCalendar = CHINA,
) -> Objection:
    """Raise an objection: it is ``received`` and the record is unchanged until a regulator or
    the record's department accepts it for handling (:func:`accept_objection`); the source
    department answers within ``rules.objection_answer_working_days`` working days of filing.

    Raises :class:`DisputeRefused`: 404 unknown (or invisible) record; 409 when an open or
    answered objection exists, or ``repair_result`` is raised without a decided repair.
    """
    record = visible_record(session, client, record_id, lock=True)
    existing = session.scalar(
        select(Objection.id).where(
            Objection.credit_record_id == record.id, Objection.status.in_(OPEN_OBJECTION)
        )
    )
    if existing is not None:
        raise DisputeRefused(
            f"record {record_id} already has an objection being handled ({existing})", status=409
        )
    if kind is ObjectionKind.REPAIR_RESULT:
        decided = session.scalar(
            select(
                exists().where(
                    RepairApplication.credit_record_id == record.id,
                    RepairApplication.status.in_((RepairStatus.APPROVED, RepairStatus.REJECTED)),
                )
            )
        )
        if not decided:
            raise DisputeRefused(
                f"record {record_id} has no decided repair application to object to", status=409
            )
    objection = Objection(
        credit_record=record,
        kind=kind,
        raised_by_name=raised_by_name.strip(),
        raised_by_contact=raised_by_contact,
        raised_by_client_id=client.id if client else None,
        description=description,
        status=ObjectionStatus.RECEIVED,
        record_status_before=record.status,
        raised_at=utcnow(),
        due_on=calendar.add_working_days(today, rules.objection_answer_working_days),
    )
    session.add(objection)
    session.flush()
    record_event(
        session=session,
        client=client,
        action="objection.raise",
        target_type="objection",
        target_id=str(objection.id),
        details={
            "record_id": record.id,
            "kind": kind.value,
            "record_status_before": objection.record_status_before.value,
            "due_on": objection.due_on.isoformat(),
        },
    )
    return objection


def _objection(session: Session, objection_id: int) -> Objection:
    objection = session.scalar(
        select(Objection).where(Objection.id == objection_id).with_for_update()
    )
    if objection is None:
        raise DisputeRefused(f"no objection {objection_id}", status=404)
    return objection


def accept_objection(*, session: Session, client: ApiClient, objection_id: int) -> Objection:
    """Accept a received objection for handling: it is ``open`` and the record shows
    ``disputed`` (if it was in force) until the objection is closed.

    Raises :class:`DisputeRefused`: 404 unknown objection; 403 a department accepting another
    department's record; 409 not received (already accepted or closed), or another objection
    about the record is being handled.
    """
    objection = _objection(session, objection_id)
    record = objection.credit_record
    owner = client.department_id is not None and record.department_id == client.department_id
    if client.role is not Role.REGULATOR and not owner:
        raise DisputeRefused(
            f"objection {objection_id} is about another department's record", status=403
        )
    if objection.status is not ObjectionStatus.RECEIVED:
        raise DisputeRefused(
            f"objection {objection_id} is {objection.status.value}, not received", status=409
        )
    handled = session.scalar(
        select(Objection.id).where(
            Objection.credit_record_id == record.id, Objection.status.in_(OPEN_OBJECTION)
        )
    )
    if handled is not None:
        raise DisputeRefused(
            f"record {record.id} already has an objection being handled ({handled})", status=409
        )
    objection.status = ObjectionStatus.OPEN
    objection.accepted_at = utcnow()
    objection.accepted_by_client_id = client.id
    objection.record_status_before = record.status
    # Only a record in force shows "disputed": a repaired, revoked or expired record keeps its
    # status (and stays unpublished) while an objection about it is open.
    if record.status is CreditStatus.ACTIVE:
        record.status = CreditStatus.DISPUTED
    record_event(
        session=session,
        client=client,
        action="objection.accept",
        target_type="objection",
        target_id=str(objection.id),
        details={
            "record_id": record.id,
            "record_status_before": objection.record_status_before.value,
            "record_status": record.status.value,
        },
    )
    session.flush()
    return objection


def answer_objection(
    *, session: Session, client: ApiClient, objection_id: int, answer: str, today: date
) -> Objection:
    """The source department's answer. A late answer is accepted and flagged in the audit trail.

    Raises :class:`DisputeRefused`: 404 unknown objection; 403 the record belongs to another
    department; 409 the objection is not open (already answered or closed).
    """
    objection = _objection(session, objection_id)
    record = objection.credit_record
    if client.department_id is None or record.department_id != client.department_id:
        raise DisputeRefused(
            f"objection {objection_id} is about another department's record", status=403
        )
    if objection.status is not ObjectionStatus.OPEN:
        raise DisputeRefused(
            f"objection {objection_id} is {objection.status.value}, not open", status=409
        )
    objection.status = ObjectionStatus.ANSWERED
    objection.answer = answer
    objection.answered_at = utcnow()
    objection.answered_by_client_id = client.id
    record_event(
        session=session,
        client=client,
        action="objection.answer",
        target_type="objection",
        target_id=str(objection.id),
        details={
            "record_id": record.id,
            "due_on": objection.due_on.isoformat(),
            "late": today > objection.due_on,
        },
    )
    session.flush()
    return objection


def close_objection(
    *, session: Session, client: ApiClient, objection_id: int, outcome: ObjectionStatus, reason: str
) -> Objection:
    """Close as ``corrected`` or ``upheld``; the record returns to the status it had before.

    Closing an unanswered objection is allowed and recorded (``answered: false``), a received
    one too (dismissed without handling; the record was never disputed by it). If the record
    is no longer ``disputed`` (a newer feed version reset it), its current status is left alone.
    Raises :class:`DisputeRefused`: 404 unknown objection; 409 already closed; 422 bad outcome.
    """
    if outcome not in (ObjectionStatus.CORRECTED, ObjectionStatus.UPHELD):
        raise DisputeRefused("outcome must be corrected or upheld", status=422)
    objection = _objection(session, objection_id)
    if objection.status not in (ObjectionStatus.RECEIVED, *OPEN_OBJECTION):
        raise DisputeRefused(f"objection {objection_id} is already closed", status=409)
    record = objection.credit_record
    was_answered = objection.status is ObjectionStatus.ANSWERED
    # A received objection never changed the record: closing it has nothing to restore.
    restored = objection.status in OPEN_OBJECTION and record.status is CreditStatus.DISPUTED
    if restored:
        record.status = objection.record_status_before
    objection.status = outcome
    objection.resolution_reason = reason
    objection.closed_at = utcnow()
    objection.closed_by_client_id = client.id
    record_event(
        session=session,
        client=client,
        action="objection.close",
        target_type="objection",
        target_id=str(objection.id),
        details={
            "record_id": record.id,
            "outcome": outcome.value,
            "reason": reason,
            "answered": was_answered,
            "record_status": record.status.value,
            "record_status_restored": restored,
        },
    )
    session.flush()
    return objection


def present_objection(
    objection: Objection,
    *,
    today: date,
    full_contact: bool,
    department_code: str | None = None,
    with_record: bool = False,
) -> dict[str, Any]:
    record = objection.credit_record
    body: dict[str, Any] = {
        "id": objection.id,
        "record_id": objection.credit_record_id,
        "record_status": record.status.value,
        "record_status_before": objection.record_status_before.value,
        "kind": objection.kind.value,
        "raised_by_name": objection.raised_by_name,
        "raised_by_contact": (
            objection.raised_by_contact
            if full_contact
            else mask_contact(objection.raised_by_contact)
        ),
        "description": objection.description,
        "status": objection.status.value,
        "raised_at": objection.raised_at,
        "due_on": objection.due_on,
        "overdue": objection.status in _AWAITING_ANSWER and objection.due_on < today,
        "accepted_at": objection.accepted_at,
        "answer": objection.answer,
        "answered_at": objection.answered_at,
        "resolution_reason": objection.resolution_reason,
        "closed_at": objection.closed_at,
    }
    if with_record:
        body["record"] = record_summary(record, department_code)
    return body


def list_objections(
    *,
    session: Session,
    client: ApiClient,
    today: date,
    status: str | None,
    overdue: bool,
    department_code: str | None,
    page: int,
    page_size: int,
    full_contact: bool,
) -> tuple[list[dict[str, Any]], int]:
    """Objections by due date; departments see those about their own records only.

    ``overdue`` keeps received and open objections whose ``due_on`` has passed (answered ones
    are not late).
    """
    query = (
        select(Objection, Department.code)
        .join(CreditRecord, CreditRecord.id == Objection.credit_record_id)
        .join(Department, Department.id == CreditRecord.department_id)
        .order_by(Objection.due_on, Objection.id)
    )
    if client.role is not Role.REGULATOR:
        query = query.where(CreditRecord.department_id == client.department_id)
    if status:
        query = query.where(Objection.status == ObjectionStatus(status))
    if overdue:
        query = query.where(Objection.status.in_(_AWAITING_ANSWER), Objection.due_on < today)
    if department_code:
        query = query.where(Department.code == department_code)
    rows, total = paginate(session, query, page=page, page_size=page_size)
    items = [
        present_objection(
            objection,
            today=today,
            full_contact=full_contact,
            department_code=code,
            with_record=True,
        )
        for objection, code in rows
    ]
    return items, total
