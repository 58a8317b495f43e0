from __future__ import annotations

from marshmallow import Schema, fields

from app.pagination import PageArgsSchema, PageSchema


class AuditArgsSchema(PageArgsSchema):
    actor = fields.String(load_default=None)
    role = fields.String(load_default=None)
    action = fields.String(load_default=None)
    target_type = fields.String(load_default=None)
    target_id = fields.String(load_default=None)
    request_id = fields.String(load_default=None)
    since = fields.DateTime(load_default=None, metadata={"description": "ISO timestamp"})
    until = fields.DateTime(load_default=None)


class AuditEventSchema(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor = fields.String()
    role = fields.String()
    action = fields.String()
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)
    details = fields.Dict()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEventSchema))
