"""Publicity periods: which records are published today, and when repair may be applied for.

A stored status says what happened to a record (repaired, revoked, disputed); expiry is a
matter of the calendar, so it is computed against "today" instead of being written by a job.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from core.models import CreditRecord, CreditStatus, RecordCategory
from core.rules.settings import Rules
from core.rules.severity import add_months

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
