"""Request and response bodies of the credit-check endpoints.

A check's stored parts (entity, grade, lists, measures) are served as stored: their dates are
ISO text (``format: date``), exactly as the department first received them.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from app.entities.schemas import IdentifierSchema, ReasonSchema, RecordSourceSchema
from core.rules.measures import DEFAULT_MATTERS

# Bodies are read by core.json_input, which already refuses NUL and lone surrogates.


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


class CheckRequestSchema(Schema):
    identifier = fields.String(
        required=True,
        validate=[_not_blank, validate.Length(max=300)],
        metadata={"description": "USCC, resident ID number or name of the party"},
    )
    matter = fields.String(
        required=True,
        validate=[_not_blank, validate.Length(max=64)],
        metadata={
            "description": "matter code from the measures file",
            "example": DEFAULT_MATTERS[0],
        },
    )
    reference = fields.String(
        load_default=None,
        allow_none=True,
        validate=[_not_blank, validate.Length(max=200)],
        metadata={"description": "the department's case number"},
    )


class CheckBatchArgsSchema(Schema):
    matter = fields.String(required=True, validate=[_not_blank, validate.Length(max=64)])
    reference = fields.String(load_default=None, validate=[_not_blank, validate.Length(max=200)])


class CheckFeedbackItemSchema(Schema):
    measure_code = fields.String(required=True, validate=[_not_blank, validate.Length(max=64)])
    # Only JSON true / false: whether a restriction was applied must not hinge on "0" or "no".
    applied = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10000),
        metadata={"description": "required when not applied"},
    )


class CheckFeedbackRequestSchema(Schema):
    items = fields.List(
        fields.Nested(CheckFeedbackItemSchema),
        required=True,
        validate=validate.Length(min=1, max=100),
    )


_DATE = {"format": "date"}


class CheckPartySchema(Schema):
    public_id = fields.String()
    kind = fields.String()
    display_name = fields.String()
    region_code = fields.String(allow_none=True)
    identifiers = fields.List(fields.Nested(IdentifierSchema))


class CheckCandidateSchema(CheckPartySchema):
    score = fields.Float()
    matched_on = fields.String()


class CheckTriggerRecordSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    severity = fields.String(allow_none=True)
    status = fields.String()
    title = fields.String(allow_none=True)
    list_name = fields.String(allow_none=True)
    grade = fields.String(allow_none=True)
    decision_number = fields.String(allow_none=True)
    decision_date = fields.String(allow_none=True, metadata=_DATE)
    authority_name = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    source = fields.Nested(RecordSourceSchema)


class CheckFiredTriggerSchema(Schema):
    trigger = fields.String(metadata={"enum": ["list", "category", "tax_grade", "customs_rating"]})
    description = fields.String()
    records = fields.List(fields.Nested(CheckTriggerRecordSchema))


class CheckMeasureSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": ["punishment", "reward"]})
    effect = fields.String(metadata={"enum": ["restricts", "prohibits", "favours"]})
    memorandum = fields.String()
    legal_basis = fields.String()
    departments = fields.List(fields.String())
    triggers = fields.List(fields.Nested(CheckFiredTriggerSchema))


class CheckListMembershipSchema(Schema):
    kind = fields.String(metadata={"enum": ["black", "red"]})
    list_name = fields.String(allow_none=True)
    listed_on = fields.String(allow_none=True, metadata=_DATE)
    authority_name = fields.String(allow_none=True)
    record_id = fields.Integer()


class CheckGradeSchema(Schema):
    letter = fields.String()
    reasons = fields.List(fields.Nested(ReasonSchema))


class CheckFeedbackSchema(Schema):
    measure_code = fields.String()
    applied = fields.Boolean()
    reason = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.DateTime()


class CheckSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor = fields.String()
    matter = fields.String()
    reference = fields.String(allow_none=True)
    identifier = fields.String(metadata={"description": "as asked, masked for the caller"})
    outcome = fields.String(metadata={"enum": ["matched", "ambiguous", "not_found"]})
    as_of = fields.String(metadata=_DATE)
    measures_file = fields.String(allow_none=True)
    entity = fields.Nested(CheckPartySchema, allow_none=True)
    grade = fields.Nested(CheckGradeSchema, allow_none=True)
    lists = fields.List(fields.Nested(CheckListMembershipSchema))
    measures = fields.List(fields.Nested(CheckMeasureSchema))
    candidates = fields.List(
        fields.Nested(CheckCandidateSchema),
        metadata={"description": "when ambiguous: the parties the identifier may mean"},
    )
    feedback = fields.List(fields.Nested(CheckFeedbackSchema))
