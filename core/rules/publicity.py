"""Severity and publicity periods (domain.md, "Publicity periods and credit repair"): how
serious an incoming record is, how long it is published, which records are published today, and
when repair may be applied for.

The keyword lists and periods are the 2025-2026 rules as this project reads them; they are
defaults a deployment may change, not law (see docs/ingestion.md). A stored status says what
happened to a record (repaired, revoked, disputed); expiry is a matter of the calendar, so it is
computed against "today" instead of being written by a job.
"""

from __future__ import annotations

import calendar
import functools
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from core.models import CreditRecord, CreditStatus, RecordCategory, Severity

if TYPE_CHECKING:  # settings reads this module's default periods
    from core.rules.settings import Rules

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
    """``start`` moved by ``months`` calendar months (the day clipped to the month's last).
    Beyond the calendar's ends (a period from a date near 9999) it stops at ``date.max`` or
    ``date.min``: ingest quarantines such dates, but a stored one must not fail a reader."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
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


# Categories that are facts about an entity rather than publicised decisions.
NOT_PUBLICISED = frozenset({RecordCategory.REGISTRY})
DateOrIso = TypeVar("DateOrIso", date, str)


def publicity_ended(end: DateOrIso | None, today: DateOrIso) -> bool:
    """Whether a publicity period ending on ``end`` (None: no end) is over on ``today``: dates,
    or both as ISO text, which sorts the same (the records export reads them so)."""
    return end is not None and end < today


def effective_status(record: CreditRecord, today: date) -> CreditStatus:
    """The stored status, or ``expired`` once an active record's publicity has ended."""
    if record.status is CreditStatus.ACTIVE and publicity_ended(record.publicity_end, today):
        return CreditStatus.EXPIRED
    return record.status


def is_published(record: CreditRecord, today: date) -> bool:
    """Shown on public lookups: active or disputed, inside its publicity period."""
    if record.category in NOT_PUBLICISED:
        return False
    if effective_status(record, today) not in (CreditStatus.ACTIVE, CreditStatus.DISPUTED):
        return False
    if record.decision_date and record.decision_date > today:
        return False
    return not publicity_ended(record.publicity_end, today)


def repair_allowed_from(record: CreditRecord, rules: Rules) -> date | None:
    """First day a repair application is allowed: the decision date plus the minimum publicity
    of the record's severity. None when the record has no severity (nothing to repair)."""
    if record.severity is None or record.decision_date is None:
        return None
    return add_months(record.decision_date, rules.min_publicity_months[record.severity])
