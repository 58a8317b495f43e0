"""The app's JSON: orjson, writing exactly what Flask's own provider wrote, several times faster.

Every API answer is encoded here (and every masked one decoded and encoded again,
``app.auth.access``). Flask's provider goes through the standard ``json`` module; orjson does
the same work in compiled code. What stays as before: keys sorted (Flask's default), Chinese as
UTF-8 characters (never ``\\uXXXX``: ``ensure_ascii`` is off), compact separators (indented in
debug mode), dates and datetimes as HTTP dates and dataclasses as sorted dicts through Flask's
own ``default`` (orjson would write ISO 8601; the schemas' dates are strings already), and
anything orjson refuses (an integer beyond 64 bits, non-string keys) goes through Flask's
provider, which answers for it as it always did. One difference: a non-finite float is
written ``null`` (valid JSON) where the standard module wrote ``NaN``.
``tests/app/test_json_provider.py`` compares both.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


class OrjsonProvider(DefaultJSONProvider):
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Without arguments the standard module writes ", " and ": " (orjson cannot): only the
        # compact form, what every response is written in, goes through orjson.
        if kwargs == {"separators": (",", ":")} and self._orjson_applies():
            return self._encode(obj, indent=False).decode()
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError:
            # The standard module's error (a ValueError too) and its leniency (NaN): as before.
            return super().loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        return self._app.response_class(
            self._encode(obj, indent=indent) + b"\n", mimetype=self.mimetype
        )

    def encode_compact(self, obj: Any) -> bytes:
        """``obj`` as a response body writes it (without the final newline)."""
        return self._encode(obj, indent=False)

    def _orjson_applies(self) -> bool:
        return self.sort_keys and not self.ensure_ascii

    def _encode(self, obj: Any, *, indent: bool) -> bytes:
        if self._orjson_applies():
            option = _OPTIONS | orjson.OPT_INDENT_2 if indent else _OPTIONS
            try:
                return orjson.dumps(obj, default=self.default, option=option)
            except TypeError:
                pass  # what orjson does not take: the standard module decides, as before
        kwargs: dict[str, Any] = {"indent": 2} if indent else {"separators": (",", ":")}
        return super().dumps(obj, **kwargs).encode()
