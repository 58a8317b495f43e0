"""A delivered payload as JSON can hold it, and its hash: the hash is how a re-delivered
record is recognised as a duplicate, so it is stored with every source record and must never
change (``tests/ingest/test_payload_hash.py`` pins it)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

_TEXT = {str}


def _is_text_row(value: Any) -> bool:
    """A dict of text keys to text values (what a CSV row is)."""
    return (
        type(value) is dict
        and set(map(type, value.values())) <= _TEXT
        and set(map(type, value)) <= _TEXT
    )


def json_safe(value: Any) -> Any:
    """The payload as JSON can hold it: dates as ISO text, decimals as text, NaN as null."""
    # A CSV row (text keys, text values) needs no conversion.
    if _is_text_row(value):
        return dict(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the payload's canonical JSON (sorted keys, no spaces, UTF-8). Stored with
    every source record: re-delivery is recognised by it, so it must never change."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class PayloadHasher:
    """:func:`json_safe` and :func:`payload_hash` for the records of one batch.

    Rows of text (every CSV row) are hashed through a template per key set, made once: the
    keys' JSON in sorted order with a slot per value, each value encoded by the function
    ``json.dumps`` itself uses for text (``encode_basestring``, as ``ensure_ascii=False``
    chooses), so the canonical text is the same, byte for byte, without ``json.dumps``
    walking and sorting every row. Other payloads take the general path.
    ``tests/ingest/test_payload_hash.py`` pins hashes and compares both paths."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, ...], tuple[str, Callable[[Any], Any]]] = {}

    def __call__(self, raw: Any) -> tuple[Any, str]:
        """The JSON-safe payload and its hash."""
        if not _is_text_row(raw):
            payload = json_safe(raw)
            return payload, payload_hash(payload)
        payload = dict(raw)
        found = self._templates.get(tuple(payload))
        if found is None:
            found = self._templates[tuple(payload)] = _text_template(payload)
        template, values = found
        canonical = template % tuple(map(encode_basestring, values(payload)))
        return payload, hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text_template(row: Mapping[str, str]) -> tuple[str, Callable[[Any], Any]]:
    keys = sorted(row)  # what sort_keys does: str order, by code point
    slots = ",".join(encode_basestring(k).replace("%", "%%") + ":%s" for k in keys)
    if len(keys) == 1:
        only = keys[0]
        return "{" + slots + "}", lambda r: (r[only],)
    return "{" + slots + "}", itemgetter(*keys) if keys else lambda _r: ()
