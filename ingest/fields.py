"""Marshmallow fields for what departmental feeds really send: dates in half a dozen spellings,
amounts with thousands separators or full-width digits, codes that may fail their check, a
person's birth date and gender."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

from core.clock import today as china_today
from matching.resident_ids import GENDER_WORDS, gender_key

_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def parse_flexible_date(value: Any) -> date:
    """A date from a date, a datetime, or text such as ``2026-03-01``, ``2026/3/1``,
    ``20260301``, ``2026年3月1日`` or an ISO timestamp. Raises ``ValueError`` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    raise ValueError(f"not a date: {value!r}")


class FlexibleDate(fields.Field):
    default_error_messages = {"invalid": "Not a valid date: {input!r}."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        try:
            return parse_flexible_date(value)
        except ValueError as exc:
            raise self.make_error("invalid", input=value) from exc


# The earliest birth date taken as real: python-stdnum's division table (and so any resident id
# check) starts in the 20th century, and a party born before 1900 is a typo for a living one.
EARLIEST_BIRTH = date(1900, 1, 1)


class BirthDate(FlexibleDate):
    """A natural person's birth date in any spelling :class:`FlexibleDate` reads (``19690815``,
    ``1969-08-15``, ``1969/8/15``, ``1969年8月15日``). A date in the future (by the clock in
    China) or before 1900 is an error: it cannot be the birth of a party of a credit record, and
    the matcher would take it as evidence."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Not a valid date: {input!r}.",
        "future": "Birth date {value} is in the future.",
        "too_early": "Birth date {value} is before 1900.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        born = super()._deserialize(value, attr, data, **kwargs)
        if born > china_today():
            raise self.make_error("future", value=born.isoformat())
        if born < EARLIEST_BIRTH:
            raise self.make_error("too_early", value=born.isoformat())
        return born


class Gender(fields.Field):
    """``"M"`` or ``"F"`` (the letters ``matching.resident_ids.resident_id_sex`` reads from an
    id), read by ``matching.resident_ids.GENDER_WORDS``: 男/女, M/F, male/female or the GB/T
    2261.1 codes 1/2; the codes for unknown or not stated (0, 9, 未知, 未说明) read as no
    gender. Anything else is an error."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Not a gender: {input!r}; expected 男/女, M/F or 1/2.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.make_error("invalid", input=value)
        text = gender_key(str(value))
        if text not in GENDER_WORDS:
            raise self.make_error("invalid", input=value)
        return GENDER_WORDS[text]


# Amount columns are NUMERIC(18, 2): below 10^16, and a feed in 万元 is multiplied by 10,000.
# No fine comes near 10^12 in either unit (the largest on record are some 10^10 yuan).
MAX_AMOUNT = Decimal(10) ** 12
# Digits after the point kept: a fen of an amount in 万元 is its sixth.
_AMOUNT_PLACES = Decimal(10) ** -6


class Amount(fields.Field):
    """A non-negative amount below :data:`MAX_AMOUNT`; ``1,500.00``, ``１５００``, ``¥1500`` and
    ``1500元`` all read 1500."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "Not a valid amount: {input!r}.",
        "negative": "Amount must not be negative: {input!r}.",
        "too_large": "Amount must be less than 1,000,000,000,000: {input!r}.",
        "too_precise": "Amount is finer than a fen: {input!r}.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        text = text.replace(",", "").replace("¥", "").replace("元", "").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise self.make_error("invalid", input=value) from exc
        if not amount.is_finite():
            raise self.make_error("invalid", input=value)
        if amount < 0:
            raise self.make_error("negative", input=value)
        if amount >= MAX_AMOUNT:
            raise self.make_error("too_large", input=value)
        exponent = amount.as_tuple().exponent  # an int: the amount is finite
        if isinstance(exponent, int) and exponent < -6:
            # Beyond a fen in 万元 (the sixth decimal) is beyond a fen in any unit: refused,
            # not rounded. Trailing zeros (1.50000000) are the same amount, written at six
            # places: PostgreSQL refuses an exponent like 1e-20000 ("value overflows numeric
            # format"). ingest.value_checks refuses what is finer than a fen in yuan.
            places = amount.quantize(_AMOUNT_PLACES)
            if places != amount:
                raise self.make_error("too_precise", input=value)
            amount = places
        return amount


class CleanString(fields.String):
    """Text with full-width forms folded (NFKC) and surrounding space removed; blank is missing."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs)
        cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
        if not cleaned:
            raise ValidationError("Field may not be blank.")
        return cleaned
