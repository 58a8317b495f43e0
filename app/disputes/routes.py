"""Credit repair applications and objections (disputes) about credit records.

- ``POST /records/{id}/repair-applications`` (anyone, token optional), ``GET
  /repair-applications`` and ``POST /repair-applications/{id}/decision`` (regulator);
- ``POST /records/{id}/objections`` (anyone; without a token, rate limited per address),
  ``GET /objections`` (regulator: all; department: its own records), ``POST
  /objections/{id}/accept`` (regulator or the record's department: only then is the record
  disputed), ``POST /objections/{id}/answer`` (the record's department) and ``POST
  /objections/{id}/close`` (regulator).

Contact data is masked for every role but regulator.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client, current_role
from app.auth.ratelimit import charge, limiter
from app.disputes.objections import (
    accept_objection,
    answer_objection,
    close_objection,
    list_objections,
    present_objection,
    raise_objection,
)
from app.disputes.repairs import (
    apply_for_repair,
    decide_repair,
    list_repair_applications,
    present_application,
)
from app.disputes.schemas import (
    ObjectionAnswerSchema,
    ObjectionCloseSchema,
    ObjectionListArgsSchema,
    ObjectionPageSchema,
    ObjectionRaiseSchema,
    ObjectionSchema,
    RepairApplicationSchema,
    RepairApplySchema,
    RepairDecisionSchema,
    RepairListArgsSchema,
    RepairPageSchema,
)
from app.pagination import page_body
from app.runtime import commit_request, request_session, runtime, today
from core.models import ObjectionKind, ObjectionStatus, Role
from core.rules.sharing import sees_full_identifiers

blp = Blueprint("disputes", __name__, description="Credit repair and objections")

EVERYONE = (Role.PUBLIC, Role.REGULATOR, Role.DEPARTMENT, Role.ANALYST)


def _full_contact() -> bool:
    return sees_full_identifiers(current_role())


@blp.route("/records/<int:record_id>/repair-applications")
class RepairApplications(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(RepairApplySchema)
    @blp.response(201, RepairApplicationSchema)
    def post(self, body: dict[str, Any], record_id: int) -> dict[str, Any]:
        """Apply for credit repair of a record once its minimum publicity period has passed.

        404 unknown record; 409 when the record cannot be repaired (no severity, already
        repaired, revoked, expired or disputed, a pending application, or too early: the detail
        names the first allowed day).
        """
        if current_client() is None:
            charge(limiter().anonymous_repair_applications)
        session = request_session()
        application = apply_for_repair(
            session=session,
            client=current_client(),
            record_id=record_id,
            today=today(),
            rules=runtime().rules,
            **body,
        )
        commit_request()
        return present_application(application, full_contact=_full_contact())


@blp.route("/repair-applications")
class RepairQueue(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(RepairListArgsSchema, location="query")
    @blp.response(200, RepairPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Repair applications, oldest first, optionally by status."""
        items, total = list_repair_applications(
            session=request_session(),
            status=args["status"],
            page=args["page"],
            page_size=args["page_size"],
            full_contact=_full_contact(),
        )
        return page_body(items, total, page=args["page"], page_size=args["page_size"])


@blp.route("/repair-applications/<int:application_id>/decision")
class RepairDecision(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(RepairDecisionSchema)
    @blp.response(200, RepairApplicationSchema)
    def post(self, body: dict[str, Any], application_id: int) -> dict[str, Any]:
        """Approve (the record becomes ``repaired``; it is kept) or reject, with a reason.

        404 unknown application; 409 already decided, or approving while the record is not
        active (disputed, revoked).
        """
        client = current_client()
        assert client is not None
        application = decide_repair(
            session=request_session(),
            client=client,
            application_id=application_id,
            approve=body["approve"],
            reason=body["reason"],
        )
        commit_request()
        return present_application(application, full_contact=_full_contact())


@blp.route("/records/<int:record_id>/objections")
class RecordObjections(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(ObjectionRaiseSchema)
    @blp.response(201, ObjectionSchema)
    def post(self, body: dict[str, Any], record_id: int) -> dict[str, Any]:
        """Object to a record's content, period or repair result. The objection is
        ``received``; the record shows ``disputed`` only once a regulator or its department
        accepts it for handling, and the department must answer by ``due_on`` (working days).

        404 unknown record; 409 an objection is already being handled, or ``repair_result``
        without a decided repair application; 429 too many objections from one address
        without a token.
        """
        if current_client() is None:
            charge(limiter().anonymous_objections)
        day = today()
        objection = raise_objection(
            session=request_session(),
            client=current_client(),
            record_id=record_id,
            today=day,
            rules=runtime().rules,
            kind=ObjectionKind(body["kind"]),
            raised_by_name=body["raised_by_name"],
            raised_by_contact=body["raised_by_contact"],
            description=body["description"],
        )
        commit_request()
        return present_objection(objection, today=day, full_contact=_full_contact())


@blp.route("/objections")
class Objections(MethodView):
    @allow(Role.REGULATOR, Role.DEPARTMENT)
    @blp.arguments(ObjectionListArgsSchema, location="query")
    @blp.response(200, ObjectionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Objections by due date, each with ``due_on`` and an ``overdue`` flag (departments:
        objections about their own records). ``overdue=true``: open ones past due."""
        client = current_client()
        assert client is not None
        items, total = list_objections(
            session=request_session(),
            client=client,
            today=today(),
            status=args["status"],
            overdue=args["overdue"],
            department_code=args["department"],
            page=args["page"],
            page_size=args["page_size"],
            full_contact=_full_contact(),
        )
        return page_body(items, total, page=args["page"], page_size=args["page_size"])


@blp.route("/objections/<int:objection_id>/accept")
class ObjectionAccept(MethodView):
    @allow(Role.REGULATOR, Role.DEPARTMENT)
    @blp.response(200, ObjectionSchema)
    def post(self, objection_id: int) -> dict[str, Any]:
        """Accept a received objection for handling: it is ``open`` and the record shows
        ``disputed`` until the objection is closed (a regulator, or the record's department).

        404 unknown objection; 403 another department's record; 409 not received, or another
        objection about the record is being handled.
        """
        client = current_client()
        assert client is not None
        objection = accept_objection(
            session=request_session(), client=client, objection_id=objection_id
        )
        commit_request()
        return present_objection(objection, today=today(), full_contact=_full_contact())


@blp.route("/objections/<int:objection_id>/answer")
class ObjectionAnswer(MethodView):
    @allow(Role.DEPARTMENT)
    @blp.arguments(ObjectionAnswerSchema)
    @blp.response(200, ObjectionSchema)
    def post(self, body: dict[str, Any], objection_id: int) -> dict[str, Any]:
        """The record's department answers an open objection (late answers are accepted).

        404 unknown objection; 403 another department's record; 409 not open.
        """
        client = current_client()
        assert client is not None
        day = today()
        objection = answer_objection(
            session=request_session(),
            client=client,
            objection_id=objection_id,
            answer=body["answer"],
            today=day,
        )
        commit_request()
        return present_objection(objection, today=day, full_contact=_full_contact())


@blp.route("/objections/<int:objection_id>/close")
class ObjectionClose(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(ObjectionCloseSchema)
    @blp.response(200, ObjectionSchema)
    def post(self, body: dict[str, Any], objection_id: int) -> dict[str, Any]:
        """Close as ``corrected`` or ``upheld``; the record returns to its earlier status.

        A correction itself arrives through the department's feed. Closing an unanswered
        objection is allowed and recorded in the audit trail. 404 unknown; 409 already closed.
        """
        client = current_client()
        assert client is not None
        objection = close_objection(
            session=request_session(),
            client=client,
            objection_id=objection_id,
            outcome=ObjectionStatus(body["outcome"]),
            reason=body["reason"],
        )
        commit_request()
        return present_objection(objection, today=today(), full_contact=_full_contact())
