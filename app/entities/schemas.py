from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.fast_dump import FastDumpSchema
from app.pagination import PageArgsSchema, PageSchema
from core.models import CreditStatus, EntityKind, RecordCategory, Severity


def _values(enum_cls: Any) -> list[str]:
    return [member.value for member in enum_cls]


class EntitySearchArgsSchema(PageArgsSchema):
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={
            "description": "USCC, org code (XXXXXXXX-X), old taxpayer or registration number, "
            "full or masked resident id, or a name (fuzzy)."
        },
    )
    kind = fields.String(load_default=None, validate=validate.OneOf(_values(EntityKind)))
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{2,6}$", error="region is a 2-6 digit division code prefix"),
    )
    list_name = fields.String(
        data_key="list",
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "'black', 'red', or a list's name: entities on it today."},
    )
    has_active_penalties = fields.Boolean(load_default=None)


class RecordArgsSchema(PageArgsSchema):
    category = fields.String(load_default=None, validate=validate.OneOf(_values(RecordCategory)))
    severity = fields.String(load_default=None, validate=validate.OneOf(_values(Severity)))
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(_values(CreditStatus)),
        metadata={"description": "Effective status: active records past publicity are expired."},
    )
    date_from = fields.Date(load_default=None, metadata={"description": "decision date from"})
    date_to = fields.Date(load_default=None, metadata={"description": "decision date to"})
    department = fields.String(load_default=None, metadata={"description": "department code"})

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError("date_to is before date_from", "date_to")


class IdentifierSchema(Schema):
    type = fields.String()
    value = fields.String(metadata={"description": "masked unless the role sees full ids"})
    valid = fields.Boolean()
    problem = fields.String(allow_none=True)


class EntityHitSchema(Schema):
    public_id = fields.String()
    kind = fields.String()
    display_name = fields.String()
    region_code = fields.String(allow_none=True)
    identifiers = fields.List(fields.Nested(IdentifierSchema))
    score = fields.Float(allow_none=True)
    matched_on = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)


class EntityPageSchema(PageSchema, FastDumpSchema):
    items = fields.List(fields.Nested(EntityHitSchema))
    query_kind = fields.String(allow_none=True)


class RecordSourceSchema(Schema):
    feed = fields.String()
    department = fields.String()
    department_name = fields.String()
    source_record_id = fields.Integer()
    source_key = fields.String()


class RecordSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    subtype = fields.String(allow_none=True)
    severity = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "effective status today"})
    recorded_status = fields.String()
    party_name = fields.String()
    title = fields.String(allow_none=True)
    decision_number = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    publicity_end = fields.Date(allow_none=True)
    authority_name = fields.String(allow_none=True)
    authority_uscc = fields.String(allow_none=True)
    fine_amount = fields.Decimal(as_string=True, allow_none=True)
    confiscated_amount = fields.Decimal(as_string=True, allow_none=True)
    grade = fields.String(allow_none=True)
    list_name = fields.String(allow_none=True)
    removed_on = fields.Date(allow_none=True)
    removal_reason = fields.String(allow_none=True)
    link_confidence = fields.Float(allow_none=True)
    source = fields.Nested(RecordSourceSchema)


class RecordPageSchema(PageSchema, FastDumpSchema):
    entity = fields.String()
    items = fields.List(fields.Nested(RecordSchema))


class GoldenSourceSchema(Schema):
    feed = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    source_record_id = fields.Integer(allow_none=True)
    source_key = fields.String(allow_none=True)
    observed_at = fields.DateTime()
    category = fields.String(
        allow_none=True, metadata={"description": "the source feed's record category"}
    )
    authority = fields.Integer(
        metadata={"description": "the feed's authority over golden values (higher wins)"}
    )
    basis = fields.String(
        allow_none=True,
        metadata={"description": "the kind of valid code the source record carried, if any"},
    )


class GoldenFieldSchema(Schema):
    field = fields.String()
    value = fields.String(allow_none=True)
    current = fields.Boolean()
    rule = fields.String(
        metadata={
            "description": "why this value won: the winner's standing (e.g. 'registry linked "
            "by USCC'), 'most recent', 'all sources agree' or 'only source'"
        }
    )
    why = fields.String(metadata={"description": "the rule as a sentence"})
    source = fields.Nested(GoldenSourceSchema)


class CategoryRecordsSchema(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(RecordSchema))


class MembershipSchema(Schema):
    kind = fields.String(metadata={"enum": ["black", "red"]})
    list_name = fields.String(allow_none=True)
    listed_on = fields.Date(allow_none=True)
    authority_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    record_id = fields.Integer()


class ReasonSchema(Schema):
    rule = fields.String()
    effect = fields.String(metadata={"enum": ["A", "B", "C", "D", "lift", "positive"]})
    detail = fields.String()
    record_ids = fields.List(fields.Integer())


class GradeSchema(Schema):
    letter = fields.String(metadata={"enum": ["A", "B", "C", "D"]})
    as_of = fields.Date()
    reasons = fields.List(fields.Nested(ReasonSchema))


class TimelineItemSchema(Schema):
    date = fields.Date(allow_none=True)
    record_id = fields.Integer()
    category = fields.String()
    title = fields.String(allow_none=True)
    status = fields.String()
    severity = fields.String(allow_none=True)
    department = fields.String()


class DepartmentCountSchema(Schema):
    code = fields.String()
    name = fields.String()
    records = fields.Integer()


class MatchLinkSchema(Schema):
    id = fields.Integer()
    source_record_id = fields.Integer()
    feed = fields.String()
    source_key = fields.String()
    decision = fields.String()
    score = fields.Float()
    rule = fields.String(allow_none=True)
    matched_on = fields.Dict(allow_none=True)
    algorithm = fields.String()
    decided_by = fields.String()
    reviewer = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    decided_at = fields.DateTime()
    superseded_at = fields.DateTime(allow_none=True)
    explanation = fields.Dict()


class ProfileSchema(FastDumpSchema):
    public_id = fields.String()
    kind = fields.String()
    display_name = fields.String()
    region_code = fields.String(allow_none=True)
    merged_from = fields.String(
        allow_none=True, metadata={"description": "the merged public id that was asked for"}
    )
    as_of = fields.Date()
    golden_record = fields.List(fields.Nested(GoldenFieldSchema))
    identifiers = fields.List(fields.Nested(IdentifierSchema))
    records = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(CategoryRecordsSchema),
        metadata={"description": "by category: total and the newest records"},
    )
    lists = fields.List(fields.Nested(MembershipSchema))
    grade = fields.Nested(GradeSchema)
    timeline = fields.List(fields.Nested(TimelineItemSchema))
    departments = fields.List(fields.Nested(DepartmentCountSchema))
    match_links = fields.List(fields.Nested(MatchLinkSchema))
    match_links_total = fields.Integer()
