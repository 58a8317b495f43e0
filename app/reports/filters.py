"""Report filters: one parser for the API, the CLI and the web pages.

Filters a report does not understand are refused with a message naming the ones it does:
a regulator who filters the data-quality report by severity must not get an unfiltered file
and believe it filtered. Empty values (an HTML form's blank field) count as not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.reports.registry import FORMATS, REPORTS, ReportSpec
from core.errors import ServiceRefused
from core.models import RecordCategory, Severity

LIST_TYPES = ("black", "red")


class ReportError(ServiceRefused):
    """Base of the errors a report request can meet; ``status`` is the HTTP status."""

    status = 422


class UnknownReport(ReportError):
    status = 404


class ReportFilterError(ReportError):
    """A filter or the format does not validate or does not apply; ``errors`` by parameter."""


class NoChart(ReportError):
    """The report has no chart (``format=png`` asked of a non-trend report)."""


@dataclass(frozen=True)
class ReportFilters:
    date_from: date | None = None
    date_to: date | None = None
    region: str | None = None
    department: str | None = None
    category: RecordCategory | None = None
    severity: Severity | None = None
    list_type: str | None = None

    def as_params(self) -> dict[str, str]:
        """The filters given, as query parameters (for the audit trail and links)."""
        values = {
            "from": self.date_from,
            "to": self.date_to,
            "region": self.region,
            "department": self.department,
            "category": self.category,
            "severity": self.severity,
            "list_type": self.list_type,
        }
        return {k: str(v) for k, v in values.items() if v is not None}

    @property
    def record_filters_given(self) -> bool:
        """Whether any filter on the records themselves (not the entity) is set."""
        return any(
            v is not None
            for v in (
                self.date_from,
                self.date_to,
                self.department,
                self.category,
                self.severity,
            )
        )


def _values(enum_cls: Any) -> list[str]:
    return [member.value for member in enum_cls]


class ReportArgsSchema(Schema):
    """Query parameters of ``GET /api/v1/reports/{name}`` (and the CLI's options)."""

    class Meta:
        unknown = RAISE

    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "csv, xlsx, parquet, json, or png (the chart of a trend)"},
    )
    date_from = fields.Date(data_key="from", load_default=None, metadata={"description": "from"})
    date_to = fields.Date(data_key="to", load_default=None, metadata={"description": "to"})
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{2,6}$", error="region is a 2-6 digit division code prefix"),
    )
    department = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "department code"},
    )
    category = fields.String(load_default=None, validate=validate.OneOf(_values(RecordCategory)))
    severity = fields.String(load_default=None, validate=validate.OneOf(_values(Severity)))
    list_type = fields.String(load_default=None, validate=validate.OneOf(LIST_TYPES))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError("'to' is before 'from'", "to")


_PARAM_OF_FIELD = {"date_from": "from", "date_to": "to"}


def get_report(name: str) -> ReportSpec:
    """The report called ``name``. Raises :class:`UnknownReport` (404)."""
    spec = REPORTS.get(name)
    if spec is None:
        raise UnknownReport(f"No report is called {name!r}; known: {', '.join(REPORTS)}.")
    return spec


def list_reports() -> list[ReportSpec]:
    return list(REPORTS.values())


def filters_from_args(spec: ReportSpec, args: Mapping[str, Any]) -> tuple[ReportFilters, str]:
    """Filters and format from already-validated ``ReportArgsSchema`` output (field names as
    keys). Raises :class:`ReportFilterError` naming each filter the report does not take."""
    errors: dict[str, list[str]] = {}
    for field_name, value in args.items():
        if field_name == "format" or value is None:
            continue
        param = _PARAM_OF_FIELD.get(field_name, field_name)
        if param not in spec.filters:
            taken = ", ".join(spec.filters) or "none"
            errors[param] = [f"report {spec.name!r} does not take this filter (it takes: {taken})"]
    fmt = args.get("format") or "csv"
    if fmt == "png" and not spec.has_chart:
        errors["format"] = [f"report {spec.name!r} has no chart"]
    if errors:
        raise ReportFilterError(
            "The filters do not apply to this report; see errors.", errors=errors
        )
    filters = ReportFilters(
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        region=args.get("region"),
        department=args.get("department"),
        category=RecordCategory(args["category"]) if args.get("category") else None,
        severity=Severity(args["severity"]) if args.get("severity") else None,
        list_type=args.get("list_type"),
    )
    return filters, fmt


def parse_filters(name: str, params: Mapping[str, Any]) -> tuple[ReportFilters, str]:
    """Filters and format of report ``name`` from raw parameters (query string, form or CLI:
    ``from``, ``to``, ``region``, ``department``, ``category``, ``severity``, ``list_type``,
    ``format``). Blank values are ignored.

    Raises :class:`UnknownReport` (404) and :class:`ReportFilterError` (422: a value does not
    validate, a parameter is unknown, or the report does not take the filter).
    """
    spec = get_report(name)
    raw = {k: v for k, v in params.items() if v is not None and str(v).strip() != ""}
    try:
        args = ReportArgsSchema().load(raw)
    except ValidationError as exc:
        messages = exc.normalized_messages()  # type: ignore[no-untyped-call]
        errors = {k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()}
        raise ReportFilterError(
            "The request does not validate; see errors.", errors=errors
        ) from exc
    return filters_from_args(spec, args)
