from __future__ import annotations

from marshmallow import Schema, fields, validate


class PushRequestSchema(Schema):
    feed = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # Items are validated one by one by the feed's record schema, so a bad item is reported
    # (and quarantined) on its own instead of failing the whole request.
    records = fields.List(fields.Raw(), required=True)


class ItemResultSchema(Schema):
    index = fields.Integer()
    source_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["accepted", "duplicate", "updated", "rejected"]})
    errors = fields.Dict(allow_none=True)
    entity_id = fields.String(allow_none=True)


class PushResponseSchema(Schema):
    run_id = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(ItemResultSchema))
