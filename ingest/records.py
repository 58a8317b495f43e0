"""Validation of canonical records, one marshmallow schema per record category.

A record that fails its schema is quarantined with these field errors. Identifier codes are
validated here too, but an invalid code is *flagged* (``code_problems``), never a reason to
reject the record: real feeds carry codes that fail their checks.

The schemas are the only statement of the rules and of the error messages. Loading a record
through marshmallow's machinery costs more than storing it, though, so :class:`FastLoader`
reads records with the schema's own fields (their cleaning, parsing and validators) and
schema validators, and gives up on the first problem of any kind: such a record is loaded by
the schema itself, so its errors are exactly marshmallow's. A property test
(``tests/ingest/test_fast_validation.py``) checks that whatever the fast path accepts, it
reads exactly as the schema does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    missing,
    validate,
    validates_schema,
)
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

from app.models import RecordCategory
from matching.exact import field_hint
from matching.identifiers import IdentifierKind, parse_identifier

from .fields import Amount, CleanString, FlexibleDate, parse_flexible_date

# The "double publicity" party type codes (domain.md), and the words feeds use instead.
PARTY_TYPES = {
    "01": "natural_person",
    "02": "legal_person",
    "03": "unincorporated_organization",
    "04": "individual_business",
    "自然人": "natural_person",
    "法人": "legal_person",
    "法人及非法人组织": "legal_person",
    "法人或其他组织": "legal_person",
    "法人和其他组织": "legal_person",
    "非法人组织": "unincorporated_organization",
    "个体工商户": "individual_business",
}

# Which canonical field holds which kind of code; "code" is any code, classified by its shape.
CODE_FIELDS: dict[str, IdentifierKind | None] = {
    "uscc": IdentifierKind.USCC,
    "org_code": IdentifierKind.ORG_CODE,
    "registration_number": IdentifierKind.REGISTRATION_NUMBER,
    "taxpayer_number": IdentifierKind.TAXPAYER_NUMBER,
    "id_number": None,
    "code": None,
}


class _PartySchema(Schema):
    """Who the record is about; shared by every category."""

    class Meta:
        unknown = EXCLUDE

    party_name = CleanString(required=True, validate=validate.Length(max=300))
    party_type = CleanString(load_default=None)
    uscc = CleanString(load_default=None)
    org_code = CleanString(load_default=None)
    registration_number = CleanString(load_default=None)
    taxpayer_number = CleanString(load_default=None)
    code = CleanString(load_default=None)
    id_type = CleanString(load_default=None)
    id_number = CleanString(load_default=None)
    legal_rep = CleanString(load_default=None, validate=validate.Length(max=100))
    address = CleanString(load_default=None, validate=validate.Length(max=500))
    remarks = CleanString(load_default=None)
    source_unit = CleanString(load_default=None)
    source_unit_uscc = CleanString(load_default=None)
    status = CleanString(load_default=None)

    @validates_schema
    def _party_type_known(self, data: dict[str, Any], **_kwargs: Any) -> None:
        value = data.get("party_type")
        if value is not None and value not in PARTY_TYPES:
            raise ValidationError(
                f"unknown party type {value!r}; expected one of 01-04 or {sorted(PARTY_TYPES)[4:]}",
                "party_type",
            )


class _DecisionSchema(_PartySchema):
    decision_number = CleanString(required=True, validate=validate.Length(max=200))
    title = CleanString(load_default=None)
    content = CleanString(load_default=None)
    decision_date = FlexibleDate(required=True)
    valid_from = FlexibleDate(load_default=None)
    valid_to = FlexibleDate(load_default=None)
    publicity_end = FlexibleDate(load_default=None)
    authority_name = CleanString(required=True)
    authority_uscc = CleanString(load_default=None)

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            raise ValidationError("valid_to is before valid_from", "valid_to")


class LicensingSchema(_DecisionSchema):
    license_type = CleanString(load_default=None)
    certificate_name = CleanString(load_default=None)
    certificate_number = CleanString(load_default=None)


class PenaltySchema(_DecisionSchema):
    violation_type = CleanString(load_default=None)
    facts = CleanString(load_default=None)
    legal_basis = CleanString(load_default=None)
    penalty_category = CleanString(load_default=None)
    fine_amount = Amount(load_default=None)
    confiscated_amount = Amount(load_default=None)
    license_action = CleanString(load_default=None)
    severity = CleanString(
        load_default=None, validate=validate.OneOf(["minor", "general", "serious"])
    )


class ListEntrySchema(_PartySchema):
    list_name = CleanString(required=True)
    listed_on = FlexibleDate(required=True)
    list_reason = CleanString(load_default=None)
    authority_name = CleanString(load_default=None)
    decision_number = CleanString(load_default=None)
    removed_on = FlexibleDate(load_default=None)
    removal_reason = CleanString(load_default=None)


class TaxGradeSchema(_PartySchema):
    year = fields.Integer(required=True, strict=False, validate=validate.Range(1990, 2100))
    grade = CleanString(required=True, validate=validate.OneOf(["A", "B", "M", "C", "D"]))
    evaluated_on = FlexibleDate(load_default=None)


class CustomsRatingSchema(_PartySchema):
    grade = CleanString(required=True)
    decision_date = FlexibleDate(required=True)
    customs_code = CleanString(load_default=None)


class RegistrySchema(_PartySchema):
    established = FlexibleDate(load_default=None)
    entity_type = CleanString(load_default=None)


SCHEMAS: dict[RecordCategory, type[Schema]] = {
    RecordCategory.LICENSING: LicensingSchema,
    RecordCategory.PENALTY: PenaltySchema,
    RecordCategory.LIST_ENTRY: ListEntrySchema,
    RecordCategory.RED_LIST: ListEntrySchema,
    RecordCategory.TAX_GRADE: TaxGradeSchema,
    RecordCategory.CUSTOMS_RATING: CustomsRatingSchema,
    RecordCategory.REGISTRY: RegistrySchema,
}


class _GiveUp(Exception):
    """The fast path does not take this record: the schema loads it instead."""


_CLEAN, _DATE, _OTHER = 0, 1, 2


class FastLoader:
    """``schema.load(data)`` for the records it accepts, without marshmallow's per-field
    bookkeeping (error store, partial handling, hooks): values go through the same
    functions the schema's fields use (:class:`CleanString`'s cleaning, ``parse_flexible_date``,
    any other field's own ``deserialize``), then the fields' validators and the schema's
    ``validates_schema`` methods. :meth:`load` returns None for anything it does not take (a
    missing required field, a value of another type, any failed check), and for every
    schema with hooks it does not reproduce (``pre_load``, ``post_load``, ``validates``)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        hooks = schema._hooks  # marshmallow's registry of decorated methods
        self.enabled = not (hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES]) and all(
            f.data_key is None for f in schema.load_fields.values()
        )
        self.validators: list[Callable[..., Any]] = []
        for attr_name, many, options in hooks[VALIDATES_SCHEMA]:
            if many or options.get("pass_original"):
                self.enabled = False
            self.validators.append(getattr(schema, attr_name))
        self.plan: dict[str, tuple[int, fields.Field[Any]]] = {}
        self.defaults: dict[str, Any] = {}
        self.required: list[str] = []
        for name, field in schema.load_fields.items():
            if type(field) is CleanString:
                kind = _CLEAN
            elif type(field) is FlexibleDate:
                kind = _DATE
            else:
                kind = _OTHER
            if field.pre_load or field.post_load:
                self.enabled = False
            self.plan[name] = (kind, field)
            if field.required:
                self.required.append(name)
            elif field.load_default is not missing:
                if callable(field.load_default):
                    self.enabled = False
                self.defaults[name] = field.load_default

    def load(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        out = dict(self.defaults)
        try:
            for name, value in data.items():
                entry = self.plan.get(name)
                if entry is None:
                    continue  # unknown fields are excluded, as the schemas say
                kind, field = entry
                if value is None:
                    if not field.allow_none:
                        raise _GiveUp
                    out[name] = None
                    continue
                if kind == _CLEAN and type(value) is str:
                    result: Any = " ".join(unicodedata.normalize("NFKC", value).split())
                    if not result:
                        raise _GiveUp
                elif kind == _DATE:
                    result = parse_flexible_date(value)
                else:
                    result = field.deserialize(value, name, data)
                    out[name] = result
                    continue  # deserialize ran the validators
                for validator in field.validators:
                    if validator(result) is False:
                        raise _GiveUp
                out[name] = result
            for name in self.required:
                if name not in out:
                    raise _GiveUp
            # The schema's order (marshmallow's output follows the declared fields).
            out = {name: out[name] for name in self.plan if name in out}
            for validator in self.validators:
                validator(out, partial=None, many=False, unknown=EXCLUDE)
        except (_GiveUp, ValidationError, ValueError, TypeError):
            return None
        return out


_SCHEMA_INSTANCES = {category: schema() for category, schema in SCHEMAS.items()}
_FAST = {category: FastLoader(schema) for category, schema in _SCHEMA_INSTANCES.items()}


def load_record(category: RecordCategory, canonical: Mapping[str, Any]) -> dict[str, Any]:
    """The category's schema applied to ``canonical``: the fast path when it takes the record,
    the schema itself otherwise. Raises marshmallow's ``ValidationError``."""
    fast = _FAST[category].load(canonical)
    if fast is not None:
        return fast
    loaded: dict[str, Any] = _SCHEMA_INSTANCES[category].load(canonical)
    return loaded


def validate_record(category: RecordCategory, canonical: dict[str, Any]) -> dict[str, Any]:
    """The validated record, with ``party_kind`` and ``code_problems`` added.

    Raises marshmallow's ``ValidationError`` (``.messages`` maps fields to messages) when a
    required field is missing or a value cannot be read; invalid codes do not raise.
    """
    data = load_record(category, canonical)
    if data.get("party_type"):
        data["party_kind"] = PARTY_TYPES[data["party_type"]]
    problems: dict[str, str] = {}
    for field_name, kind in CODE_FIELDS.items():
        if data.get(field_name):
            checked = parse_identifier(data[field_name], field_hint(kind, data[field_name]))
            if not checked.valid:
                problems[field_name] = checked.problem or "invalid"
    data["code_problems"] = problems
    return data
