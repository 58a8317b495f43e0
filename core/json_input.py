"""JSON as CreditHub takes it in: what the standard parser reads, less what cannot be stored.

``json.loads`` accepts text that parses but cannot be kept, or that breaks something later:

- lone surrogate escapes (``"\\ud800"``): no UTF-8 encoder, SQLite's or PostgreSQL's, writes
  them, so the record fails where its payload is hashed or stored;
- NUL characters (``"\\u0000"``): PostgreSQL text and JSONB refuse them;
- numbers beyond a double (``1e999`` reads as infinity, which a JSON column stores as null) and
  the non-standard ``NaN`` / ``Infinity``;
- integers of more than 4,300 digits, refused by Python with a ``ValueError`` of its own;
- nesting deep enough to exhaust the recursion limit (a ``RecursionError``), or merely deep
  enough that the code walking a payload afterwards does.

I-JSON (RFC 7493) excludes the same things. :func:`loads` refuses them all with one exception,
:class:`JsonRefused`, whose message says what and where, so every way in (the push API, JSON
files, HTTP pages) reports them the same way instead of failing later with a database error.

Written by hand: parsing is the standard library's; what is added is a hook per number and one
walk over the result.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# A credit record is a flat row; feeds nest a level or two (a list of parties, attachments).
# The push API's own envelope takes two levels.
MAX_DEPTH = 64
# After json.loads has joined surrogate pairs, any surrogate left is a lone one.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JsonRefused(ValueError):
    """Text that is not JSON CreditHub can take. The message reads after a subject ("The
    request body ...", "line 3 ..."): "is not valid JSON: ...", "holds a NUL character at
    records[0].name", ..."""


def loads(text: str | bytes) -> Any:
    """The JSON value of ``text`` (bytes in UTF-8, -16 or -32, as ``json.loads`` detects).

    Raises :class:`JsonRefused` for invalid JSON, bytes that are not text, NaN / Infinity,
    numbers beyond a double, integers too long to read, nesting deeper than
    :data:`MAX_DEPTH`, and NUL characters or lone surrogates in any string or key."""
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_integer
        )
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise JsonRefused(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise JsonRefused(f"is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # raised by the number hooks below
        raise JsonRefused(str(exc)) from None
    if _may_need_check(text):
        _check(value)
    return value


def _may_need_check(text: str | bytes) -> bool:
    """False when the text cannot hold what :func:`_check` refuses, so a plain record skips
    the walk (it costs more than the parse). JSON text writes NUL and lone surrogates only as
    ``\\u`` escapes, bar a surrogate already in a ``str`` (or, in bytes, UTF-8's ED A0-BF,
    which ``json.loads`` lets through); nesting deeper than the limit takes more brackets."""
    if isinstance(text, bytes):
        if b"\\u" in text or b"\xed" in text or b"\x00" in text:  # NUL: UTF-16/32 bytes
            return True
        return text.count(b"{") + text.count(b"[") > MAX_DEPTH
    if "\\u" in text or _UNSTORABLE.search(text):
        return True
    return text.count("{") + text.count("[") > MAX_DEPTH


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"holds the number {text[:40]}, beyond the range of a double")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"holds an integer of {len(text)} digits, too long to read") from None


def _check(value: Any) -> None:
    # Iterative: the point is to refuse what would exhaust the recursion limit elsewhere.
    # Each entry: a value, its depth, and how to name it (parent entry, key or index).
    stack: list[tuple[Any, int, Any]] = [(value, 1, None)]
    while stack:
        entry = stack.pop()
        item, depth, _where = entry
        if isinstance(item, str):
            _check_text(item, entry)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise JsonRefused(f"is nested deeper than {MAX_DEPTH} levels (at {_path(entry)})")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key, (key, depth + 1, (entry, key)))
                    stack.append((child, depth + 1, (entry, key)))
            else:
                stack.extend((child, depth + 1, (entry, i)) for i, child in enumerate(item))


def _check_text(text: str, entry: tuple[Any, int, Any]) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise JsonRefused(f"holds a NUL character (\\u0000) at {_path(entry)}")
    raise JsonRefused(
        f"holds a lone surrogate (\\u{ord(found.group()):04x}) at {_path(entry)}; "
        "text must be valid Unicode"
    )


def _path(entry: tuple[Any, int, Any]) -> str:
    parts: list[str] = []
    where = entry[2]
    while where is not None:
        parent, key = where
        parts.append(f"[{key}]" if isinstance(key, int) else f".{_printable(key)}")
        where = parent[2]
    return "".join(reversed(parts)).lstrip(".") or "the top level"


def _printable(key: str) -> str:
    # A key may itself be the unstorable text: shown escaped, and not at any length.
    shown = key[:60].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
    return shown + ("..." if len(key) > 60 else "")
