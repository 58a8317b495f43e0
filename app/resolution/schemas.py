from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.pagination import PageArgsSchema, PageSchema

_REASON = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReviewArgsSchema(PageArgsSchema):
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(["pending", "confirmed", "rejected", "withdrawn"]),
    )


class ReviewSideSchema(Schema):
    public_id = fields.String()
    kind = fields.String()
    name = fields.String()


class ComparedFieldSchema(Schema):
    field = fields.String(metadata={"description": "identifiers, name, legal_rep, address, ..."})
    left = fields.Raw(
        allow_none=True,
        metadata={"description": "the queued entity's value (a list of codes for identifiers)"},
    )
    right = fields.Raw(allow_none=True, metadata={"description": "the candidate's value"})
    hidden = fields.Boolean(
        metadata={"description": "personal values this role may not see (level and weight stay)"}
    )
    level = fields.String(allow_none=True, metadata={"description": "the comparison's level"})
    weight = fields.Float(allow_none=True, metadata={"description": "its weight (log2 m/u)"})
    why = fields.String(allow_none=True)


class ThresholdsSchema(Schema):
    positive = fields.Float()
    review = fields.Float()


class ReviewComparisonSchema(Schema):
    left = fields.Nested(ReviewSideSchema)
    right = fields.Nested(ReviewSideSchema)
    fields_ = fields.List(fields.Nested(ComparedFieldSchema), data_key="fields", attribute="fields")
    total_weight = fields.Float(allow_none=True)
    probability = fields.Float(allow_none=True)
    decision = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    thresholds = fields.Nested(ThresholdsSchema, allow_none=True)


class ReviewSchema(Schema):
    id = fields.Integer()
    entity_id = fields.String(metadata={"description": "public id"})
    candidate_entity_id = fields.String(metadata={"description": "public id"})
    entity_name = fields.String()
    candidate_name = fields.String()
    score = fields.Float()
    support = fields.Integer(
        metadata={
            "description": "record pairs the matcher queued between these two entities (the "
            "explanation is the strongest); one review per pair of entities"
        }
    )
    explanation = fields.Dict()
    algorithm = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    comparison = fields.Nested(
        ReviewComparisonSchema,
        metadata={"description": "the two entities side by side, field by field (in lists)"},
    )


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
