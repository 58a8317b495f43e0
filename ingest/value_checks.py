"""Plausibility of a validated record's dates and amounts, against the rules file's
``[values]`` (:class:`core.rules.settings.ValueRules`) and today's date.

The schemas (``ingest/records.py``) say whether a value can be read at all; these checks say
whether it can be true: a decision dated after today or before 1949, a validity that ends
before its decision, a fine over the cap or finer than a fen once in yuan. Such a record is
quarantined with the reasons, like any field error, and the other records of its batch are
stored as usual. They hold for every adapter, because every batch goes through
``ingest.pipeline.plan`` (and a replay through ``ingest.pipeline.replay``).

Written by hand: the bounds are this project's, no library holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.clock import today as china_today
from core.models import RecordCategory
from core.rules.settings import ValueRules

FEN = Decimal("0.01")
WAN = Decimal(10000)
# The date each category is decided on (a list entry's listing, a tax grade's evaluation).
DECISION_FIELDS: dict[RecordCategory, str] = {
    RecordCategory.LICENSING: "decision_date",
    RecordCategory.PENALTY: "decision_date",
    RecordCategory.CUSTOMS_RATING: "decision_date",
    RecordCategory.LIST_ENTRY: "listed_on",
    RecordCategory.RED_LIST: "listed_on",
    RecordCategory.TAX_GRADE: "evaluated_on",
}
AMOUNT_FIELDS = ("fine_amount", "confiscated_amount")


@dataclass(frozen=True)
class ValueChecks:
    """What a feed's records are checked against: the rules, today, the feed's amount unit
    (``wan_yuan`` amounts are multiplied by 10,000, as ``credit_values`` stores them)."""

    rules: ValueRules = field(default_factory=ValueRules)
    today: date = field(default_factory=china_today)
    fine_unit: str = "yuan"

    def problems(self, category: RecordCategory, record: dict[str, Any]) -> dict[str, list[str]]:
        """Field name to reasons, empty when every value is plausible."""
        found: dict[str, list[str]] = {}
        decision_field = DECISION_FIELDS.get(category)
        decided = record.get(decision_field) if decision_field else None
        if isinstance(decided, date):
            if decided > self.today:
                found[decision_field] = [  # type: ignore[index]
                    f"{decided.isoformat()} is after today ({self.today.isoformat()})"
                ]
            elif decided.year < self.rules.earliest_decision_year:
                found[decision_field] = [  # type: ignore[index]
                    f"{decided.isoformat()} is before {self.rules.earliest_decision_year}"
                ]
        established = record.get("established")
        registered = category is RecordCategory.REGISTRY and isinstance(established, date)
        if registered and established > self.today:
            found["established"] = [
                f"{established.isoformat()} is after today ({self.today.isoformat()})"
            ]
        valid_to = record.get("valid_to")
        if isinstance(decided, date) and isinstance(valid_to, date) and valid_to < decided:
            found["valid_to"] = [
                f"{valid_to.isoformat()} is before the decision date {decided.isoformat()}"
            ]
        factor = WAN if self.fine_unit == "wan_yuan" else Decimal(1)
        for name in AMOUNT_FIELDS:
            amount = record.get(name)
            if isinstance(amount, Decimal):
                problem = self._amount_problem(amount * factor)
                if problem:
                    found[name] = [problem]
        return found

    def _amount_problem(self, yuan: Decimal) -> str | None:
        if yuan >= self.rules.max_amount_yuan:
            return (
                f"{yuan:,f} yuan is not below the cap of {self.rules.max_amount_yuan:,f} yuan "
                "(values.max_amount_yuan in the rules file)"
            )
        if yuan != yuan.quantize(FEN):
            return f"{yuan:f} yuan is finer than a fen; amounts are not rounded"
        return None
