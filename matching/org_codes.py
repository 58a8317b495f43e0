"""Organisation codes: the Unified Social Credit Code (USCC, GB 32100-2015), the old
organization code (GB 11714), the old 15-character taxpayer number (division + organization
code) and the old 15-digit business registration number (注册号, ISO 7064 MOD 11,10), and the
organization code each of them carries.

Checks come from python-stdnum (``stdnum.cn.uscc``, ``stdnum.iso7064.mod_11_10``). Only the
GB 11714 organization-code check is written here, because python-stdnum does not cover it.
Where stdnum rejects correctly issued USCCs (registration authority a letter: N agriculture,
Y other, A military), the module relaxes it, still using stdnum's own check.
"""

from __future__ import annotations

import functools

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.iso7064 import mod_11_10

from .identifier_types import (
    DIGITS,
    Identifier,
    IdentifierKind,
    clean_code,
    is_alnum,
    is_digits,
    raw_text,
)

__all__ = [
    "ORG_CODE_CARRIERS",
    "org_code_check_char",
    "org_code_of_identifier",
    "uscc_check_problem",
    "validate_org_code",
    "validate_registration_number",
    "validate_taxpayer_number",
    "validate_uscc",
]

# Only used to explain format errors and for the letter-prefixed codes stdnum rejects; the
# USCC check itself is stdnum's.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE_OF = {ch: value for value, ch in enumerate(_ORG_VALUES)}
# Check character by 11 - (weighted sum mod 11), which is 1..11: 10 is X, 11 is 0.
_ORG_CHECK_CHARS = ("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0")
# The kinds of code that carry an organization code.
ORG_CODE_CARRIERS = frozenset(
    {IdentifierKind.USCC, IdentifierKind.ORG_CODE, IdentifierKind.TAXPAYER_NUMBER}
)


# --------------------------------------------------------------------------- organization code


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character for an 8-character body; "" if the body is malformed."""
    values = _ORG_VALUE_OF
    try:
        # Clean bodies (nearly all: they come out of clean_code already) skip the clean-up.
        digits = [values[ch] for ch in body8]
    except KeyError:
        body = clean_code(body8)
        if any(ch not in values for ch in body):
            return ""
        digits = [values[ch] for ch in body]
    if len(digits) != 8:
        return ""
    total = sum(d * w for d, w in zip(digits, _ORG_WEIGHTS, strict=True))
    return _ORG_CHECK_CHARS[11 - total % 11]


# The ``*_problem`` checks (these two and ``resident_ids._resident_id_problem``) are cached:
# classifying one code asks each of them the same question several times (as USCC and as
# resident id, then again for the organization code).
@functools.lru_cache(maxsize=1 << 12)
def _org_code_problem(code: str, label: str = "organization code") -> str | None:
    if len(code) != 9:
        return f"{label} must be 9 characters (8 + check), got {len(code)}"
    bad = next((ch for ch in code[:8] if ch not in _ORG_VALUES), None)
    if bad is not None:
        return f"{label} body may only hold 0-9 and A-Z, got {bad!r}"
    expected = org_code_check_char(code[:8])
    if code[8] != expected:
        return f"{label} check character should be {expected!r}, got {code[8]!r}"
    return None


def validate_org_code(raw: str | None) -> Identifier:
    """Validate a GB 11714 organization code (``60003734-1`` or ``600037341``)."""
    value = clean_code(raw)
    problem = _org_code_problem(value)
    return Identifier(
        kind=IdentifierKind.ORG_CODE,
        raw=raw_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        org_code=value if len(value) == 9 and is_alnum(value) else None,
    )


# --------------------------------------------------------------------------- USCC


@functools.lru_cache(maxsize=1 << 12)
def uscc_check_problem(value: str) -> str | None:
    """Length, format and USCC check character only (not the embedded organization code);
    None when they pass."""
    try:
        uscc.validate(value)
        return None
    except InvalidLength:
        return f"USCC must be 18 characters, got {len(value)}"
    except InvalidChecksum:
        return f"USCC check character should be {uscc.calc_check_digit(value)!r}, got {value[-1]!r}"
    except InvalidFormat:
        pass
    except ValueError as exc:
        return f"USCC rejected: {exc}"
    # stdnum insists on 8 leading digits, but GB 32100 also issues letters as registration
    # authority (A military, N agriculture: rural collective organizations, Y other), so a
    # letter in the first two positions is a format stdnum does not know, not an error.
    for position, ch in enumerate(value, start=1):
        if 3 <= position <= 8 and ch not in DIGITS:
            return f"USCC character {position} must be a digit (division code), got {ch!r}"
        if ch not in _USCC_ALPHABET:
            return (
                f"USCC character {position} must be one of 0-9 and A-Y without I, O, S, V, Z, "
                f"got {ch!r}"
            )
    expected = uscc.calc_check_digit(value)
    if value[-1] != expected:
        return f"USCC check character should be {expected!r}, got {value[-1]!r}"
    return None


def validate_uscc(raw: str | None) -> Identifier:
    """Validate a USCC, including the GB 11714 check of its embedded organization code."""
    value = clean_code(raw)
    problem = uscc_check_problem(value)
    shaped = len(value) == 18
    org_code = value[8:17] if shaped and is_alnum(value[8:17]) else None
    if problem is None and org_code is not None:
        # GB 32100 makes chars 9-17 a GB 11714 code, so a failing embedded check means the code
        # was not issued that way (stdnum ignores this). It is flagged invalid like any other
        # failed check; the record is still kept, and org_code_of still trusts these 9 chars
        # because the USCC's own check vouches for them.
        embedded = _org_code_problem(org_code, "embedded organization code")
        if embedded is not None:
            problem = f"{embedded} ({org_code[:8]}-{org_code[8]})"
    return Identifier(
        kind=IdentifierKind.USCC,
        raw=raw_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        org_code=org_code,
        division=value[2:8] if shaped and is_digits(value[2:8]) else None,
    )


# --------------------------------------------------------------------------- old business codes


def validate_taxpayer_number(raw: str | None) -> Identifier:
    """Validate an old 15-character taxpayer number: 6-digit division + 9-char org code."""
    value = clean_code(raw)
    problem: str | None
    if len(value) != 15:
        problem = f"taxpayer number must be 15 characters, got {len(value)}"
    elif not is_digits(value[:6]):
        problem = f"taxpayer number must start with a 6-digit division code, got {value[:6]!r}"
    else:
        problem = _org_code_problem(value[6:], "taxpayer number organization code")
    shaped = len(value) == 15
    return Identifier(
        kind=IdentifierKind.TAXPAYER_NUMBER,
        raw=raw_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        org_code=value[6:] if shaped and is_alnum(value[6:]) else None,
        division=value[:6] if shaped and is_digits(value[:6]) else None,
    )


def validate_registration_number(raw: str | None) -> Identifier:
    """Validate an old 15-digit business registration number (注册号, ISO 7064 MOD 11,10)."""
    value = clean_code(raw)
    problem: str | None = None
    if len(value) != 15:
        problem = f"registration number must be 15 digits, got {len(value)} characters"
    elif not is_digits(value):
        problem = "registration number must be all digits"
    elif not mod_11_10.is_valid(value):
        expected = mod_11_10.calc_check_digit(value[:-1])
        problem = f"registration number check digit should be {expected!r}, got {value[-1]!r}"
    return Identifier(
        kind=IdentifierKind.REGISTRATION_NUMBER,
        raw=raw_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        division=value[:6] if len(value) == 15 and is_digits(value[:6]) else None,
    )


def org_code_of_identifier(ident: Identifier) -> str | None:
    """:func:`matching.identifiers.org_code_of` for an identifier already parsed (as a USCC,
    organization code or taxpayer number; any other kind gives None), without parsing it
    again."""
    code = ident.org_code
    if ident.kind not in ORG_CODE_CARRIERS or code is None:
        return None
    if _org_code_problem(code) is None:
        return code
    if ident.kind is IdentifierKind.USCC and uscc_check_problem(ident.value) is None:
        return code
    return None
