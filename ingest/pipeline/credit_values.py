"""A validated record as the columns of its credit record (the row the profile, the reports
and the public pages read), for a new credit record and for one a new version updates."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.models import CreditStatus, RecordCategory
from core.rules.publicity import classify_severity, publicity_end
from ingest.pipeline.payloads import json_safe

_CREDIT_COLUMNS = (
    "party_name",
    "decision_number",
    "content",
    "legal_basis",
    "decision_date",
    "valid_from",
    "valid_to",
    "authority_name",
    "authority_uscc",
    "confiscated_amount",
    "grade",
    "list_name",
    "removed_on",
    "removal_reason",
)
_EXTRA_SKIP = {*_CREDIT_COLUMNS, "fine_amount", "publicity_end", "title"}


def credit_values(
    category: RecordCategory,
    record: dict[str, Any],
    mapping: dict[str, Any],
    status: CreditStatus | None,
) -> dict[str, Any]:
    """The credit record's columns for a validated record; ``status`` is the credit record's
    current status (None for a new one)."""
    values: dict[str, Any] = {"category": category}
    for column in _CREDIT_COLUMNS:
        values[column] = record.get(column)
    title = None
    if category in (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST):
        values["decision_date"] = record.get("listed_on")
        values["content"] = record.get("list_reason")
    elif category is RecordCategory.TAX_GRADE:
        values["decision_date"] = record.get("evaluated_on") or date(int(record["year"]), 12, 31)
        title = f"{record['year']}年度纳税信用等级 {record['grade']}"
    elif category is RecordCategory.REGISTRY:
        values["decision_date"] = record.get("established")
    values["title"] = title or record.get("title") or record.get("certificate_name")
    values["subtype"] = (
        record.get("license_type") or record.get("penalty_category") or record.get("entity_type")
    )
    fine = record.get("fine_amount")
    if fine is not None and mapping.get("fine_unit") == "wan_yuan":
        fine = fine * 10000
    values["fine_amount"] = fine
    confiscated = record.get("confiscated_amount")
    if confiscated is not None and mapping.get("fine_unit") == "wan_yuan":
        values["confiscated_amount"] = confiscated * 10000
    severity = classify_severity(category, record)
    values["severity"] = severity
    values["publicity_end"] = record.get("publicity_end") or publicity_end(
        severity, values["decision_date"]
    )
    # A new version of the source record must not undo a repair, a revocation or an open
    # dispute decided inside CreditHub: only a record still in force follows the feed.
    if status in (None, CreditStatus.ACTIVE, CreditStatus.EXPIRED):
        status = CreditStatus.EXPIRED if record.get("removed_on") else CreditStatus.ACTIVE
    values["status"] = status
    # Leaves out what is empty (None, "", {}): tested cheapest first, None being most values.
    values["extra"] = json_safe(
        {
            k: v
            for k, v in record.items()
            if v is not None and k not in _EXTRA_SKIP and v != "" and v != _NO_ITEMS
        }
    )
    return values


_NO_ITEMS: dict[str, Any] = {}
