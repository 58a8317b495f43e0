"""Credit checks (信用核查): which joint punishment and reward measures apply to a party for a
matter, kept and audited, and the department's feedback on each measure. Never commits.

A check sees what its caller may see (``app.entities.services.viewer_for``): only records of
feeds shared with the caller count towards measures, grade and lists, and personal data is
masked for the caller's role. The answer is stored as it was given (``CreditCheck.result``),
so showing a check again shows exactly what the department acted on.

Who may read a check again or give feedback: regulators, and the department (any of its
clients) that made it; to anyone else it does not exist (404).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.credit_checks.parties import FOUND, candidate_views, entity_head, find_party
from app.entities.present import Viewer, record_title, text_for
from app.entities.queries import visible_clause
from core.audit import record_event
from core.db import paginate
from core.errors import NotFound, ServiceRefused
from core.models import (
    CreditCheck,
    CreditCheckFeedback,
    CreditRecord,
    Department,
    Entity,
    Feed,
    Role,
)
from core.rules.grading import grade_entity, in_force, list_members, membership_name
from core.rules.measures import AppliedMeasure, MeasureBook, applicable_measures
from core.rules.publicity import effective_status
from core.rules.settings import GradeRules
from core.rules.sharing import scrub
from resolution.survivors import entity_group


class CheckNotFound(NotFound):
    """No check has the id, or the caller may not see it."""


class FeedbackRefused(ServiceRefused):
    """Feedback naming a measure the check did not answer, or given twice."""

    status = 409


def check_party(
    *,
    session: Session,
    viewer: Viewer,
    book: MeasureBook,
    grade_rules: GradeRules,
    identifier: str,
    matter: str,
    reference: str | None,
) -> CreditCheck:
    """Check the party ``identifier`` names for ``matter``; store the check and audit it
    (``credit_check.create``).

    Raises :class:`ServiceRefused` (422) for a matter the measures file does not know. An
    ambiguous or unknown party is not a refusal: the check is kept with its candidates.
    """
    require_matter(book, matter)
    party = find_party(session, identifier)
    result: dict[str, Any] = {
        "matter": matter,
        "reference": reference,
        "identifier": text_for(viewer, identifier),
        "outcome": party.outcome,
        "as_of": viewer.today,
        # The file's name, not its path: where the server keeps its configuration is its own.
        "measures_file": Path(book.source).name if book.source else None,
        "entity": None,
        "grade": None,
        "lists": [],
        "measures": [],
        "candidates": candidate_views(viewer, party),
    }
    if party.outcome == FOUND and party.entity is not None:
        result.update(_answer(session, viewer, book, grade_rules, party.entity, matter))
    client = viewer.client
    check = CreditCheck(
        client_id=client.id if client else None,
        department_id=client.department_id if client else None,
        actor=client.name if client else "public",
        role=viewer.role.value,
        matter=matter,
        reference=reference,
        identifier=identifier,
        outcome=party.outcome,
        entity_id=party.entity.id if party.entity is not None else None,
        result=jsonable(result),
    )
    session.add(check)
    session.flush()
    record_event(
        session=session,
        client=client,
        action="credit_check.create",
        target_type="entity" if party.entity is not None else None,
        target_id=party.entity.public_id if party.entity is not None else None,
        details={
            "check_id": check.id,
            "matter": matter,
            "reference": reference,
            "outcome": party.outcome,
            "measures": [m["code"] for m in result["measures"]],
        },
    )
    return check


def require_matter(book: MeasureBook, matter: str) -> None:
    """Raises :class:`ServiceRefused` (422) unless ``matter`` is one of the book's matters."""
    if matter not in book.matters:
        raise ServiceRefused(
            f"Unknown matter {matter!r}.",
            status=422,
            errors={"matter": [f"Must be one of: {', '.join(book.matters)}."]},
        )


def _answer(
    session: Session,
    viewer: Viewer,
    book: MeasureBook,
    grade_rules: GradeRules,
    entity: Entity,
    matter: str,
) -> dict[str, Any]:
    rows = session.execute(
        select(CreditRecord, Feed.code, Department.code, Department.name)
        .join(Feed, CreditRecord.feed_id == Feed.id)
        .join(Department, CreditRecord.department_id == Department.id)
        .where(
            CreditRecord.entity_id.in_(entity_group(session, entity)),
            visible_clause(viewer.feed_ids),
        )
    ).all()
    sources = {row[0].id: (row[1], row[2], row[3]) for row in rows}
    records = [row[0] for row in rows]
    grade = grade_entity(records=records, today=viewer.today, rules=grade_rules)
    applied = applicable_measures(book=book, records=records, matter=matter, today=viewer.today)
    lists = [
        {
            "kind": kind,
            "list_name": membership_name(record),
            "listed_on": record.decision_date,
            "authority_name": record.authority_name,
            "record_id": record.id,
        }
        for kind, record in list_members(r for r in records if in_force(r, viewer.today))
    ]
    return {
        "entity": entity_head(viewer, entity),
        "grade": {"letter": grade.letter, "reasons": [r.as_dict() for r in grade.reasons]},
        "lists": lists,
        "measures": [_measure_view(viewer, a, sources) for a in applied],
    }


def _measure_view(
    viewer: Viewer, applied: AppliedMeasure, sources: dict[int, tuple[str, str, str]]
) -> dict[str, Any]:
    measure = applied.measure
    return {
        "code": measure.code,
        "name": measure.name,
        "kind": measure.kind,
        "effect": measure.effect,
        "memorandum": measure.memorandum,
        "legal_basis": measure.legal_basis,
        "departments": list(measure.departments),
        "triggers": [
            {
                "trigger": fired.trigger.kind,
                "description": fired.trigger.describe(),
                "records": [record_summary(viewer, r, sources[r.id]) for r in fired.records],
            }
            for fired in applied.fired
        ],
    }


def record_summary(
    viewer: Viewer, record: CreditRecord, source: tuple[str, str, str]
) -> dict[str, Any]:
    """A record as a check or a webhook shows it: what it is, when, from whom; free text
    masked for the viewer. ``source`` is (feed code, department code, department name)."""
    feed_code, department_code, department_name = source
    return {
        "id": record.id,
        "category": record.category.value,
        "severity": record.severity.value if record.severity else None,
        "status": effective_status(record, viewer.today).value,
        "title": text_for(viewer, record_title(record)),
        "list_name": record.list_name,
        "grade": record.grade,
        "decision_number": record.decision_number,
        "decision_date": record.decision_date,
        "authority_name": record.authority_name,
        "legal_basis": record.legal_basis,
        "source": {
            "feed": feed_code,
            "department": department_code,
            "department_name": department_name,
            "source_record_id": record.source_record_id,
        },
    }


def jsonable(value: Any) -> Any:
    """``value`` as stored JSON holds it: dates as ISO text, amounts as decimal text."""

    def convert(item: Any) -> Any:
        if isinstance(item, date | datetime):
            return item.isoformat()
        if isinstance(item, Decimal):
            return str(item)
        raise TypeError(f"cannot store {type(item).__name__} in a check's result")

    return json.loads(json.dumps(value, default=convert, ensure_ascii=False))


# --------------------------------------------------------------------------- reading again


def get_check(*, session: Session, viewer: Viewer, check_id: int) -> CreditCheck:
    """The check ``check_id`` if the viewer may see it (see the module docstring).

    Raises :class:`CheckNotFound`."""
    check = session.get(CreditCheck, check_id)
    if check is None or not _may_see(viewer, check):
        raise CheckNotFound(f"No credit check has the id {check_id}.")
    return check


def _may_see(viewer: Viewer, check: CreditCheck) -> bool:
    client = viewer.client
    if client is None:
        return False
    if viewer.role is Role.REGULATOR or check.client_id == client.id:
        return True
    return client.department_id is not None and check.department_id == client.department_id


def present_check(viewer: Viewer, check: CreditCheck) -> dict[str, Any]:
    """The check as stored, with who made it and its feedback; masked again for a viewer
    without full identifiers (a regulator's check read by its department)."""
    body = {
        **check.result,
        "id": check.id,
        "created_at": check.created_at,
        "actor": check.actor,
        "feedback": [
            {
                "measure_code": f.measure_code,
                "applied": f.applied,
                "reason": f.reason,
                "actor": f.actor,
                "created_at": f.created_at,
            }
            for f in check.feedback
        ],
    }
    return body if viewer.full_identifiers else scrub(body)


# --------------------------------------------------------------------------- feedback


def give_feedback(
    *, session: Session, viewer: Viewer, check_id: int, items: Sequence[dict[str, Any]]
) -> CreditCheck:
    """Record what the department did with each measure of the check: ``{"measure_code",
    "applied", "reason"}``; a measure not applied needs a reason. Audited
    (``credit_check.feedback``).

    Raises :class:`CheckNotFound`; :class:`ServiceRefused` (422) for a measure the check did
    not answer or a missing reason; :class:`FeedbackRefused` (409) for a measure that already
    has feedback.
    """
    check = get_check(session=session, viewer=viewer, check_id=check_id)
    answered = {m["code"] for m in check.result.get("measures", [])}
    given = {f.measure_code for f in check.feedback}
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = item["measure_code"]
        if code not in answered:
            problems[f"items.{index}.measure_code"] = [f"The check answered no measure {code!r}."]
        elif not item["applied"] and not (item.get("reason") or "").strip():
            problems[f"items.{index}.reason"] = ["A measure not applied needs a reason."]
        if code in seen:
            problems[f"items.{index}.measure_code"] = [f"{code!r} appears twice."]
        seen.add(code)
    if problems:
        raise ServiceRefused("The feedback names measures wrongly.", status=422, errors=problems)
    repeated = sorted(seen & given)
    if repeated:
        raise FeedbackRefused(f"Feedback was already given on {', '.join(repeated)}.")
    client = viewer.client
    for item in items:
        session.add(
            CreditCheckFeedback(
                check_id=check.id,
                measure_code=item["measure_code"],
                applied=item["applied"],
                reason=item.get("reason"),
                client_id=client.id if client else None,
                actor=client.name if client else "public",
            )
        )
    record_event(
        session=session,
        client=client,
        action="credit_check.feedback",
        target_type="credit_check",
        target_id=str(check.id),
        details={"items": [{k: i.get(k) for k in ("measure_code", "applied")} for i in items]},
    )
    session.flush()
    session.refresh(check)
    return check


# --------------------------------------------------------------------------- history


def list_checks(
    *, session: Session, viewer: Viewer, page: int, page_size: int
) -> tuple[list[CreditCheck], int]:
    """The checks the viewer may see (regulators: all; others: their department's, or their
    own without a department), newest first, and their total."""
    client = viewer.client
    statement = select(CreditCheck).order_by(CreditCheck.id.desc())
    if viewer.role is not Role.REGULATOR:
        if client is None:
            return [], 0
        statement = statement.where(
            CreditCheck.department_id == client.department_id
            if client.department_id is not None
            else CreditCheck.client_id == client.id
        )
    rows, total = paginate(session, statement, page=page, page_size=page_size)
    return [row[0] for row in rows], total
