from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from app.pagination import PageArgsSchema, PageSchema
from core.models import ObjectionKind, ObjectionStatus, RepairStatus


def _storable(value: str) -> None:
    # PostgreSQL text cannot hold NUL, and lone surrogates are not UTF-8: refuse both as 422
    # rather than fail in the database.
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("Must be valid Unicode text.") from exc


def _not_blank(value: str) -> None:
    _storable(value)
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _text(max_length: int | None = None, *, required: bool = True) -> fields.String:
    checks = [_not_blank] + ([validate.Length(max=max_length)] if max_length else [])
    if required:
        return fields.String(required=True, validate=checks)
    return fields.String(load_default=None, allow_none=True, validate=checks)


# ---------------------------------------------------------------------------- credit repair


class RepairApplySchema(Schema):
    applicant_name = _text(200)
    applicant_contact = _text(200, required=False)
    reason = _text(10000)
    evidence = _text(20000, required=False)


class RepairDecisionSchema(Schema):
    # Only JSON true / false: a decision must not hinge on how "no" or "0" is read.
    approve = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = _text(10000)


class RepairListArgsSchema(PageArgsSchema):
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in RepairStatus])
    )


class RecordSummarySchema(Schema):
    id = fields.Integer()
    party_name = fields.String()
    decision_number = fields.String(allow_none=True)
    category = fields.String()
    severity = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    department = fields.String(allow_none=True)


class RepairApplicationSchema(Schema):
    id = fields.Integer()
    record_id = fields.Integer()
    record_status = fields.String(metadata={"description": "the record's status after this step"})
    record = fields.Nested(RecordSummarySchema, metadata={"description": "in listings only"})
    applicant_name = fields.String()
    applicant_contact = fields.String(
        allow_none=True, metadata={"description": "masked for every role but regulator"}
    )
    reason = fields.String()
    evidence = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": [s.value for s in RepairStatus]})
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class RepairPageSchema(PageSchema):
    items = fields.List(fields.Nested(RepairApplicationSchema))


# ---------------------------------------------------------------------------- objections


class ObjectionRaiseSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ObjectionKind]))
    raised_by_name = _text(200)
    raised_by_contact = _text(200, required=False)
    description = _text(20000)


class ObjectionListArgsSchema(PageArgsSchema):
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in ObjectionStatus])
    )
    overdue = fields.Boolean(
        load_default=False,
        metadata={"description": "only open objections whose answer is past due"},
    )
    department = fields.String(
        load_default=None,
        validate=[_storable, validate.Length(min=1, max=64)],
        metadata={"description": "code of the department whose records are disputed"},
    )


class ObjectionAnswerSchema(Schema):
    answer = _text(20000)


class ObjectionCloseSchema(Schema):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf([ObjectionStatus.CORRECTED.value, ObjectionStatus.UPHELD.value]),
    )
    reason = _text(10000)


class ObjectionSchema(Schema):
    id = fields.Integer()
    record_id = fields.Integer()
    record_status = fields.String(metadata={"description": "the record's status after this step"})
    record_status_before = fields.String(
        metadata={"description": "status the record returns to when the objection is closed"}
    )
    record = fields.Nested(RecordSummarySchema, metadata={"description": "in listings only"})
    kind = fields.String(metadata={"enum": [k.value for k in ObjectionKind]})
    raised_by_name = fields.String()
    raised_by_contact = fields.String(
        allow_none=True, metadata={"description": "masked for every role but regulator"}
    )
    description = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in ObjectionStatus]})
    raised_at = fields.DateTime()
    due_on = fields.Date(metadata={"description": "the source department answers by this day"})
    overdue = fields.Boolean(metadata={"description": "received or open, and past due_on"})
    accepted_at = fields.DateTime(
        allow_none=True,
        metadata={"description": "when it was accepted for handling (the record then disputed)"},
    )
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    resolution_reason = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class ObjectionPageSchema(PageSchema):
    items = fields.List(fields.Nested(ObjectionSchema))
