"""Credit repair applications. Never commits: the request owns the transaction.

Every submission and decision (approve / reject) writes an audit event in the same transaction, so
an action without its trail cannot be committed. Repair can be neither applied for nor decided on
a record under an open or answered objection (it shows ``disputed``), because closing the objection
restores the status the record had when it was raised and would otherwise undo (or resurrect) a
repair.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.disputes.disputed_records import (
    DisputeRefused,
    mask_contact,
    record_summary,
    visible_record,
)
from core.audit import record_event
from core.db import paginate
from core.models import (
    ApiClient,
    CreditRecord,
    CreditStatus,
    Department,
    RepairApplication,
    RepairStatus,
    utcnow,
)
from core.rules.publicity import effective_status, repair_allowed_from
from core.rules.settings import Rules

_NOT_REPAIRABLE = {
    CreditStatus.REPAIRED: "it is already repaired",
    CreditStatus.REVOKED: "it was revoked",
    CreditStatus.EXPIRED: "its publicity period has ended",
}


def apply_for_repair(
    *,
    session: Session,
    client: ApiClient | None,
    record_id: int,
    today: date,
    rules: Rules,
    applicant_name: str,
    applicant_contact: str | None,
    reason: str,
    evidence: str | None,
) -> RepairApplication:
    """File a repair application for a record whose minimum publicity has passed.

    Raises :class:`DisputeRefused`: 404 unknown (or invisible) record; 409 when the record has
    no severity or decision date, is repaired / revoked / expired / disputed, already has a
    pending application, or ``today`` is before the first allowed day (named in the message).
    """
    record = visible_record(session, client, record_id, lock=True)
    if record.severity is None:
        raise DisputeRefused(
            f"record {record_id} is not a dishonesty record: nothing to repair", status=409
        )
    status = effective_status(record, today)
    if status in _NOT_REPAIRABLE:
        raise DisputeRefused(
            f"record {record_id} cannot be repaired: {_NOT_REPAIRABLE[status]}", status=409
        )
    if status is CreditStatus.DISPUTED:
        raise DisputeRefused(
            f"record {record_id} is under objection; apply for repair once it is closed", status=409
        )
    pending = session.scalar(
        select(RepairApplication.id).where(
            RepairApplication.credit_record_id == record.id,
            RepairApplication.status == RepairStatus.PENDING,
        )
    )
    if pending is not None:
        raise DisputeRefused(
            f"record {record_id} already has a pending repair application ({pending})", status=409
        )
    allowed_from = repair_allowed_from(record, rules)
    if allowed_from is None:
        raise DisputeRefused(f"record {record_id} has no decision date to count from", status=409)
    if today < allowed_from:
        months = rules.min_publicity_months[record.severity]
        raise DisputeRefused(
            f"credit repair of record {record_id} is allowed from {allowed_from.isoformat()} "
            f"({months} months after its {record.severity.value} decision of "
            f"{record.decision_date})",
            status=409,
        )
    application = RepairApplication(
        credit_record=record,
        applicant_name=applicant_name.strip(),
        applicant_contact=applicant_contact,
        reason=reason,
        evidence=evidence,
        status=RepairStatus.PENDING,
        submitted_at=utcnow(),
        submitted_by_client_id=client.id if client else None,
    )
    session.add(application)
    session.flush()
    record_event(
        session=session,
        client=client,
        action="repair.submit",
        target_type="repair_application",
        target_id=str(application.id),
        details={"record_id": record.id, "allowed_from": allowed_from.isoformat()},
    )
    return application


def decide_repair(
    *, session: Session, client: ApiClient, application_id: int, approve: bool, reason: str
) -> RepairApplication:
    """Approve (the record becomes ``repaired``, kept for audit) or reject an application.

    Raises :class:`DisputeRefused`: 404 unknown application; 409 already decided, or (approval
    only) the record is disputed, revoked or expired.
    """
    application = session.scalar(
        select(RepairApplication).where(RepairApplication.id == application_id).with_for_update()
    )
    if application is None:
        raise DisputeRefused(f"no repair application {application_id}", status=404)
    if application.status is not RepairStatus.PENDING:
        raise DisputeRefused(
            f"repair application {application_id} was already {application.status.value}",
            status=409,
        )
    record = application.credit_record
    if approve and record.status is not CreditStatus.ACTIVE:
        raise DisputeRefused(
            f"record {record.id} is {record.status.value}: it cannot be repaired now "
            "(close its objection first, or reject the application)",
            status=409,
        )
    application.status = RepairStatus.APPROVED if approve else RepairStatus.REJECTED
    application.decided_at = utcnow()
    application.decided_by_client_id = client.id
    application.decision_reason = reason
    if approve:
        record.status = CreditStatus.REPAIRED
    record_event(
        session=session,
        client=client,
        action="repair.approve" if approve else "repair.reject",
        target_type="repair_application",
        target_id=str(application.id),
        details={"record_id": record.id, "reason": reason, "record_status": record.status.value},
    )
    session.flush()
    return application


def present_application(
    application: RepairApplication,
    *,
    full_contact: bool,
    department_code: str | None = None,
    with_record: bool = False,
) -> dict[str, Any]:
    record = application.credit_record
    body: dict[str, Any] = {
        "id": application.id,
        "record_id": application.credit_record_id,
        "record_status": record.status.value,
        "applicant_name": application.applicant_name,
        "applicant_contact": (
            application.applicant_contact
            if full_contact
            else mask_contact(application.applicant_contact)
        ),
        "reason": application.reason,
        "evidence": application.evidence,
        "status": application.status.value,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
        "decision_reason": application.decision_reason,
    }
    if with_record:
        body["record"] = record_summary(record, department_code)
    return body


def list_repair_applications(
    *, session: Session, status: str | None, page: int, page_size: int, full_contact: bool
) -> tuple[list[dict[str, Any]], int]:
    """Applications, oldest first (the queue a regulator works through)."""
    query = (
        select(RepairApplication, Department.code)
        .join(CreditRecord, CreditRecord.id == RepairApplication.credit_record_id)
        .join(Department, Department.id == CreditRecord.department_id)
        .order_by(RepairApplication.id)
    )
    if status:
        query = query.where(RepairApplication.status == RepairStatus(status))
    rows, total = paginate(session, query, page=page, page_size=page_size)
    items = [
        present_application(
            application, full_contact=full_contact, department_code=code, with_record=True
        )
        for application, code in rows
    ]
    return items, total
