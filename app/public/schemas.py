from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.fast_dump import FastDumpSchema
from app.pagination import PageArgsSchema, PageSchema


class PublicSearchArgsSchema(PageArgsSchema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=2, max=200),
        metadata={"description": "A name (fuzzy) or a unified social credit code."},
    )


class PublicEntitySchema(Schema):
    public_id = fields.String()
    kind = fields.String()
    name = fields.String(metadata={"description": "natural persons' names are masked"})
    uscc = fields.String(allow_none=True, metadata={"description": "never for natural persons"})
    region_code = fields.String(allow_none=True)


class PublicHitSchema(PublicEntitySchema):
    score = fields.Float()
    matched_on = fields.String()


class PublicPageSchema(PageSchema, FastDumpSchema):
    items = fields.List(fields.Nested(PublicHitSchema))


class PublicRecordSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    severity = fields.String(allow_none=True)
    status = fields.String()
    party_name = fields.String()
    title = fields.String(allow_none=True)
    decision_number = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    publicity_end = fields.Date(allow_none=True)
    authority_name = fields.String(allow_none=True)
    fine_amount = fields.Decimal(as_string=True, allow_none=True)
    confiscated_amount = fields.Decimal(as_string=True, allow_none=True)
    grade = fields.String(allow_none=True)
    list_name = fields.String(allow_none=True)
    department = fields.String(metadata={"description": "the department that published it"})


class PublicCategorySchema(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(PublicRecordSchema))


class PublicMembershipSchema(Schema):
    kind = fields.String(metadata={"enum": ["black", "red"]})
    list_name = fields.String(allow_none=True)
    listed_on = fields.Date(allow_none=True)
    authority_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class PublicProfileSchema(PublicEntitySchema, FastDumpSchema):
    as_of = fields.Date()
    records = fields.Dict(keys=fields.String(), values=fields.Nested(PublicCategorySchema))
    lists = fields.List(fields.Nested(PublicMembershipSchema))
