"""Any identifier: classification by shape (:func:`parse_identifier`), generic codes of no
known scheme, and the organization code as the join key between old and new codes.

The schemes themselves live in :mod:`matching.org_codes` (USCC, organization code, taxpayer and
registration numbers) and :mod:`matching.resident_ids` (resident numbers, masked ones
included); what they share (:class:`~matching.identifier_types.Identifier`, ``clean_code``) in
:mod:`matching.identifier_types`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

from .identifier_types import (
    MASK,
    Identifier,
    IdentifierKind,
    clean_code,
    count_digits,
    date_from,
    is_alnum,
    is_digits,
    raw_text,
)
from .org_codes import (
    ORG_CODE_CARRIERS,
    org_code_of_identifier,
    uscc_check_problem,
    validate_org_code,
    validate_registration_number,
    validate_taxpayer_number,
    validate_uscc,
)
from .resident_ids import looks_like_resident_id, validate_masked_id, validate_resident_id

__all__ = [
    "org_code_of",
    "parse_identifier",
    "uscc_matches_old_code",
    "validate_other",
]

# A generic code longer than this is almost certainly a whole text field pasted in.
_OTHER_MAX_LENGTH = 64


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
        raw=raw_text(raw),
        value=value,
        valid=problem is None,
        problem=problem,
    )


# --------------------------------------------------------------------------- classification


def _classify_18(raw: str | None, value: str) -> Identifier:
    as_uscc = validate_uscc(raw)
    if not (is_digits(value[:17]) and value[17] in "0123456789X"):
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
    if uscc_check_problem(value) is None:
        # Only the embedded organization code fails; the USCC check (1 in 31 by chance)
        # is stronger evidence than any shape guess.
        return as_uscc
    return as_resident if looks_like_resident_id(value) else as_uscc


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
    chosen = candidates[0] if is_digits(value) else candidates[1]
    return replace(chosen, problem=f"matches no 15-character format ({reasons})")


def _classify_17(raw: str | None, value: str) -> Identifier:
    as_resident = validate_resident_id(raw)
    if is_digits(value[:16]) and date_from(value[6:14]) is not None:
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
    if MASK in value:
        return validate_masked_id(raw)
    length = len(value)
    if is_alnum(value):
        if length == 18 and count_digits(value[:8]) >= 6:
            return _classify_18(raw, value)
        if length == 15 and count_digits(value[:6]) >= 5:
            return _classify_15(raw, value)
        if length == 17 and count_digits(value[:8]) >= 6:
            return _classify_17(raw, value)
        if length == 9:
            return validate_org_code(raw)
    return validate_other(raw)


# --------------------------------------------------------------------------- join keys


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
    if ambiguous and ident.kind not in ORG_CODE_CARRIERS:
        ident = validate_taxpayer_number(raw)
    return org_code_of_identifier(ident)


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
