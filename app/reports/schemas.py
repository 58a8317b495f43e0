"""Schemas of ``/api/v1/reports``: the query arguments live in ``app.reports.filters`` (the
CLI and the web pages parse with the same schema)."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.reports.filters import ReportArgsSchema

__all__ = ["ReportArgsSchema", "ReportListSchema", "ReportSchema"]


class ReportSchema(Schema):
    name = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    description = fields.String()
    filters = fields.List(fields.String(), metadata={"description": "filters it takes"})
    formats = fields.List(fields.String())
    has_chart = fields.Boolean(metadata={"description": "format=png gives its chart"})
    columns = fields.List(fields.String())


class ReportListSchema(Schema):
    items = fields.List(fields.Nested(ReportSchema))
