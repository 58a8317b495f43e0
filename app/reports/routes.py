"""``GET /api/v1/reports`` (what can be exported) and ``GET /api/v1/reports/{name}`` (the
export itself, streamed as it is produced).

A file leaves as ``Content-Disposition: attachment`` (the chart, ``format=png``, inline so a
page can show it). The audit event is committed before the first byte: an export that breaks
off half-way is still on record.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import RAISE

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.reports.filters import filters_from_args, get_report, list_reports
from app.reports.registry import CHART_FORMAT
from app.reports.schemas import ReportArgsSchema, ReportListSchema
from app.reports.services import CONTENT_TYPES, Export, export_report
from app.runtime import commit_request, request_session, runtime, stream_request_body, today
from core.models import Role

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Reports and exports")

_ANALYSTS = (Role.REGULATOR, Role.ANALYST)


@blp.route("")
class Reports(MethodView):
    @allow(*_ANALYSTS)
    @blp.response(200, ReportListSchema)
    def get(self) -> dict[str, Any]:
        """The reports that can be exported: name, Chinese and English title, description,
        the filters each takes, its formats and whether it has a chart."""
        return {"items": [spec.as_dict() for spec in list_reports()]}


@blp.route("/<string:name>")
class ReportExport(MethodView):
    @allow(*_ANALYSTS)
    @blp.arguments(ReportArgsSchema, location="query", unknown=RAISE)
    @blp.doc(
        responses={
            "200": {
                "description": "The report as a file, streamed.",
                "content": {ctype.split(";")[0]: {} for ctype in CONTENT_TYPES.values()},
            },
            "404": {"description": "No report has this name."},
            "422": {"description": "A filter or the format is invalid or does not apply."},
        }
    )
    def get(self, args: dict[str, Any], name: str) -> Response:
        """Export report ``name`` in ``format`` (csv, xlsx, parquet, json; png for the chart
        of a trend report), with the filters it takes. Personal data is masked as the API
        masks it; the export is audited.

        404 for an unknown report; 422 for an invalid filter or format, a filter the report
        does not take, or ``png`` of a report without a chart.
        """
        session = request_session()
        spec = get_report(name)
        filters, fmt = filters_from_args(spec, args)
        client = current_client()
        assert client is not None  # @allow admits no anonymous caller here
        export = export_report(
            session=session,
            client=client,
            name=name,
            filters=filters,
            fmt=fmt,
            today=today(),
            grade_rules=runtime().rules.grade,
        )
        commit_request()
        return export_response(export)


def export_response(export: Export) -> Response:
    """``export`` as a streamed file (the chart inline, any other format as an attachment),
    for the API's and the pages' views once they committed its audit event.

    ``direct_passthrough``: the body is a file, not an answer for ``app.auth.access`` to mask
    again (a JSON export would otherwise be read whole)."""
    response = Response(
        stream_request_body(export.chunks),
        content_type=export.content_type,
        direct_passthrough=True,
    )
    disposition = "inline" if export.format == CHART_FORMAT else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{export.filename}"'
    return response
