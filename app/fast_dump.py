"""Response schemas whose ``dump`` gives marshmallow's output at a fraction of its cost.

The hot answers (a profile, a search page, the public look-up) are dicts the services built
already; marshmallow's ``dump`` then walks them field by field, through its generic machinery
(about a tenth of a profile's CPU). :class:`FastDumpSchema` reads the schema's fields once per
class and builds one plain function per field (a date's ``isoformat``, a decimal's string, a
nested schema's own function), so a dump is a few dict look-ups and calls. The schema stays
what the OpenAPI document and flask-smorest see; only its ``dump`` is faster.

Anything outside the plain cases (hooks, ``only``/``exclude``, a field with an ``attribute``
path or a custom type) goes through marshmallow itself, field by field or the whole dump:
the output is marshmallow's either way. ``tests/app/test_fast_dump.py`` compares both for
every hot answer and every role.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields, utils

Convert = Callable[[Any], Any]
_MISSING = object()


class FastDumpSchema(Schema):
    """A schema whose plain ``dump`` (no ``only``, ``exclude``, hooks) runs compiled."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if self.only or self.exclude or self._hooks:
            return super().dump(obj, many=many)
        dumper = _dumper(type(self))
        if self.many if many is None else many:
            return [dumper(item) for item in obj]
        return dumper(obj)


_DUMPERS: dict[type[Schema], Convert] = {}


def _dumper(schema_cls: type[Schema]) -> Convert:
    found = _DUMPERS.get(schema_cls)
    if found is None:
        found = _DUMPERS[schema_cls] = _compile(schema_cls)
    return found


def _compile(schema_cls: type[Schema]) -> Convert:
    schema = schema_cls()
    plan = [
        (name, field.data_key or name, _converter(field, name))
        for name, field in schema.dump_fields.items()
    ]

    def dump(obj: Any) -> dict[str, Any]:
        mapping = isinstance(obj, Mapping)
        out = {}
        for name, key, convert in plan:
            value = obj.get(name, _MISSING) if mapping else getattr(obj, name, _MISSING)
            if value is not _MISSING:
                out[key] = None if value is None else convert(value)
        return out

    return dump


def _converter(field: fields.Field, name: str) -> Convert:
    """A function of a non-None value giving what ``field`` serializes it to."""
    if field.attribute is not None:
        return _generic(field, name)
    kind = type(field)  # the exact class: a subclass may serialize differently
    if kind is fields.String:
        return _text
    if kind is fields.Integer and not field.as_string:
        return int
    if kind is fields.Float and not field.as_string:
        return float
    if kind is fields.Boolean:
        return _same
    if kind is fields.Decimal and field.as_string and field.places is None:
        return _decimal_text
    if kind in (fields.Date, fields.DateTime) and (field.format or "iso") in ("iso", "iso8601"):
        return _isoformat
    if kind is fields.Nested and not (field.only or field.exclude):
        nested = field.nested
        if isinstance(nested, type) and issubclass(nested, Schema) and not nested._hooks:
            inner = _dumper(nested)
            return (lambda v: [inner(i) for i in v]) if field.many else inner
    if kind is fields.List:
        item = _converter(field.inner, name)
        return lambda v: [None if i is None else item(i) for i in v]
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return dict
    if kind is fields.Dict and isinstance(field.key_field, fields.String) and field.value_field:
        value = _converter(field.value_field, name)
        return lambda v: {_text(k): None if i is None else value(i) for k, i in v.items()}
    return _generic(field, name)


def _generic(field: fields.Field, name: str) -> Convert:
    """marshmallow's own serialization of a value of ``field``."""
    return lambda value: field._serialize(value, name, None)


def _same(value: Any) -> Any:
    return value


def _text(value: Any) -> str:
    return value if type(value) is str else utils.ensure_text_type(value)


def _decimal_text(value: Any) -> str:
    return str(decimal.Decimal(str(value)))


def _isoformat(value: Any) -> str:
    return value.isoformat()  # type: ignore[no-any-return]
