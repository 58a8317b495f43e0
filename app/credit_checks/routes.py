"""``POST /api/v1/credit-checks`` (check a party for a matter), ``GET
/api/v1/credit-checks/{id}`` (the check again) and ``POST /api/v1/credit-checks/{id}/feedback``
(what the department did with each measure). Departments and regulators."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, request
from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.credit_checks.batch import BatchRefused, csv_stream, read_items, standing_viewer
from app.credit_checks.schemas import (
    CheckBatchArgsSchema,
    CheckFeedbackRequestSchema,
    CheckRequestSchema,
    CheckSchema,
)
from app.credit_checks.services import (
    check_party,
    get_check,
    give_feedback,
    present_check,
    require_matter,
)
from app.entities.present import Viewer
from app.entities.services import viewer_for
from app.runtime import (
    commit_request,
    request_session,
    runtime,
    stream_request_body,
    today,
)
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


@blp.route("/batch")
class CreditCheckBatch(MethodView):
    @allow(*CHECKERS)
    @blp.arguments(CheckBatchArgsSchema, location="query")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "UTF-8 CSV with a header naming an identifier column "
            "(and optionally a reference column).",
        },
        responses={
            "200": {
                "description": "One CSV line per input row, streamed as the checks are made.",
                "content": {"text/csv": {}},
            },
            "422": {"description": "Unknown matter, or no identifier column."},
        },
    )
    def post(self, args: dict[str, Any]) -> Response:
        """Check every party of a CSV (a bidders' list) for a matter: each row is a stored,
        audited check, answered with its outcome, grade, lists and measure codes.

        The answer streams as the checks are made; they are committed every
        ``BATCH_COMMIT_ROWS`` rows, so a batch broken off keeps what was answered.
        """
        book = runtime().measures
        require_matter(book, args["matter"])
        try:
            text = request.get_data().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BatchRefused("The CSV must be UTF-8 text.") from exc
        items = read_items(io.StringIO(text))
        session = request_session()
        lines = csv_stream(
            session=session,
            viewer=standing_viewer(_viewer()),
            book=book,
            grade_rules=runtime().rules.grade,
            matter=args["matter"],
            reference=args["reference"],
            items=items,
            commit=session.commit,  # the view owns the transaction, chunk by chunk
        )
        response = Response(
            stream_request_body(lines),
            content_type="text/csv; charset=utf-8",
            direct_passthrough=True,
        )
        response.headers["Content-Disposition"] = 'attachment; filename="credit-checks.csv"'
        return response


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
