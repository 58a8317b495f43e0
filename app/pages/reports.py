"""Reports: pick a report, filter it, download it in a format, see the chart of a trend.

Everything goes through ``app.reports.services`` (the API's and the CLI's path): the same roles
(regulators and analysts), visibility, masking, and a ``report.export`` audit event for every
download and every chart shown (committed before the first byte leaves, as the API does).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, request, url_for

from app.pages import blp, render
from app.pages.auth import page_allow, page_client
from app.pages.forms import form_data
from app.reports.registry import TABLE_FORMATS, ReportSpec
from app.reports.routes import export_response
from app.reports.services import (
    ReportError,
    export_report,
    get_report,
    list_reports,
    parse_filters,
    report_chart,
)
from app.runtime import commit_request, request_session, runtime, today
from core.models import Role

Page = Response | tuple[str, int]
REPORT_PAGE_ROLES = (Role.REGULATOR, Role.ANALYST)
# The query parameters a report form sends (``format`` only to the download).
FILTER_PARAMS = ("from", "to", "region", "department", "category", "severity", "list_type")


def _filter_values(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k in FILTER_PARAMS}


def _report_page(
    spec: ReportSpec, values: dict[str, str], errors: dict[str, list[str]], http_status: int
) -> Page:
    filters = _filter_values(values)
    chart_url = None
    if spec.has_chart and not errors:
        chart_url = url_for("pages.report_chart_png", name=spec.name, **filters)
    return render(
        "report.html",
        http_status,
        report=spec,
        values=values,
        errors=errors,
        formats=TABLE_FORMATS,
        chart_url=chart_url,
    )


@blp.get("/reports")
@page_allow(*REPORT_PAGE_ROLES)
def reports() -> Page:
    """Every report with its title and what it holds."""
    return render("reports.html", reports=list_reports())


@blp.get("/reports/<string:name>")
@page_allow(*REPORT_PAGE_ROLES)
def report(name: str) -> Page:
    """The report's filter form, download buttons and (trend reports) its chart. Filters that
    do not validate are shown with their messages (422) and no chart."""
    spec = get_report(name)
    values = form_data(request.args)
    errors: dict[str, list[str]] = {}
    if values:
        try:
            parse_filters(spec.name, _filter_values(values) | _unknown(values))
        except ReportError as exc:
            errors = exc.errors or {"_": [exc.message]}
    return _report_page(spec, values, errors, 422 if errors else 200)


def _unknown(values: Mapping[str, str]) -> dict[str, str]:
    # Parameters no report takes are passed on so the parser refuses them by name, rather
    # than dropped silently (a hand-edited link must not look filtered when it is not).
    return {k: v for k, v in values.items() if k not in FILTER_PARAMS and k != "format"}


@blp.get("/reports/<string:name>/download")
@page_allow(*REPORT_PAGE_ROLES)
def report_download(name: str) -> Page:
    """The report as a file (``format``: csv, xlsx, parquet, json), streamed; audited before
    the first byte. Bad filters: the report page again with the messages (422)."""
    spec = get_report(name)
    values = form_data(request.args)
    client = page_client()
    assert client is not None
    try:
        filters, fmt = parse_filters(spec.name, values)
        if fmt not in TABLE_FORMATS:
            raise ReportError(
                "The request does not validate; see errors.",
                errors={"format": [f"download one of {', '.join(TABLE_FORMATS)}"]},
            )
        export = export_report(
            session=request_session(),
            client=client,
            name=spec.name,
            filters=filters,
            fmt=fmt,
            today=today(),
            grade_rules=runtime().rules.grade,
        )
    except ReportError as exc:
        request_session().rollback()
        return _report_page(spec, values, exc.errors or {"_": [exc.message]}, exc.status)
    commit_request()
    return export_response(export)


@blp.get("/reports/<string:name>/chart.png")
@page_allow(*REPORT_PAGE_ROLES)
def report_chart_png(name: str) -> Response:
    """The PNG chart of a trend report with the page's filters; audited (format ``png``).
    404 for an unknown report, 422 for bad filters or a report without a chart."""
    spec = get_report(name)
    client = page_client()
    assert client is not None
    filters, _fmt = parse_filters(spec.name, form_data(request.args))
    png = report_chart(
        session=request_session(),
        client=client,
        name=spec.name,
        filters=filters,
        today=today(),
        grade_rules=runtime().rules.grade,
    )
    commit_request()
    return Response(png, mimetype="image/png")
