from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.pagination import PageArgsSchema, PageSchema


class QuarantineArgsSchema(PageArgsSchema):
    feed = fields.String(load_default=None)


class RunArgsSchema(PageArgsSchema):
    feed = fields.String(load_default=None)
    status = fields.String(
        load_default=None, validate=validate.OneOf(["running", "succeeded", "failed"])
    )


class QuarantinedSchema(Schema):
    id = fields.Integer()
    feed = fields.String()
    source_key = fields.String()
    version = fields.Integer()
    origin = fields.String(allow_none=True)
    received_at = fields.DateTime()
    errors = fields.Dict(allow_none=True)
    raw_payload = fields.Dict()


class QuarantinePageSchema(PageSchema):
    items = fields.List(fields.Nested(QuarantinedSchema))


class RunSetAsideSchema(Schema):
    name = fields.String()
    sha256 = fields.String()
    reason = fields.String()


class SetAsideFileSchema(Schema):
    feed = fields.String()
    name = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    reason = fields.String()
    set_aside_at = fields.DateTime()
    run_id = fields.Integer(allow_none=True)


class SetAsideArgsSchema(PageArgsSchema):
    feed = fields.String(load_default=None)


class SetAsidePageSchema(PageSchema):
    items = fields.List(fields.Nested(SetAsideFileSchema))


class RunSchema(Schema):
    id = fields.Integer()
    feed = fields.String()
    trigger = fields.String()
    status = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    fetched = fields.Integer()
    accepted = fields.Integer()
    duplicate = fields.Integer()
    updated = fields.Integer()
    quarantined = fields.Integer()
    linked = fields.Integer()
    new_entities = fields.Integer()
    error = fields.String(allow_none=True)
    set_aside_files = fields.List(
        fields.Nested(RunSetAsideSchema),
        metadata={"description": "files this run set aside unread, with the reason"},
    )


class RunPageSchema(PageSchema):
    items = fields.List(fields.Nested(RunSchema))
