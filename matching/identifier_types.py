"""What every Chinese identifier scheme shares: the kinds of code, the parsed
:class:`Identifier`, and the clean-up and character tests the scheme modules
(:mod:`matching.org_codes`, :mod:`matching.resident_ids`) and the classification
(:mod:`matching.identifiers`) all use.

Nothing here raises on bad input: every validator returns an :class:`Identifier` carrying
``valid`` and a human-readable ``problem``, because a record with a bad code is kept and
flagged, never dropped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = [
    "DIGITS",
    "MASK",
    "Identifier",
    "IdentifierKind",
    "clean_code",
    "count_digits",
    "date_from",
    "is_alnum",
    "is_digits",
    "raw_text",
]

# Separators people and spreadsheets put inside codes (after NFKC the full-width forms are
# already ASCII). Commas are deliberately kept: they separate codes rather than split one.
_SEPARATORS = frozenset("-‐‑‒–—―−﹣－·•・‧._/")
# The character masked resident numbers show for a hidden one.
MASK = "*"
DIGITS = "0123456789"


class IdentifierKind(StrEnum):
    USCC = "uscc"  # 18 chars, GB 32100
    ORG_CODE = "org_code"  # 8 + check, GB 11714
    TAXPAYER_NUMBER = "taxpayer_number"  # old: 6-digit division + 9-char org code
    REGISTRATION_NUMBER = "registration_number"  # old 15-digit 注册号, ISO 7064 MOD 11,10
    RESIDENT_ID = "resident_id"  # 18 chars, GB 11643
    RESIDENT_ID_15 = "resident_id_15"  # old 15 digits, upgraded in Identifier.value
    MASKED_ID = "masked_id"  # resident number with '*' for hidden characters
    OTHER = "other"  # no known scheme, e.g. non-Chinese data


@dataclass(frozen=True, slots=True)
class Identifier:
    """One parsed identifier.

    ``value`` is the normalised code: a 15-digit resident number is upgraded to 18 digits, an
    organization code is the 9-character form without hyphen. ``org_code`` is the 9-character
    organization code carried by a USCC, organization code or taxpayer number; ``division`` the
    6-digit administrative division (registration authority for a USCC, address code for a
    resident number). ``alternatives`` lists other kinds the same string also validates as.
    """

    kind: IdentifierKind
    raw: str
    value: str
    valid: bool
    problem: str | None = None
    org_code: str | None = None
    division: str | None = None
    birth_date: date | None = None
    alternatives: tuple[IdentifierKind, ...] = ()


# --------------------------------------------------------------------------- clean-up


def raw_text(raw: object) -> str:
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else str(raw)


def clean_code(raw: str | None) -> str:
    """NFKC-normalise, upper-case and drop whitespace, separators and invisible characters."""
    text = unicodedata.normalize("NFKC", raw_text(raw)).upper()
    if text.isascii() and text.isalnum():
        return text  # the common case: nothing to drop
    return "".join(
        ch
        for ch in text
        if not (ch.isspace() or ch in _SEPARATORS or unicodedata.category(ch) == "Cf")
    )


def is_digits(text: str) -> bool:
    # str.isdigit alone accepts other scripts' digits and superscripts, which int() then
    # misreads or rejects.
    return text.isascii() and text.isdigit()


def is_alnum(text: str) -> bool:
    return text.isascii() and text.isalnum()


_DROP_DIGITS = str.maketrans("", "", DIGITS)


def count_digits(text: str) -> int:
    # Counted by deleting them (in C): classifying each code asks this, per character in
    # Python it was a sixth of the time spent classifying codes.
    return len(text) - len(text.translate(_DROP_DIGITS))


def date_from(yyyymmdd: str) -> date | None:
    if len(yyyymmdd) != 8 or not is_digits(yyyymmdd):
        return None
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None
