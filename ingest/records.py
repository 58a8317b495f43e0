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

from core.models import RecordCategory
from ingest.fields import (
    Amount,
    BirthDate,
    CleanString,
    FlexibleDate,
    Gender,
    parse_flexible_date,
)
from ingest.value_checks import ValueChecks
from matching.exact import field_hint
from matching.identifier_types import IdentifierKind
from matching.identifiers import parse_identifier

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


# Text stored in a column of limited length is validated against that length (the columns of
# core/models: credit_records, entity_identifiers.value for codes). PostgreSQL refuses a longer
# value, and with it the whole batch; a record is quarantined instead, with the field named. A
# code longer than any identifier column is not a code: it is refused, not flagged.
_CODE = validate.Length(max=64)


class _PartySchema(Schema):
    """Who the record is about; shared by every category."""

    class Meta:
        unknown = EXCLUDE

    party_name = CleanString(required=True, validate=validate.Length(max=300))
    party_type = CleanString(load_default=None)
    uscc = CleanString(load_default=None, validate=_CODE)
    org_code = CleanString(load_default=None, validate=_CODE)
    registration_number = CleanString(load_default=None, validate=_CODE)
    taxpayer_number = CleanString(load_default=None, validate=_CODE)
    code = CleanString(load_default=None, validate=_CODE)
    id_type = CleanString(load_default=None)
    id_number = CleanString(load_default=None, validate=_CODE)
    legal_rep = CleanString(load_default=None, validate=validate.Length(max=100))
    address = CleanString(load_default=None, validate=validate.Length(max=500))
    # A natural person's, when the feed gives them (ingest/mapping.py PERSON_FIELDS).
    birth_date = BirthDate(load_default=None)
    gender = Gender(load_default=None, allow_none=True)
    # The party's phone and postcode, when the feed gives them (ingest/mapping.py
    # CONTACT_FIELDS): the matcher compares them and blocks on the phone, as `credithub
    # resolve` does. Kept as written (the matcher reads their digits); never shown.
    phone = CleanString(load_default=None, validate=validate.Length(max=64))
    postcode = CleanString(load_default=None, validate=validate.Length(max=16))
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
    title = CleanString(load_default=None, validate=validate.Length(max=500))
    content = CleanString(load_default=None)
    decision_date = FlexibleDate(required=True)
    valid_from = FlexibleDate(load_default=None)
    valid_to = FlexibleDate(load_default=None)
    publicity_end = FlexibleDate(load_default=None)
    authority_name = CleanString(required=True, validate=validate.Length(max=300))
    authority_uscc = CleanString(load_default=None, validate=validate.Length(max=18))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            raise ValidationError("valid_to is before valid_from", "valid_to")


class LicensingSchema(_DecisionSchema):
    # The credit record's subtype and, without a title, its title.
    license_type = CleanString(load_default=None, validate=validate.Length(max=64))
    certificate_name = CleanString(load_default=None, validate=validate.Length(max=500))
    certificate_number = CleanString(load_default=None)


class PenaltySchema(_DecisionSchema):
    violation_type = CleanString(load_default=None)
    facts = CleanString(load_default=None)
    legal_basis = CleanString(load_default=None)
    penalty_category = CleanString(load_default=None, validate=validate.Length(max=64))
    fine_amount = Amount(load_default=None)
    confiscated_amount = Amount(load_default=None)
    license_action = CleanString(load_default=None)
    severity = CleanString(
        load_default=None, validate=validate.OneOf(["minor", "general", "serious"])
    )


class ListEntrySchema(_PartySchema):
    list_name = CleanString(required=True, validate=validate.Length(max=100))
    listed_on = FlexibleDate(required=True)
    list_reason = CleanString(load_default=None)
    authority_name = CleanString(load_default=None, validate=validate.Length(max=300))
    decision_number = CleanString(load_default=None)
    removed_on = FlexibleDate(load_default=None)
    removal_reason = CleanString(load_default=None)


class TaxGradeSchema(_PartySchema):
    year = fields.Integer(required=True, strict=False, validate=validate.Range(1990, 2100))
    grade = CleanString(required=True, validate=validate.OneOf(["A", "B", "M", "C", "D"]))
    evaluated_on = FlexibleDate(load_default=None)


class CustomsRatingSchema(_PartySchema):
    grade = CleanString(required=True, validate=validate.Length(max=16))
    decision_date = FlexibleDate(required=True)
    customs_code = CleanString(load_default=None)


class RegistrySchema(_PartySchema):
    established = FlexibleDate(load_default=None)
    entity_type = CleanString(load_default=None, validate=validate.Length(max=64))


SCHEMAS: dict[RecordCategory, type[Schema]] = {
    RecordCategory.LICENSING: LicensingSchema,
    RecordCategory.PENALTY: PenaltySchema,
    RecordCategory.LIST_ENTRY: ListEntrySchema,
    RecordCategory.RED_LIST: ListEntrySchema,
    RecordCategory.TAX_GRADE: TaxGradeSchema,
    RecordCategory.CUSTOMS_RATING: CustomsRatingSchema,
    RecordCategory.REGISTRY: RegistrySchema,
}


_CLEAN, _DATE, _OTHER = 0, 1, 2


class FastLoader:
    """``schema.load(data)`` for the records it accepts, without marshmallow's per-field
    bookkeeping (error store, partial handling, hooks): values go through the same
    functions the schema's fields use (:class:`CleanString`'s cleaning, ``parse_flexible_date``,
    any other field's own ``deserialize``), then the fields' validators and the schema's
    ``validates_schema`` methods. :meth:`load` returns None for anything it does not take (a
    missing required field, a value of another type, any failed check), and for every
    schema with hooks it does not reproduce (``pre_load``, ``post_load``, ``validates``).

    Work that depends only on which keys a record has (the output's order, its defaults, the
    fields to read) is planned once per key set, and each field remembers the validated value
    of the short raw texts it has read (dates, types, codes repeat from record to record):
    about twice as fast as reading every record from scratch."""

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
            if not field.required and field.load_default is not missing:
                if callable(field.load_default):
                    self.enabled = False
                self.defaults[name] = field.load_default
        self._memos: dict[str, dict[str, Any]] = {name: {} for name in self.plan}
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    def load(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        keys = tuple(data)
        try:
            plan = self._plans[keys]
        except KeyError:
            if len(self._plans) >= _MAX_PLANS:
                self._plans.clear()
            plan = self._plans[keys] = self._plan_for(keys)
        if plan is None:
            return None  # a required field is absent
        template, steps = plan
        # Every output key, in the schema's order, defaults filled in: setting a key that is
        # already there keeps its place.
        out = dict(template)
        try:
            for name, kind, field, memo in steps:
                value = data[name]
                if value is None:
                    if not field.allow_none:
                        return None
                    out[name] = None
                    continue
                if kind == _CLEAN and type(value) is str:
                    result = memo.get(value)
                    if result is None:
                        result = " ".join(unicodedata.normalize("NFKC", value).split())
                        if not result or not _passes(field, result):
                            return None
                        _remember(memo, value, result)
                elif kind == _DATE:
                    result = memo.get(value) if type(value) is str else None
                    if result is None:
                        result = parse_flexible_date(value)
                        if not _passes(field, result):
                            return None
                        if type(value) is str:
                            _remember(memo, value, result)
                else:
                    result = field.deserialize(value, name, data)  # runs the validators
                out[name] = result
            for validator in self.validators:
                validator(out, partial=None, many=False, unknown=EXCLUDE)
        except (ValidationError, ValueError, TypeError):
            return None
        return out

    def _plan_for(self, keys: tuple[str, ...]) -> _Plan | None:
        """How to load records with these keys: the output's keys in the schema's order
        (marshmallow's output follows the declared fields) with the defaults of the absent
        ones, and the fields to read; None when a required field is absent."""
        present = set(keys)
        template: dict[str, Any] = {}
        steps: list[_Step] = []
        for name, (kind, field) in self.plan.items():
            if name in present:
                template[name] = None
                steps.append((name, kind, field, self._memos[name]))
            elif name in self.defaults:
                template[name] = self.defaults[name]
            elif field.required:
                return None
        return template, steps


# Per field, the validated value of each distinct raw text seen (dates, party types, codes,
# authorities and categories repeat from record to record). Only short texts are kept, and
# a full memo starts again: it is a cache, never a record of what was seen.
_MEMO_SIZE = 4096
_MEMO_MAX_LENGTH = 64
# Distinct key sets a loader keeps plans for (a CSV feed has one).
_MAX_PLANS = 256
_Step = tuple[str, int, "fields.Field[Any]", dict[str, Any]]
_Plan = tuple[dict[str, Any], list[_Step]]


def _passes(field: fields.Field[Any], value: Any) -> bool:
    return all(validator(value) is not False for validator in field.validators)


def _remember(memo: dict[str, Any], raw: str, value: Any) -> None:
    if len(raw) <= _MEMO_MAX_LENGTH:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[raw] = value


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


def validate_record(
    category: RecordCategory, canonical: dict[str, Any], checks: ValueChecks | None = None
) -> dict[str, Any]:
    """The validated record, with ``party_kind`` and ``code_problems`` added.

    Raises marshmallow's ``ValidationError`` (``.messages`` maps fields to messages) when a
    required field is missing or a value cannot be read, or, with ``checks``, when a date or
    amount is implausible (:mod:`ingest.value_checks`); invalid codes do not raise.
    """
    data = load_record(category, canonical)
    if checks is not None:
        implausible = checks.problems(category, data)
        if implausible:
            raise ValidationError(implausible)
    if data.get("party_type"):
        data["party_kind"] = PARTY_TYPES[data["party_type"]]
    problems: dict[str, str] = {}
    for field_name, kind in CODE_FIELDS.items():
        value = data.get(field_name)
        if value:
            memo = _CODE_PROBLEMS[field_name]
            problem = memo.get(value)
            if problem is None:
                checked = parse_identifier(value, field_hint(kind, value))
                problem = "" if checked.valid else (checked.problem or "invalid")
                _remember(memo, value, problem)
            if problem:
                problems[field_name] = problem
    data["code_problems"] = problems
    return data


# Per code field, the problem of each code seen ("" when valid): a party's code comes back
# with each of its records.
_CODE_PROBLEMS: dict[str, dict[str, str]] = {name: {} for name in CODE_FIELDS}
