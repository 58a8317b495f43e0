"""Marshmallow schemas for what the pages' forms and query strings send.

A browser sends every field as text and empty fields as ``""``: :func:`form_data` drops the
empty ones so optional fields fall back to their defaults, and the schemas accept the words a
form can send (``confirm`` / ``reject``) instead of the API's JSON booleans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.entities.schemas import EntitySearchArgsSchema, RecordArgsSchema
from app.pages.auth import CSRF_FIELD
from app.pagination import MAX_PAGE_SIZE, PageArgsSchema
from core.models import ObjectionStatus, RepairStatus


def form_data(values: Mapping[str, Any], keep: Iterable[str] = ()) -> dict[str, str]:
    """The non-empty fields of a submitted form or query string (``keep``: kept even empty),
    without the CSRF token and the buttons' ``page`` helpers."""
    kept = set(keep)
    return {
        key: value
        for key, value in values.items()
        if key != CSRF_FIELD and (key in kept or str(value).strip() != "")
    }


def _storable_text(value: str) -> None:
    # PostgreSQL text cannot hold NUL, and the app-wide guard only looks at query strings and
    # JSON bodies: a form field is checked here so it fails as a 422, not in the database.
    if "\x00" in value:
        raise ValidationError("不能包含 NUL 字符。Must not contain NUL characters.")
    if not value.strip():
        raise ValidationError("请填写此项。This field must not be blank.")


def _text(max_length: int) -> fields.String:
    return fields.String(
        required=True,
        validate=[_storable_text, validate.Length(max=max_length)],
        error_messages={"required": "请填写此项。This field is required."},
    )


class _Form(Schema):
    class Meta:
        # Browsers send their submit buttons and whatever else the form holds: ignore extras.
        unknown = EXCLUDE


class _PageArgs(PageArgsSchema):
    class Meta:
        unknown = EXCLUDE


class ReviewDecisionForm(_Form):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["confirm", "reject"]),
        error_messages={"required": "请选择确认或否定。Choose confirm or reject."},
    )
    reason = _text(2000)


class RepairDecisionForm(_Form):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["approve", "reject"]),
        error_messages={"required": "请选择批准或驳回。Choose approve or reject."},
    )
    reason = _text(10000)


class ObjectionCloseForm(_Form):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf([ObjectionStatus.CORRECTED.value, ObjectionStatus.UPHELD.value]),
        error_messages={"required": "请选择处理结果。Choose an outcome."},
    )
    reason = _text(10000)


class ObjectionAnswerForm(_Form):
    answer = _text(20000)


class ReviewQueueArgs(_PageArgs):
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(["pending", "confirmed", "rejected", "withdrawn"]),
    )


class RepairQueueArgs(_PageArgs):
    status = fields.String(
        load_default=RepairStatus.PENDING.value,
        validate=validate.OneOf([s.value for s in RepairStatus]),
    )


class ObjectionQueueArgs(_PageArgs):
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in ObjectionStatus])
    )
    overdue = fields.Boolean(load_default=False)


class FeedStatusArgs(_PageArgs):
    feed = fields.String(load_default=None, validate=[_storable_text, validate.Length(max=100)])


def load(schema: Schema, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, errors): data is empty when there are errors (messages by field)."""
    try:
        return schema.load(values), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        return {}, messages


class SearchArgs(EntitySearchArgsSchema):
    """The API's search arguments; a page shows 20 hits at a time."""

    class Meta:
        unknown = EXCLUDE

    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class RecordArgs(RecordArgsSchema):
    """The API's record filters; a page shows 20 records at a time."""

    class Meta:
        unknown = EXCLUDE

    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
