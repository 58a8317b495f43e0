"""Severity and publicity periods of incoming records (domain.md, "Publicity periods").

The keyword lists and periods are the 2025-2026 rules as this project reads them; they are
defaults a deployment may change, not law (see docs/ingestion.md).
"""

from __future__ import annotations

import calendar
import functools
from datetime import date
from typing import Any

from core.models import RecordCategory, Severity

SERIOUS_PENALTY_WORDS = (
    "吊销",
    "撤销",
    "责令停产停业",
    "责令关闭",
    "限制开展生产经营活动",
    "限制从业",
    "禁止从业",
    "降低资质等级",
)
MINOR_PENALTY_CATEGORIES = {"警告", "通报批评"}
# Minimum publicity before credit repair may be applied for, and maximum publicity, in months.
MIN_PUBLICITY_MONTHS = {Severity.MINOR: 0, Severity.GENERAL: 3, Severity.SERIOUS: 12}
MAX_PUBLICITY_MONTHS = {Severity.MINOR: 3, Severity.GENERAL: 12, Severity.SERIOUS: 36}


def classify_severity(category: RecordCategory, record: dict[str, Any]) -> Severity | None:
    """Severity of a validated record, or None for records that are not dishonesty
    (licences, registrations, red lists, good grades)."""
    if category is RecordCategory.PENALTY:
        if record.get("severity"):
            return Severity(record["severity"])
        return _penalty_severity(
            str(record.get("penalty_category") or ""),
            str(record.get("license_action") or ""),
            str(record.get("content") or ""),
            not record.get("fine_amount"),
        )
    if category is RecordCategory.LIST_ENTRY:
        return Severity.SERIOUS
    if category is RecordCategory.CUSTOMS_RATING and "失信" in str(record.get("grade", "")):
        return Severity.SERIOUS
    if category is RecordCategory.TAX_GRADE and record.get("grade") == "D":
        return Severity.SERIOUS
    return None


# Cached by value: a feed's penalties repeat a handful of category and action texts, and
# every record of an ingest batch asks (the key is all the rule reads).
@functools.lru_cache(maxsize=1 << 12)
def _penalty_severity(category: str, action: str, content: str, unfined: bool) -> Severity:
    text = f"{category} {action} {content}"
    if any(word in text for word in SERIOUS_PENALTY_WORDS):
        return Severity.SERIOUS
    categories = {c.strip() for c in category.split("、")}
    if categories <= MINOR_PENALTY_CATEGORIES and unfined:
        return Severity.MINOR if categories != {""} else Severity.GENERAL
    return Severity.GENERAL


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def publicity_end(severity: Severity | None, start: date | None) -> date | None:
    """When publication ends by itself: the maximum period for the severity after ``start``."""
    if severity is None or start is None:
        return None
    return _publicity_end(severity, start)


# Decision dates repeat (a feed covers a few hundred days), so each (severity, date) is
# worked out once.
@functools.lru_cache(maxsize=1 << 12)
def _publicity_end(severity: Severity, start: date) -> date:
    return add_months(start, MAX_PUBLICITY_MONTHS[severity])
