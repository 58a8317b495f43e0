"""``POST /api/v1/credit-checks`` (check a party for a matter), ``GET
/api/v1/credit-checks/{id}`` (the check again) and ``POST /api/v1/credit-checks/{id}/feedback``
(what the department did with each measure). Departments and regulators."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.credit_checks.schemas import CheckFeedbackRequestSchema, CheckRequestSchema, CheckSchema
from app.credit_checks.services import check_party, get_check, give_feedback, present_check
from app.entities.present import Viewer
from app.entities.services import viewer_for
from app.runtime import commit_request, request_session, runtime, today
from core.models import Role

blp = Blueprint("credit_checks", __name__, url_prefix="/credit-checks", description="Credit checks")

CHECKERS = (Role.DEPARTMENT, Role.REGULATOR)


def _viewer() -> Viewer:
    return viewer_for(session=request_session(), client=current_client(), today=today())


@blp.route("")
class CreditChecks(MethodView):
    @allow(*CHECKERS)
    @blp.arguments(CheckRequestSchema)
    @blp.response(201, CheckSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check a party (USCC, ID number or name) for a matter: the joint punishment and
        reward measures its lists, records and grades trigger, each with the triggering
        records (dates, sources) and its legal basis.

        Only records the caller may see count; personal data is masked for the caller's role.
        An ambiguous name or code answers ``outcome: ambiguous`` with the candidates, not a
        guess. Every check is kept and audited. 422 for an unknown matter.
        """
        viewer = _viewer()
        check = check_party(
            session=request_session(),
            viewer=viewer,
            book=runtime().measures,
            grade_rules=runtime().rules.grade,
            **body,
        )
        commit_request()
        return present_check(viewer, check)


@blp.route("/<int:check_id>")
class CreditCheck(MethodView):
    @allow(*CHECKERS)
    @blp.response(200, CheckSchema)
    def get(self, check_id: int) -> dict[str, Any]:
        """A check as it was answered, with its feedback. 404 when no check has the id or it
        belongs to another department (regulators see every check)."""
        viewer = _viewer()
        return present_check(
            viewer, get_check(session=request_session(), viewer=viewer, check_id=check_id)
        )


@blp.route("/<int:check_id>/feedback")
class CreditCheckFeedback(MethodView):
    @allow(*CHECKERS)
    @blp.arguments(CheckFeedbackRequestSchema)
    @blp.response(201, CheckSchema)
    def post(self, body: dict[str, Any], check_id: int) -> dict[str, Any]:
        """Report what was done with the check's measures: applied, or not applied with a
        reason. 404 as for the check; 422 for a measure the check did not answer or a missing
        reason; 409 when a measure already has feedback."""
        viewer = _viewer()
        check = give_feedback(
            session=request_session(), viewer=viewer, check_id=check_id, items=body["items"]
        )
        commit_request()
        return present_check(viewer, check)
