"""Chinese entity and person identifiers: clean-up, classification, validation and join keys.

Covers the Unified Social Credit Code (USCC, GB 32100-2015), the old organization code
(GB 11714), the old 15-character taxpayer number (division + organization code), the old
15-digit business registration number (注册号, ISO 7064 MOD 11,10), resident identity numbers
(GB 11643-1999, 18 digits and the old 15-digit form) and the masked resident numbers that
public lists publish (``330106********1234``).

Checks come from python-stdnum (``stdnum.cn.uscc``, ``stdnum.cn.ric``,
``stdnum.iso7064.mod_11_10``). Only the GB 11714 organization-code check and the masked-ID
handling are written here, because python-stdnum does not cover them. Where stdnum rejects
correctly issued numbers, the module relaxes it, still using stdnum's own check and table:
USCCs whose registration authority is a letter (N agriculture, Y other, A military), and
resident numbers whose address code was created after the holder's birth.

Nothing here raises on bad input: every validator returns an :class:`Identifier` carrying
``valid`` and a human-readable ``problem``, because a record with a bad code is kept and
flagged, never dropped.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.iso7064 import mod_11_10

__all__ = [
    "Identifier",
    "IdentifierKind",
    "MaskedId",
    "clean_code",
    "mask_resident_id",
    "masked_id_compatible",
    "org_code_check_char",
    "org_code_of",
    "org_code_of_identifier",
    "parse_identifier",
    "parse_masked_id",
    "resident_id_birth_date",
    "resident_id_sex",
    "upgrade_resident_id_15",
    "uscc_matches_old_code",
    "validate_masked_id",
    "validate_org_code",
    "validate_other",
    "validate_registration_number",
    "validate_resident_id",
    "validate_taxpayer_number",
    "validate_uscc",
]

# Separators people and spreadsheets put inside codes (after NFKC the full-width forms are
# already ASCII). Commas are deliberately kept: they separate codes rather than split one.
_SEPARATORS = frozenset("-‐‑‒–—―−﹣－·•・‧._/")
_MASK = "*"
_DIGITS = "0123456789"
# Only used to explain format errors and for the letter-prefixed codes stdnum rejects; the
# USCC check itself is stdnum's.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE_OF = {ch: value for value, ch in enumerate(_ORG_VALUES)}
# Check character by 11 - (weighted sum mod 11), which is 1..11: 10 is X, 11 is 0.
_ORG_CHECK_CHARS = ("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0")
# A generic code longer than this is almost certainly a whole text field pasted in.
_OTHER_MAX_LENGTH = 64


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


@dataclass(frozen=True, slots=True)
class MaskedId:
    """What a masked resident number still shows.

    ``pattern`` is the cleaned masked string; when it has a full number's length it lets
    :func:`masked_id_compatible` compare every visible position, not just the named parts.
    """

    region: str | None
    birth_date: date | None
    tail: str | None
    length: int
    pattern: str = ""


# --------------------------------------------------------------------------- clean-up


def _text(raw: object) -> str:
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else str(raw)


def clean_code(raw: str | None) -> str:
    """NFKC-normalise, upper-case and drop whitespace, separators and invisible characters."""
    text = unicodedata.normalize("NFKC", _text(raw)).upper()
    if text.isascii() and text.isalnum():
        return text  # the common case: nothing to drop
    return "".join(
        ch
        for ch in text
        if not (ch.isspace() or ch in _SEPARATORS or unicodedata.category(ch) == "Cf")
    )


def _is_digits(text: str) -> bool:
    # str.isdigit alone accepts other scripts' digits and superscripts, which int() then
    # misreads or rejects.
    return text.isascii() and text.isdigit()


def _is_alnum(text: str) -> bool:
    return text.isascii() and text.isalnum()


def _count_digits(text: str) -> int:
    return sum(ch in _DIGITS for ch in text)


def _date_from(yyyymmdd: str) -> date | None:
    if len(yyyymmdd) != 8 or not _is_digits(yyyymmdd):
        return None
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None


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


# The three ``_*_problem`` checks are cached: classifying one code asks each of them the same
# question several times (as USCC and as resident id, then again for the organization code).
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
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        org_code=value if len(value) == 9 and _is_alnum(value) else None,
    )


# --------------------------------------------------------------------------- USCC


@functools.lru_cache(maxsize=1 << 12)
def _uscc_check_problem(value: str) -> str | None:
    """Length, format and USCC check character only (not the embedded organization code)."""
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
        if 3 <= position <= 8 and ch not in _DIGITS:
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
    problem = _uscc_check_problem(value)
    shaped = len(value) == 18
    org_code = value[8:17] if shaped and _is_alnum(value[8:17]) else None
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
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        org_code=org_code,
        division=value[2:8] if shaped and _is_digits(value[2:8]) else None,
    )


# --------------------------------------------------------------------------- old business codes


def validate_taxpayer_number(raw: str | None) -> Identifier:
    """Validate an old 15-character taxpayer number: 6-digit division + 9-char org code."""
    value = clean_code(raw)
    problem: str | None
    if len(value) != 15:
        problem = f"taxpayer number must be 15 characters, got {len(value)}"
    elif not _is_digits(value[:6]):
        problem = f"taxpayer number must start with a 6-digit division code, got {value[:6]!r}"
    else:
        problem = _org_code_problem(value[6:], "taxpayer number organization code")
    shaped = len(value) == 15
    return Identifier(
        kind=IdentifierKind.TAXPAYER_NUMBER,
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        org_code=value[6:] if shaped and _is_alnum(value[6:]) else None,
        division=value[:6] if shaped and _is_digits(value[:6]) else None,
    )


def validate_registration_number(raw: str | None) -> Identifier:
    """Validate an old 15-digit business registration number (注册号, ISO 7064 MOD 11,10)."""
    value = clean_code(raw)
    problem: str | None = None
    if len(value) != 15:
        problem = f"registration number must be 15 digits, got {len(value)} characters"
    elif not _is_digits(value):
        problem = "registration number must be all digits"
    elif not mod_11_10.is_valid(value):
        expected = mod_11_10.calc_check_digit(value[:-1])
        problem = f"registration number check digit should be {expected!r}, got {value[-1]!r}"
    return Identifier(
        kind=IdentifierKind.REGISTRATION_NUMBER,
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        division=value[:6] if len(value) == 15 and _is_digits(value[:6]) else None,
    )


# --------------------------------------------------------------------------- resident id


def upgrade_resident_id_15(id15: str) -> str:
    """Upgrade a 15-digit resident number to 18 digits (``19`` after the address + check).

    Anything that is not 15 digits comes back cleaned but otherwise unchanged.
    """
    value = clean_code(id15)
    if len(value) != 15 or not _is_digits(value):
        return value
    body = value[:6] + "19" + value[6:]
    # stdnum's calc_check_digit expects the number with a check position, which it ignores.
    return body + ric.calc_check_digit(body + "0")


def _resident_id_18(raw: str | None) -> str | None:
    """The 18-character form of a full (unmasked) resident number, or None if not shaped so."""
    value = clean_code(raw)
    if len(value) == 15 and _is_digits(value):
        return upgrade_resident_id_15(value)
    if len(value) == 18 and _is_digits(value[:17]) and (value[17] in _DIGITS or value[17] == "X"):
        return value
    return None


def _region_problem(region: str, birth_year: int) -> str | None:
    # stdnum compares the address code with the *birth* year, but the code printed is the one
    # in force when the card was issued (1984 at the earliest, always after birth): someone
    # born in 1950 in Hangzhou carries 330106, a code created in 1983, and stdnum rejects them.
    # So a code is accepted if it was in force in any year from birth until today (starting at
    # 1900 at the latest: stdnum's table has no earlier dates, and an absurd birth year must
    # not cost centuries of look-ups).
    for year in range(max(birth_year, 1900), date.today().year + 1):
        try:
            ric.get_birth_place(f"{region}{year:04d}0101")
        except (ValueError, KeyError):
            # KeyError: stdnum 2.2 fails that way on an unknown county in a known province.
            continue
        return None
    known = any("county" in props for _, props in numdb.get("cn/loc").info(region))
    if not known:
        return f"resident id region code {region!r} is not a known administrative division"
    return f"resident id region code {region!r} was abolished before birth year {birth_year}"


@functools.lru_cache(maxsize=1 << 12)
def _resident_id_problem(number: str) -> str | None:
    try:
        ric.validate(number)
    except InvalidLength:
        return f"resident id must be 18 (or 15) characters, got {len(number)}"
    except InvalidFormat:
        return "resident id must be 17 digits followed by a digit or 'X'"
    except InvalidChecksum:
        return (
            f"resident id check character should be {ric.calc_check_digit(number)!r}, "
            f"got {number[-1]!r}"
        )
    except (ValueError, KeyError):
        # Birth date or birth place; told apart below so the reason is specific.
        birth = _date_from(number[6:14])
        if birth is None:
            return f"resident id birth date {number[6:14]!r} is not a valid date"
        problem = _region_problem(number[:6], birth.year)
        if problem is not None:
            return problem
    birth = _date_from(number[6:14])
    if birth is not None and birth > date.today():
        return f"resident id birth date {birth.isoformat()} is in the future"
    return None


def validate_resident_id(raw: str | None) -> Identifier:
    """Validate an 18- or 15-digit resident number; 15 digits are upgraded into ``value``.

    A masked number (with ``*``) is handed to :func:`validate_masked_id`.
    """
    value = clean_code(raw)
    if _MASK in value:
        return validate_masked_id(raw)
    kind = IdentifierKind.RESIDENT_ID
    if len(value) == 15:
        kind = IdentifierKind.RESIDENT_ID_15
        if not _is_digits(value):
            problem: str | None = "15-digit resident id must be all digits"
        else:
            value = upgrade_resident_id_15(value)
            problem = _resident_id_problem(value)
    elif len(value) == 18:
        problem = _resident_id_problem(value)
    else:
        problem = f"resident id must be 18 (or 15) characters, got {len(value)}"
    shaped = len(value) == 18
    return Identifier(
        kind=kind,
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        division=value[:6] if shaped and _is_digits(value[:6]) else None,
        birth_date=_date_from(value[6:14]) if shaped else None,
    )


def resident_id_birth_date(number: str | None) -> date | None:
    """Birth date of an 18- or 15-digit resident number; None if it has no valid date."""
    full = _resident_id_18(number)
    return None if full is None else _date_from(full[6:14])


def resident_id_sex(number: str | None) -> str | None:
    """``"M"`` if the sequence number (17th digit of the 18) is odd, ``"F"`` if even."""
    full = _resident_id_18(number)
    if full is None:
        return None
    return "M" if int(full[16]) % 2 else "F"


def mask_resident_id(number: str | None) -> str:
    """Publishable form: first 6 and last 4 characters kept, the middle masked.

    Strings of 10 characters or fewer are masked entirely, since keeping 6 + 4 would show
    everything.
    """
    value = clean_code(number)
    if len(value) <= 10:
        return _MASK * len(value)
    return value[:6] + _MASK * (len(value) - 10) + value[-4:]


# --------------------------------------------------------------------------- masked id


def parse_masked_id(raw: str | None) -> MaskedId | None:
    """What a masked resident number shows; None if nothing is masked (no ``*``).

    Positions are only trusted when the length is a full number's (18, or 15 for the old
    form); lists that shorten the mask (``330106****1234``) still give region and tail.
    """
    value = clean_code(raw)
    if _MASK not in value:
        return None
    length = len(value)
    region = value[:6] if length >= 6 and _is_digits(value[:6]) else None
    tail_text = value[-4:]
    tail_ok = _is_digits(tail_text[:3]) and (tail_text[3] in _DIGITS or tail_text[3] == "X")
    tail = tail_text if length >= 10 and tail_ok else None
    birth: date | None = None
    if length == 18:
        birth = _date_from(value[6:14])
    elif length == 15 and _is_digits(value[6:12]):
        birth = _date_from("19" + value[6:12])
    return MaskedId(region=region, birth_date=birth, tail=tail, length=length, pattern=value)


def _masked_problem(value: str) -> str | None:
    length = len(value)
    if length not in (15, 18):
        return (
            f"masked resident id has {length} characters, expected 18 (or 15); "
            "only region and tail can be compared"
        )
    for position, ch in enumerate(value, start=1):
        if ch == _MASK or ch in _DIGITS or (ch == "X" and position == 18):
            continue
        return f"masked resident id character {position} must be a digit or '*', got {ch!r}"
    if all(ch == _MASK for ch in value):
        return "masked resident id shows no characters"
    date_part = value[6:14] if length == 18 else "19" + value[6:12]
    if _MASK not in date_part and _date_from(date_part) is None:
        return f"masked resident id birth date {date_part!r} is not a valid date"
    return None


def validate_masked_id(raw: str | None) -> Identifier:
    """Validate the shape of a masked resident number; without ``*`` it is validated in full."""
    value = clean_code(raw)
    masked = parse_masked_id(value)
    if masked is None:
        return validate_resident_id(raw)
    problem = _masked_problem(value)
    return Identifier(
        kind=IdentifierKind.MASKED_ID,
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        division=masked.region,
        birth_date=masked.birth_date,
    )


def masked_id_compatible(full: str | None, masked: str | MaskedId | None) -> bool:
    """Whether a full resident number agrees with every visible part of a masked one.

    A 15-digit full number is upgraded first; a 15-character mask is compared with the
    15-digit form of the full number (which only exists for people born in 19xx).
    """
    mask = masked if isinstance(masked, MaskedId) else parse_masked_id(masked)
    number = _resident_id_18(full)
    if mask is None or number is None:
        return False
    target = number
    if mask.length == 15:
        if number[6:8] != "19":
            return False
        target = number[:6] + number[8:17]
    if mask.region is not None and number[:6] != mask.region:
        return False
    if mask.birth_date is not None and _date_from(number[6:14]) != mask.birth_date:
        return False
    if mask.tail is not None and target[-4:] != mask.tail:
        return False
    if len(mask.pattern) == len(target):
        return all(m in (_MASK, c) for m, c in zip(mask.pattern, target, strict=True))
    return True


# --------------------------------------------------------------------------- generic codes


def validate_other(raw: str | None) -> Identifier:
    """A code of no known scheme: valid if it is a plausible code at all (letters/digits)."""
    value = clean_code(raw)
    problem: str | None = None
    if not value:
        problem = "empty identifier"
    elif len(value) > _OTHER_MAX_LENGTH:
        problem = f"identifier is {len(value)} characters long, more than {_OTHER_MAX_LENGTH}"
    else:
        bad = next((ch for ch in value if not ch.isalnum()), None)
        if bad is not None:
            problem = f"identifier contains {bad!r}, which no code uses"
    return Identifier(
        kind=IdentifierKind.OTHER,
        raw=_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
    )


# --------------------------------------------------------------------------- classification


def _looks_like_resident_id(value: str) -> bool:
    if _resident_id_18(value) is None:
        return False
    birth = _date_from(value[6:14])
    return birth is not None and 1900 <= birth.year <= date.today().year


def _classify_18(raw: str | None, value: str) -> Identifier:
    as_uscc = validate_uscc(raw)
    if not (_is_digits(value[:17]) and value[17] in "0123456789X"):
        # Not shaped like a resident id (most USCCs: letters in the organization code or
        # check), so it cannot pass as one and every branch below would choose the USCC.
        return as_uscc
    as_resident = validate_resident_id(raw)
    if as_uscc.valid and as_resident.valid:
        # Both checks pass (USCCs of government bodies and social organisations start with
        # region-like digits). The resident id also needs a known division in force at a real
        # birth date, far less likely by chance than one USCC check char in 31: prefer it.
        return replace(as_resident, alternatives=(IdentifierKind.USCC,))
    if as_uscc.valid:
        return as_uscc
    if as_resident.valid:
        return as_resident
    if _uscc_check_problem(value) is None:
        # Only the embedded organization code fails; the USCC check (1 in 31 by chance)
        # is stronger evidence than any shape guess.
        return as_uscc
    return as_resident if _looks_like_resident_id(value) else as_uscc


def _classify_15(raw: str | None, value: str) -> Identifier:
    candidates = [
        validate_registration_number(raw),
        validate_taxpayer_number(raw),
        validate_resident_id(raw),
    ]
    passing = [c for c in candidates if c.valid]
    if passing:
        return replace(passing[0], alternatives=tuple(c.kind for c in passing[1:]))
    reasons = "; ".join(c.problem or "" for c in candidates)
    chosen = candidates[0] if _is_digits(value) else candidates[1]
    return replace(chosen, problem=f"matches no 15-character format ({reasons})")


def _classify_17(raw: str | None, value: str) -> Identifier:
    as_resident = validate_resident_id(raw)
    if _is_digits(value[:16]) and _date_from(value[6:14]) is not None:
        return as_resident
    return validate_uscc(raw)


_VALIDATORS: dict[IdentifierKind, Callable[[str | None], Identifier]] = {
    IdentifierKind.USCC: validate_uscc,
    IdentifierKind.ORG_CODE: validate_org_code,
    IdentifierKind.TAXPAYER_NUMBER: validate_taxpayer_number,
    IdentifierKind.REGISTRATION_NUMBER: validate_registration_number,
    IdentifierKind.RESIDENT_ID: validate_resident_id,
    IdentifierKind.RESIDENT_ID_15: validate_resident_id,
    IdentifierKind.MASKED_ID: validate_masked_id,
    IdentifierKind.OTHER: validate_other,
}


@functools.lru_cache(maxsize=1 << 16)
def parse_identifier(raw: str | None, kind: IdentifierKind | None = None) -> Identifier:
    """Clean, classify (unless ``kind`` is given) and validate one identifier.

    With ``kind`` that kind's validator is used as is (both resident kinds share one, which
    reports 15 or 18 digits by length, and masked numbers go to the masked-id validator).
    Without it the cleaned string is classified by shape:

    * contains ``*``: masked resident number.
    * 18 letters/digits with at least 6 digits among the first 8: a USCC if it passes as one,
      else a resident number if it passes as one (both passing: USCC, with ``RESIDENT_ID`` in
      ``alternatives``); failing both, a USCC if only its embedded organization code fails,
      else a resident number if it is 17 digits + digit/X with a plausible birth date at
      [6:14], else a USCC. The last two come back invalid.
    * 15 letters/digits with at least 5 digits among the first 6: registration number, then
      taxpayer number, then 15-digit resident number, the first that passes winning and the
      others that pass listed in ``alternatives``. The order follows the strength of the
      evidence and what feeds carry: the registration check digit and the organization-code
      check both catch random strings, the 15-digit resident number has no check at all and
      unmasked ones are rare in public data. Passing none: an invalid registration number
      (all digits) or taxpayer number (with letters), the problem naming all three failures.
    * 17 such characters: a USCC or resident number with a character lost, flagged invalid.
    * 9 letters/digits: organization code (``60003734-1`` cleans to this).
    * anything else: :data:`IdentifierKind.OTHER`, valid when it is a non-empty run of
      letters/digits of at most 64 characters.

    Pass ``kind`` whenever the column says what the code is; shape alone cannot separate,
    e.g., a 15-digit resident number that happens to satisfy the MOD 11,10 check.
    """
    if kind is not None:
        return _VALIDATORS[kind](raw)
    value = clean_code(raw)
    if _MASK in value:
        return validate_masked_id(raw)
    length = len(value)
    if _is_alnum(value):
        if length == 18 and _count_digits(value[:8]) >= 6:
            return _classify_18(raw, value)
        if length == 15 and _count_digits(value[:6]) >= 5:
            return _classify_15(raw, value)
        if length == 17 and _count_digits(value[:8]) >= 6:
            return _classify_17(raw, value)
        if length == 9:
            return validate_org_code(raw)
    return validate_other(raw)


# --------------------------------------------------------------------------- join keys

_ORG_CODE_CARRIERS = frozenset(
    {IdentifierKind.USCC, IdentifierKind.ORG_CODE, IdentifierKind.TAXPAYER_NUMBER}
)


def org_code_of(raw: str | None, kind: IdentifierKind | None = None) -> str | None:
    """The 9-character organization code linking a USCC, org code or taxpayer number.

    It is the join key between old and new codes. It is only returned when a check vouches for
    those 9 characters (their own GB 11714 check, or for a USCC the USCC check), since a
    mistyped key would join the record to the wrong entity. ``kind`` is passed on to
    :func:`parse_identifier`; without it an all-digit 15-character string that reads both as a
    registration number and as a taxpayer number yields its key (confirm such a join with
    :func:`uscc_matches_old_code`, which also compares the division).
    """
    ident = parse_identifier(raw, kind)
    ambiguous = IdentifierKind.TAXPAYER_NUMBER in ident.alternatives
    if ambiguous and ident.kind not in _ORG_CODE_CARRIERS:
        ident = validate_taxpayer_number(raw)
    return org_code_of_identifier(ident)


def org_code_of_identifier(ident: Identifier) -> str | None:
    """:func:`org_code_of` for an identifier already parsed (as a USCC, organization code or
    taxpayer number; any other kind gives None), without parsing it again."""
    code = ident.org_code
    if ident.kind not in _ORG_CODE_CARRIERS or code is None:
        return None
    if _org_code_problem(code) is None:
        return code
    if ident.kind is IdentifierKind.USCC and _uscc_check_problem(ident.value) is None:
        return code
    return None


def uscc_matches_old_code(uscc_code: str | None, old: str | None) -> bool:
    """Whether an old org code or taxpayer number (or a USCC) belongs to this USCC.

    The organization code must agree; for a 15-character old code, read as a taxpayer number,
    the division must also equal the USCC's registration division (USCC[2:8]).
    """
    new = validate_uscc(uscc_code)
    key = org_code_of(new.value, IdentifierKind.USCC)
    if key is None:
        return False
    other = parse_identifier(old)
    if other.kind is IdentifierKind.USCC:
        return other.value == new.value
    if len(other.value) == 15:
        # Read as a taxpayer number even when it also passes as a registration number: the
        # division and organization-code checks together make a chance match negligible.
        other = validate_taxpayer_number(old)
        return other.valid and other.org_code == key and other.division == new.division
    return other.kind is IdentifierKind.ORG_CODE and other.valid and other.value == key
