from __future__ import annotations

from marshmallow import Schema, fields


class FeedSchema(Schema):
    code = fields.String()
    name = fields.String()
    department_code = fields.String()
    department_name = fields.String()
    classification = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    format = fields.String()
    record_category = fields.String()
    data_items = fields.List(fields.String())
    update_cycle = fields.String(allow_none=True)
    sharing_type = fields.String()
    sharing_conditions = fields.Dict()
    sharing_method = fields.String(allow_none=True)
    open_data = fields.String(allow_none=True)
    release_date = fields.Date(allow_none=True)
    adapter = fields.String()
    schedule = fields.String(allow_none=True)
    enabled = fields.Boolean()
    watermark = fields.String(allow_none=True)


class CatalogueSchema(Schema):
    items = fields.List(fields.Nested(FeedSchema))
    total = fields.Integer()
