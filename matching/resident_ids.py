"""Resident identity numbers (GB 11643-1999, 18 digits and the old 15-digit form) and the
masked numbers that public lists publish (``330106********1234``).

Checks come from python-stdnum (``stdnum.cn.ric``); the masked-number handling is written here,
because python-stdnum does not cover it. Where stdnum rejects correctly issued numbers (an
address code created after the holder's birth), the module relaxes it, still using stdnum's own
check and table.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

from .identifier_types import (
    DIGITS,
    MASK,
    Identifier,
    IdentifierKind,
    clean_code,
    date_from,
    is_digits,
    raw_text,
)

__all__ = [
    "GENDER_WORDS",
    "MaskedId",
    "PersonFacts",
    "gender_key",
    "looks_like_resident_id",
    "mask_resident_id",
    "masked_id_compatible",
    "masked_id_sex",
    "parse_masked_id",
    "person_facts",
    "resident_id_birth_date",
    "resident_id_sex",
    "upgrade_resident_id_15",
    "validate_masked_id",
    "validate_resident_id",
]


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


# --------------------------------------------------------------------------- resident id


def upgrade_resident_id_15(id15: str) -> str:
    """Upgrade a 15-digit resident number to 18 digits (``19`` after the address + check).

    Anything that is not 15 digits comes back cleaned but otherwise unchanged.
    """
    value = clean_code(id15)
    if len(value) != 15 or not is_digits(value):
        return value
    body = value[:6] + "19" + value[6:]
    # stdnum's calc_check_digit expects the number with a check position, which it ignores.
    return body + ric.calc_check_digit(body + "0")


def _resident_id_18(raw: str | None) -> str | None:
    """The 18-character form of a full (unmasked) resident number, or None if not shaped so."""
    value = clean_code(raw)
    if len(value) == 15 and is_digits(value):
        return upgrade_resident_id_15(value)
    if len(value) == 18 and is_digits(value[:17]) and (value[17] in DIGITS or value[17] == "X"):
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
        birth = date_from(number[6:14])
        if birth is None:
            return f"resident id birth date {number[6:14]!r} is not a valid date"
        problem = _region_problem(number[:6], birth.year)
        if problem is not None:
            return problem
    birth = date_from(number[6:14])
    if birth is not None and birth > date.today():
        return f"resident id birth date {birth.isoformat()} is in the future"
    return None


def validate_resident_id(raw: str | None) -> Identifier:
    """Validate an 18- or 15-digit resident number; 15 digits are upgraded into ``value``.

    A masked number (with ``*``) is handed to :func:`validate_masked_id`.
    """
    value = clean_code(raw)
    if MASK in value:
        return validate_masked_id(raw)
    kind = IdentifierKind.RESIDENT_ID
    if len(value) == 15:
        kind = IdentifierKind.RESIDENT_ID_15
        if not is_digits(value):
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
        raw=raw_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
        division=value[:6] if shaped and is_digits(value[:6]) else None,
        birth_date=date_from(value[6:14]) if shaped else None,
    )


def resident_id_birth_date(number: str | None) -> date | None:
    """Birth date of an 18- or 15-digit resident number; None if it has no valid date."""
    full = _resident_id_18(number)
    return None if full is None else date_from(full[6:14])


def resident_id_sex(number: str | None) -> str | None:
    """``"M"`` if the sequence number (17th digit of the 18) is odd, ``"F"`` if even."""
    full = _resident_id_18(number)
    if full is None:
        return None
    return "M" if int(full[16]) % 2 else "F"


# How feeds write a person's gender, as the letters resident_id_sex gives: 男/女, M/F,
# male/female, the GB/T 2261.1 codes 1/2; its codes for unknown and not stated (0, 9, 未知,
# 未说明) are words for no gender.
GENDER_WORDS: dict[str, str | None] = {
    "男": "M",
    "男性": "M",
    "M": "M",
    "MALE": "M",
    "1": "M",
    "女": "F",
    "女性": "F",
    "F": "F",
    "FEMALE": "F",
    "2": "F",
    "0": None,
    "9": None,
    "未知": None,
    "未说明": None,
}


def gender_key(value: str) -> str:
    """``value`` as :data:`GENDER_WORDS` spells its keys (NFKC, trimmed, upper case)."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def mask_resident_id(number: str | None) -> str:
    """Publishable form: first 6 and last 4 characters kept, the middle masked.

    Strings of 10 characters or fewer are masked entirely, since keeping 6 + 4 would show
    everything.
    """
    value = clean_code(number)
    if len(value) <= 10:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


def masked_id_sex(mask: MaskedId) -> str | None:
    """The sex a masked number still shows: its sequence number's last digit, when the tail is
    visible and the length says where that digit is (second to last of the 18, last of the 15)."""
    if mask.tail is None:
        return None
    digit = mask.tail[2] if mask.length == 18 else mask.tail[3] if mask.length == 15 else ""
    return ("M" if int(digit) % 2 else "F") if digit.isdigit() else None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What a resident number, full or masked, tells of its holder: the region (division) code,
    the birth date and the sex (``"M"`` / ``"F"``), each None when not shown."""

    region: str | None
    birth_date: date | None
    sex: str | None


@functools.lru_cache(maxsize=1 << 14)
def person_facts(raw: str | None) -> PersonFacts | None:
    """Region, birth date and sex read from an 18-digit, 15-digit or masked resident number
    (by shape: the number's checks are :func:`validate_resident_id`'s business); None for
    anything else."""
    value = clean_code(raw)
    if MASK in value:
        mask = parse_masked_id(value)
        if mask is None:
            return None
        return PersonFacts(mask.region, mask.birth_date, masked_id_sex(mask))
    full = _resident_id_18(value)
    if full is None:
        return None
    region = full[:6] if is_digits(full[:6]) else None
    return PersonFacts(region, date_from(full[6:14]), "M" if int(full[16]) % 2 else "F")


# --------------------------------------------------------------------------- masked id


def parse_masked_id(raw: str | None) -> MaskedId | None:
    """What a masked resident number shows; None if nothing is masked (no ``*``).

    Positions are only trusted when the length is a full number's (18, or 15 for the old
    form); lists that shorten the mask (``330106****1234``) still give region and tail.
    """
    value = clean_code(raw)
    if MASK not in value:
        return None
    length = len(value)
    region = value[:6] if length >= 6 and is_digits(value[:6]) else None
    tail_text = value[-4:]
    tail_ok = is_digits(tail_text[:3]) and (tail_text[3] in DIGITS or tail_text[3] == "X")
    tail = tail_text if length >= 10 and tail_ok else None
    birth: date | None = None
    if length == 18:
        birth = date_from(value[6:14])
    elif length == 15 and is_digits(value[6:12]):
        birth = date_from("19" + value[6:12])
    return MaskedId(region=region, birth_date=birth, tail=tail, length=length, pattern=value)


def _masked_problem(value: str) -> str | None:
    length = len(value)
    if length not in (15, 18):
        return (
            f"masked resident id has {length} characters, expected 18 (or 15); "
            "only region and tail can be compared"
        )
    for position, ch in enumerate(value, start=1):
        if ch == MASK or ch in DIGITS or (ch == "X" and position == 18):
            continue
        return f"masked resident id character {position} must be a digit or '*', got {ch!r}"
    if all(ch == MASK for ch in value):
        return "masked resident id shows no characters"
    date_part = value[6:14] if length == 18 else "19" + value[6:12]
    if MASK not in date_part and date_from(date_part) is None:
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
        raw=raw_text(raw),
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
    if mask.birth_date is not None and date_from(number[6:14]) != mask.birth_date:
        return False
    if mask.tail is not None and target[-4:] != mask.tail:
        return False
    if len(mask.pattern) == len(target):
        return all(m in (MASK, c) for m, c in zip(mask.pattern, target, strict=True))
    return True


def looks_like_resident_id(value: str) -> bool:
    """A full number's shape with a plausible birth date, whatever its checks say (how
    classification reads an 18-character code that passes no check)."""
    if _resident_id_18(value) is None:
        return False
    birth = date_from(value[6:14])
    return birth is not None and 1900 <= birth.year <= date.today().year
