"""The record a repair application or objection is about, as the caller may see it: records the
caller may not see (``core.rules.sharing.feed_visible``) answer 404, like unknown ones, so a public
caller cannot probe not-shared records by id. Contact data is masked for every role but regulator.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ServiceRefused
from core.models import (
    ApiClient,
    CreditRecord,
    Feed,
    Role,
)
from core.rules.sharing import feed_visible, mask_personal_text

_EMAIL = re.compile(r"([^\s@])[^\s@]*(@[^\s@]+)")
# Landlines and other long digit runs left after mobile and id masking: keep the last 4 digits.
_DIGITS = re.compile(r"\d[\d\- ]{5,}(\d{4})")


class DisputeRefused(ServiceRefused):
    """The request cannot be carried out; ``status`` is the HTTP status that says why."""


# ---------------------------------------------------------------------------- shared


def visible_record(
    session: Session, client: ApiClient | None, record_id: int, *, lock: bool = False
) -> CreditRecord:
    query = select(CreditRecord).where(CreditRecord.id == record_id)
    if lock:
        # Serialises concurrent submissions on one record (PostgreSQL; SQLite locks the file).
        query = query.with_for_update()
    record = session.scalar(query)
    if record is None:
        raise DisputeRefused(f"no record {record_id}", status=404)
    feed = session.get(Feed, record.feed_id)
    department_code = client.department.code if client and client.department else None
    visible = feed is not None and feed_visible(
        feed,
        role=client.role if client else Role.PUBLIC,
        department_id=client.department_id if client else None,
        department_code=department_code,
    )
    if not visible:
        raise DisputeRefused(f"no record {record_id}", status=404)
    return record


def mask_contact(value: str | None) -> str | None:
    """Contact data as roles other than regulator see it: ids, mobile and landline numbers and
    e-mail local parts masked."""
    if value is None:
        return None
    masked = mask_personal_text(value)
    masked = _EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", masked)
    return _DIGITS.sub(lambda m: "****" + m.group(1), masked)


def record_summary(record: CreditRecord, department_code: str | None) -> dict[str, Any]:
    return {
        "id": record.id,
        "party_name": record.party_name,
        "decision_number": record.decision_number,
        "category": record.category.value,
        "severity": record.severity.value if record.severity else None,
        "decision_date": record.decision_date,
        "department": department_code,
    }
