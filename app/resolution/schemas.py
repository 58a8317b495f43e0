from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.pagination import PageArgsSchema, PageSchema

_REASON = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReviewArgsSchema(PageArgsSchema):
    status = fields.String(
        load_default="pending", validate=validate.OneOf(["pending", "confirmed", "rejected"])
    )


class ReviewSchema(Schema):
    id = fields.Integer()
    entity_id = fields.String(metadata={"description": "public id"})
    candidate_entity_id = fields.String(metadata={"description": "public id"})
    entity_name = fields.String()
    candidate_name = fields.String()
    score = fields.Float()
    explanation = fields.Dict()
    algorithm = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class ReviewPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReviewSchema))


class ReviewDecisionSchema(Schema):
    same = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = _REASON


class MergeSchema(Schema):
    into = fields.String(required=True, validate=validate.Length(min=1, max=20))
    reason = _REASON


class SplitSchema(Schema):
    record_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        required=True,
        validate=validate.Length(min=1, max=10000),
    )
    reason = _REASON


class UnmergeSchema(Schema):
    reason = _REASON


class EntityRefSchema(Schema):
    public_id = fields.String()
    display_name = fields.String()
    kind = fields.String()
    merged_into = fields.String(allow_none=True)
