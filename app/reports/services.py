"""Exporting reports: the one path the API, the CLI and the web pages share. Never commits.

Stable interface (the web pages build on it):

* :func:`list_reports` -> the :class:`~app.reports.registry.ReportSpec` of every report
  (``name``, ``title_zh``, ``title_en``, ``description``, ``filters``, ``has_chart``);
* :func:`parse_filters` ``(name, params)`` -> ``(ReportFilters, format)``;
* :func:`export_report` -> an :class:`Export` whose ``chunks`` produce the file lazily;
* :func:`write_report` writes one report in one format to a binary stream;
* :func:`report_chart` -> the PNG chart of a trend report.

Each export and chart writes a ``report.export`` audit event into the session; the caller
commits it *before* consuming the chunks, so an export that breaks off half-way still left
its trace. Errors: :class:`UnknownReport` (404), :class:`ReportForbidden` (403),
:class:`ReportFilterError` (422), :class:`NoChart` (422), all :class:`ReportError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.entities.services import viewer_for
from app.reports.charts import render_chart
from app.reports.filters import (
    NoChart,
    ReportError,
    ReportFilterError,
    ReportFilters,
    UnknownReport,
    get_report,
    list_reports,
    parse_filters,
)
from app.reports.registry import CHART_FORMAT, TABLE_FORMATS, ReportSpec
from app.reports.rows import ROW_SOURCES
from app.reports.rows.context import ReportContext
from app.reports.writers import iter_csv, iter_json, iter_parquet, iter_xlsx
from core.audit import record_event
from core.models import ApiClient, Department, Role
from core.rules.settings import GradeRules

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_CHUNK_ROWS",
    "REPORT_ROLES",
    "Export",
    "NoChart",
    "ReportError",
    "ReportFilterError",
    "ReportFilters",
    "ReportForbidden",
    "UnknownReport",
    "export_report",
    "get_report",
    "iter_report_rows",
    "list_reports",
    "parse_filters",
    "report_chart",
    "write_report",
]

REPORT_ROLES = frozenset({Role.REGULATOR, Role.ANALYST})
DEFAULT_CHUNK_ROWS = 5000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
}


class ReportForbidden(ReportError):
    status = 403


@dataclass(frozen=True)
class Export:
    report: ReportSpec
    format: str
    filename: str
    content_type: str
    chunks: Iterator[bytes]


def _context(
    *,
    session: Session,
    client: ApiClient,
    spec: ReportSpec,
    filters: ReportFilters,
    today: date,
    grade_rules: GradeRules,
    chunk_size: int,
    text_values: bool = False,
) -> ReportContext:
    if client.role not in REPORT_ROLES:
        raise ReportForbidden(f"The {client.role.value} role may not export reports.")
    unknown = [name for name in filters.as_params() if name not in spec.filters]
    if unknown:
        raise ReportFilterError(
            "The filters do not apply to this report; see errors.",
            errors={name: [f"report {spec.name!r} does not take this filter"] for name in unknown},
        )
    department_id = None
    if filters.department is not None:
        department_id = session.scalar(
            select(Department.id).where(Department.code == filters.department)
        )
        if department_id is None:
            raise ReportFilterError(
                "The request does not validate; see errors.",
                errors={"department": [f"no department has the code {filters.department!r}"]},
            )
    return ReportContext(
        session=session,
        viewer=viewer_for(session=session, client=client, today=today),
        filters=filters,
        grade_rules=grade_rules,
        chunk_size=chunk_size,
        department_id=department_id,
        text_values=text_values,
    )


def iter_report_rows(
    *,
    session: Session,
    client: ApiClient,
    name: str,
    filters: ReportFilters,
    today: date,
    grade_rules: GradeRules,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    text_values: bool = False,
) -> Iterator[list[tuple[Any, ...]]]:
    """The report's rows (tuples in column order), masked for ``client``, in chunks of at
    most ``chunk_size``. Not audited: for callers that show rows on screen and audit
    themselves. With ``text_values`` the bulk ``records`` report may give dates and money as
    text (ISO, ``1234.50``), as CSV and JSON write them. Raises the :class:`ReportError`
    subclasses when called (not lazily)."""
    spec = get_report(name)
    ctx = _context(
        session=session,
        client=client,
        spec=spec,
        filters=filters,
        today=today,
        grade_rules=grade_rules,
        chunk_size=chunk_size,
        text_values=text_values,
    )
    return ROW_SOURCES[spec.name](ctx)


def _audit(
    session: Session, client: ApiClient, spec: ReportSpec, filters: ReportFilters, fmt: str
) -> None:
    record_event(
        session=session,
        client=client,
        action="report.export",
        target_type="report",
        target_id=spec.name,
        details={"format": fmt, "filters": filters.as_params(), "role": client.role.value},
    )


def export_report(
    *,
    session: Session,
    client: ApiClient,
    name: str,
    filters: ReportFilters,
    fmt: str,
    today: date,
    grade_rules: GradeRules,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
) -> Export:
    """Report ``name`` as ``fmt`` (``csv``, ``xlsx``, ``parquet``, ``json`` or ``png``) for
    ``client``; audited into ``session`` (commit before reading ``chunks``).

    Checks happen here, before anything streams; the rows are read while ``chunks`` is
    consumed, with ``session`` still open. Raises the :class:`ReportError` subclasses.
    """
    spec = get_report(name)
    if fmt not in (*TABLE_FORMATS, CHART_FORMAT):
        raise ReportFilterError(
            "The request does not validate; see errors.",
            errors={"format": [f"unknown format {fmt!r}"]},
        )
    if fmt == CHART_FORMAT and not spec.has_chart:
        raise NoChart(
            f"Report {spec.name!r} has no chart.",
            errors={"format": [f"report {name!r} has no chart"]},
        )
    rows = iter_report_rows(
        session=session,
        client=client,
        name=name,
        filters=filters,
        today=today,
        grade_rules=grade_rules,
        chunk_size=chunk_size,
        text_values=fmt in ("csv", "json"),
    )
    _audit(session, client, spec, filters, fmt)
    filename = f"{spec.name}-{today:%Y%m%d}.{fmt}"
    return Export(spec, fmt, filename, CONTENT_TYPES[fmt], _chunks(spec, fmt, rows, filters, today))


def _chunks(
    spec: ReportSpec,
    fmt: str,
    rows: Iterator[list[tuple[Any, ...]]],
    filters: ReportFilters,
    today: date,
) -> Iterator[bytes]:
    columns = spec.columns
    if fmt == "csv":
        yield from iter_csv(columns, rows)
    elif fmt == "json":
        head = {
            "report": spec.name,
            "title_zh": spec.title_zh,
            "title_en": spec.title_en,
            "as_of": today.isoformat(),
            "filters": filters.as_params(),
        }
        yield from iter_json(columns, rows, head=head)
    elif fmt == "parquet":
        yield from iter_parquet(columns, rows)
    elif fmt == "xlsx":
        if spec.has_chart:
            # Trend reports are aggregates (a row per month and group): small enough to keep
            # for the chart.
            kept = [row for chunk in rows for row in chunk]
            png = render_chart(spec, kept)
            yield from iter_xlsx(
                columns, [kept], sheet_title=spec.name, chart_png=png, chart_title="chart"
            )
        else:
            yield from iter_xlsx(columns, rows, sheet_title=spec.name)
    else:
        yield render_chart(spec, (row for chunk in rows for row in chunk))


def write_report(*, out: IO[bytes], **kwargs: Any) -> Export:
    """:func:`export_report` with the same keyword arguments, written to ``out``.

    Only for callers that own the session and commit the audit event themselves afterwards
    (the CLI commits it before calling this through :func:`export_report` + ``chunks``)."""
    export = export_report(**kwargs)
    for piece in export.chunks:
        out.write(piece)
    return export


def report_chart(
    *,
    session: Session,
    client: ApiClient,
    name: str,
    filters: ReportFilters,
    today: date,
    grade_rules: GradeRules,
) -> bytes:
    """The PNG chart of trend report ``name``; audited like an export (format ``png``).
    Raises :class:`NoChart` for a report without one, and the other :class:`ReportError`s."""
    export = export_report(
        session=session,
        client=client,
        name=name,
        filters=filters,
        fmt=CHART_FORMAT,
        today=today,
        grade_rules=grade_rules,
    )
    return b"".join(export.chunks)
