"""Personal numbers in free text: resident id numbers, mobile and landline phone numbers, found
in whatever way people write them, and masked.

One function, :func:`mask_personal_numbers`, is the service's only way of masking them: the
API, the web pages, the public lookup, every export format and the CLI go through it (via
``core.rules.sharing``, which picks the level from the caller's role).

What is found (written here by hand: python-stdnum validates a number, it does not find one
in prose):

* resident ids, 18 characters (17 digits + digit or ``X``) or the old 15 digits, with spaces or
  dashes anywhere between the digits, in full-width digits, glued to letters or Chinese text
  (``ID110101196411122171``, ``身份证110101196411122171号``, ``110101196411122171x``). An 18-
  character candidate counts when its check character is right *or* it reads as a region code
  and a birth date (a mistyped id is still a person's id); a 15-digit one when it holds a birth
  date. Other long digit runs (all-digit codes, account numbers) are left alone.
* mobile numbers: 11 digits ``1[3-9]x xxxx xxxx``, with ``+86`` / ``0086`` / ``86`` in front,
  spaces or dashes between the digits, full-width digits.
* landlines: ``0`` + a 2-3 digit area code + 7-8 digits, the area code maybe in brackets, with
  ``-`` or a space.

Masking levels (:class:`MaskLevel`): ``NONE`` shows all; ``PARTIAL`` (government roles without
full identifiers) keeps a resident id's first 6 and last 4 characters (``110101********2171``),
a mobile's first 3 and last 4 digits (``138****5678``) and a landline's area code and last 4
digits (``010-****5678``); ``PUBLIC`` also stars out resident ids entirely, masked ones as well
(the public sees no identifiers at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

from stdnum.cn import ric

__all__ = ["MaskLevel", "PersonalNumber", "find_personal_numbers", "mask_personal_numbers"]


class MaskLevel(Enum):
    NONE = "none"
    PARTIAL = "partial"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class PersonalNumber:
    """A personal number found in a text: ``text[start:end]`` as written, ``digits`` as read
    (ASCII, no separators, country prefix dropped, ``X`` upper case)."""

    kind: str  # "resident_id", "mobile" or "landline"
    start: int
    end: int
    digits: str


# Full-width digits, letters X/x, dash, brackets and the ideographic space read as their ASCII
# forms; one character for one, so positions in the translated text are positions in the text.
_WIDE = {0xFF10 + i: str(i) for i in range(10)}
_WIDE.update({0xFF38: "X", 0xFF58: "x", 0xFF0B: "+", 0xFF08: "(", 0xFF09: ")", 0x3000: " "})
_WIDE.update({ord(dash): "-" for dash in "\uff0d\u2010\u2011\u2012\u2013\u2014\u2212"})

_SEP = r"[ \-]?"
_ID_18 = re.compile(rf"(?<!\d)\d(?:{_SEP}\d){{16}}{_SEP}[\dXx](?!\d)")
_ID_15 = re.compile(rf"(?<!\d)\d(?:{_SEP}\d){{14}}(?!\d)")
_MOBILE = re.compile(
    rf"(?<![\d+])(?P<prefix>(?:\+|00)?86{_SEP})?(?P<number>1[3-9](?:{_SEP}\d){{9}})(?!\d)"
)
_LANDLINE = re.compile(
    r"(?<!\d)(?P<area>\(0\d{2,3}\)|0\d{2,3})[ \-]?"
    r"(?P<local>[1-9]\d{2,3}[ \-]?\d{4})(?!\d)"
)
# What PARTIAL masking leaves of an id (``110101********2171``): the public sees none of it.
_MASKED_ID = re.compile(r"(?<![0-9A-Za-z])\d{6}\*{5,8}\d{3}[\dXx](?![0-9A-Za-z])")
# Every number found has at least 10 digits; most texts have far fewer, and this is cheap.
_TEN_DIGITS = re.compile(r"\d(?:\D{0,3}\d){9}")
_SEPARATORS = str.maketrans("", "", " -()+")


def _plain(text: str) -> str:
    return text.translate(_WIDE)


def _is_id_18(digits: str) -> bool:
    if not digits[:17].isdigit():
        return False
    if digits[17] == ric.calc_check_digit(digits):
        return True
    # A wrong check character: still an id if it reads as one (a region, a birth date).
    return _birth_date_ok(digits[6:14]) and digits[0] in "123456789"


def _is_id_15(digits: str) -> bool:
    return digits[0] in "123456789" and _birth_date_ok("19" + digits[6:12])


def _birth_date_ok(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= born.year <= date.today().year


def find_personal_numbers(text: str) -> list[PersonalNumber]:
    """Every resident id, mobile and landline number in ``text``, in order, not overlapping.

    Candidates may overlap (``2024 110101 19641112 2171`` holds an 18-digit run from the year
    on as well as the id): overlapping ids are joined into one number, so masking covers both;
    a phone number overlapping an id is part of the id, a landline overlapping either is not
    read.
    """
    plain = _plain(text)
    if not _TEN_DIGITS.search(plain):
        return []
    ids = [m.span() for m in _candidates(_ID_18, plain) if _is_id_18(_digits(m.group(0)))]
    ids += [m.span() for m in _candidates(_ID_15, plain) if _is_id_15(_digits(m.group(0)))]
    regions = [("resident_id", span) for span in _union(ids)]
    for kind, pattern in (("mobile", _MOBILE), ("landline", _LANDLINE)):
        taken = [span for _kind, span in regions]
        spans = [m.span() for m in _candidates(pattern, plain)]
        regions += [(kind, span) for span in _union(spans) if _free(span, taken)]
    numbers = [
        PersonalNumber(kind, start, end, _digits(plain[start:end], drop_prefix=kind == "mobile"))
        for kind, (start, end) in regions
    ]
    return sorted(numbers, key=lambda n: n.start)


def _digits(written: str, *, drop_prefix: bool = False) -> str:
    digits = written.translate(_SEPARATORS).upper()
    return digits[-11:] if drop_prefix else digits


def _free(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return all(span[1] <= start or span[0] >= end for start, end in taken)


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _candidates(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches of ``pattern`` that may overlap: a rejected candidate (``2024 110101 ...``
    read from the year on) must not hide the id that starts a few characters later."""
    matches = []
    match = pattern.search(text)
    while match is not None:
        matches.append(match)
        match = pattern.search(text, match.start() + 1)
    return matches


def _masked(number: PersonalNumber, written: str, level: MaskLevel) -> str:
    digits = number.digits
    if number.kind == "resident_id":
        if level is MaskLevel.PUBLIC:
            return "*" * len(digits)
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    if number.kind == "mobile":
        prefix = "+86 " if len(_digits(_plain(written))) > 11 else ""
        return f"{prefix}{digits[:3]}****{digits[-4:]}"
    area_length = 3 if digits[1] in "12" else 4  # 010, 020-029: 3 digits; others 4
    return f"{digits[:area_length]}-{'*' * (len(digits) - area_length - 4)}{digits[-4:]}"


def mask_personal_numbers(text: str, level: MaskLevel = MaskLevel.PARTIAL) -> str:
    """``text`` with every personal number masked for ``level`` (see the module docstring).

    Numbers are replaced by their masked ASCII form (separators dropped); everything else in
    the text is kept as it was.
    """
    if level is MaskLevel.NONE or not text:
        return text
    numbers = find_personal_numbers(text)
    parts: list[str] = []
    position = 0
    for number in numbers:
        parts.append(text[position : number.start])
        parts.append(_masked(number, text[number.start : number.end], level))
        position = number.end
    parts.append(text[position:])
    masked = "".join(parts)
    if level is MaskLevel.PUBLIC:
        masked = _MASKED_ID.sub(lambda m: "*" * len(m.group(0)), masked)
    return masked
