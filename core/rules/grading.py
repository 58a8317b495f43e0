"""The credit grade: one letter, A (best) to D, computed from credit records, with its reasons.

The grade is computed ONLY from the records it is given: the caller passes what the caller may
see (a department's profile of an entity may therefore grade differently from a regulator's,
and the reasons say exactly which records counted). Thresholds come from
:class:`core.rules.settings.GradeRules` (``[grade]`` in the rules file);
``docs/credit-grade.md`` explains the rules for readers of the API.

Which records count ("in force" on ``today``): stored status active or disputed (a disputed
record counts until its objection is closed), publicity not ended (``publicity_end`` not
before today), decided on or before today and, for list entries, not removed. Repaired,
revoked and expired records never count.

Rules, worst letter wins; every rule that fires is listed as a reason:

* **D**: an in-force black-list entry (``list_entry``); the latest tax grade is D; the latest
  customs rating is a 失信 (dishonest) rating; at least ``serious_penalties_for_d`` serious
  penalties decided in the last ``serious_window_months``.
* **C**: at least ``serious_penalties_for_c`` serious penalties in that window (only when the D
  count rule did not fire); at least ``general_penalties_for_c`` general penalties decided in
  the last ``general_window_months``; the latest tax grade is C.
* **B**: at least ``general_penalties_for_b`` general or minor penalties in the general window
  (only when the C count rule did not fire); the latest tax grade is M or B.
* **A**: none of the above ("no adverse records").

A window includes its first day: with a 12-month window on 2026-06-01, a penalty decided on
2025-06-01 counts and one decided on 2025-05-31 does not. A threshold of 0 turns its rule off.

Positive records are listed as reasons too: in-force red-list entries (``red_list``), an
advanced-certification customs rating (高级认证企业) as the latest customs rating, and an A as
the latest tax grade. A red-list entry or the customs certification *lifts B to A* (effect
``lift``): a B only ever comes from general or minor matters, which an official commendation
outweighs. Nothing lifts C or D, and a tax grade A alone lifts nothing (it already keeps the tax
rules silent).

Written by hand: the rules are this project's, no library holds them. Pure: no Flask, no
database access, records in and a :class:`Grade` out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.models import CreditRecord, CreditStatus, RecordCategory, Severity
from core.rules.publicity import add_months, publicity_ended
from core.rules.settings import GradeRules

LETTERS = ("A", "B", "C", "D")
# Customs rating texts (海关企业信用等级): the advanced certification is a red list, the
# dishonest rating a black mark.
CUSTOMS_ADVANCED = "高级认证"
CUSTOMS_DISHONEST = "失信"
_IN_FORCE_STATUSES = (CreditStatus.ACTIVE, CreditStatus.DISPUTED)


@dataclass(frozen=True)
class Reason:
    """One rule that fired. ``effect`` is the letter it leads to (``D``, ``C``, ``B``, ``A``),
    ``lift`` (B lifted to A) or ``positive`` (noted, no effect)."""

    rule: str
    effect: str
    detail: str
    record_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "effect": self.effect,
            "detail": self.detail,
            "record_ids": list(self.record_ids),
        }


@dataclass(frozen=True)
class Grade:
    letter: str
    as_of: date
    reasons: list[Reason] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "letter": self.letter,
            "as_of": self.as_of,
            "reasons": [r.as_dict() for r in self.reasons],
        }


def in_force(record: CreditRecord, today: date) -> bool:
    """Whether ``record`` counts on ``today`` (see the module docstring).

    ``app.entities.queries.in_force_clause`` is the same test in SQL: change both together.
    """
    if record.status not in _IN_FORCE_STATUSES:
        return False
    if publicity_ended(record.publicity_end, today):
        return False
    if record.decision_date is not None and record.decision_date > today:
        return False
    return record.removed_on is None or record.removed_on > today


def latest(records: Iterable[CreditRecord]) -> CreditRecord | None:
    """The most recently decided record (ties: the most recently stored)."""
    return max(records, key=lambda r: (r.decision_date or date.min, r.id or 0), default=None)


def is_customs_advanced(record: CreditRecord) -> bool:
    return CUSTOMS_ADVANCED in (record.grade or "")


def is_customs_dishonest(record: CreditRecord) -> bool:
    return CUSTOMS_DISHONEST in (record.grade or "")


def grade_entity(*, records: Sequence[CreditRecord], today: date, rules: GradeRules) -> Grade:
    """Grade an entity from ``records`` (only those; see the module docstring)."""
    counted = [r for r in records if in_force(r, today)]
    by_category: dict[RecordCategory, list[CreditRecord]] = {}
    for record in counted:
        by_category.setdefault(record.category, []).append(record)
    tax = latest(by_category.get(RecordCategory.TAX_GRADE, []))
    customs = latest(by_category.get(RecordCategory.CUSTOMS_RATING, []))
    penalties = by_category.get(RecordCategory.PENALTY, [])

    serious_start = add_months(today, -rules.serious_window_months)
    general_start = add_months(today, -rules.general_window_months)
    serious = _decided_since(penalties, serious_start, {Severity.SERIOUS})
    general = _decided_since(penalties, general_start, {Severity.GENERAL, None})
    lesser = _decided_since(penalties, general_start, {Severity.GENERAL, Severity.MINOR, None})

    reasons: list[Reason] = []
    black = by_category.get(RecordCategory.LIST_ENTRY, [])
    if black:
        names = sorted({r.list_name or "black list" for r in black})
        reasons.append(
            Reason("black_list_entry", "D", f"listed on {'、'.join(names)}", _ids(black))
        )
    if tax is not None and tax.grade == "D":
        reasons.append(Reason("tax_grade_d", "D", "latest tax credit grade is D", _ids([tax])))
    if customs is not None and is_customs_dishonest(customs):
        detail = f"latest customs credit rating is {customs.grade}"
        reasons.append(Reason("customs_dishonest", "D", detail, _ids([customs])))

    serious_d = _reached(serious, rules.serious_penalties_for_d)
    if serious_d:
        reasons.append(
            _count_reason("serious_penalties_d", "D", serious, "serious", serious_start, rules)
        )
    elif _reached(serious, rules.serious_penalties_for_c):
        reasons.append(
            _count_reason("serious_penalties_c", "C", serious, "serious", serious_start, rules)
        )
    general_c = _reached(general, rules.general_penalties_for_c)
    if general_c:
        reasons.append(
            _count_reason("general_penalties_c", "C", general, "general", general_start, rules)
        )
    if tax is not None and tax.grade == "C":
        reasons.append(Reason("tax_grade_c", "C", "latest tax credit grade is C", _ids([tax])))
    if not general_c and _reached(lesser, rules.general_penalties_for_b):
        reasons.append(
            _count_reason(
                "general_penalties_b", "B", lesser, "general or minor", general_start, rules
            )
        )
    if tax is not None and tax.grade in ("M", "B"):
        detail = f"latest tax credit grade is {tax.grade}"
        reasons.append(Reason("tax_grade_m_or_b", "B", detail, _ids([tax])))

    letter = max((r.effect for r in reasons), key=LETTERS.index, default="A")

    commendations: list[tuple[str, str, list[CreditRecord]]] = []
    red = by_category.get(RecordCategory.RED_LIST, [])
    if red:
        names = sorted({r.list_name or "red list" for r in red})
        commendations.append(("red_list_entry", f"listed on {'、'.join(names)}", red))
    if customs is not None and is_customs_advanced(customs):
        detail = f"latest customs credit rating is {customs.grade}"
        commendations.append(("customs_advanced_certification", detail, [customs]))
    lifted = letter == "B" and bool(commendations)
    for rule, detail, found in commendations:
        effect = "lift" if lifted else "positive"
        suffix = " (lifts B to A)" if lifted else ""
        reasons.append(Reason(rule, effect, detail + suffix, _ids(found)))
    if tax is not None and tax.grade == "A":
        reasons.append(
            Reason("tax_grade_a", "positive", "latest tax credit grade is A", _ids([tax]))
        )
    if lifted:
        letter = "A"
    if not any(r.effect in LETTERS for r in reasons):
        reasons.insert(0, Reason("no_adverse_records", "A", "no adverse records in force"))
    return Grade(letter=letter, as_of=today, reasons=reasons)


def _decided_since(
    penalties: list[CreditRecord], start: date, severities: set[Severity | None]
) -> list[CreditRecord]:
    return [
        p
        for p in penalties
        if p.severity in severities and p.decision_date is not None and p.decision_date >= start
    ]


def _reached(found: list[CreditRecord], threshold: int) -> bool:
    return threshold > 0 and len(found) >= threshold


def _count_reason(
    rule: str,
    effect: str,
    found: list[CreditRecord],
    label: str,
    start: date,
    rules: GradeRules,
) -> Reason:
    thresholds = {
        "serious_penalties_d": rules.serious_penalties_for_d,
        "serious_penalties_c": rules.serious_penalties_for_c,
        "general_penalties_c": rules.general_penalties_for_c,
        "general_penalties_b": rules.general_penalties_for_b,
    }
    detail = (
        f"{len(found)} {label} penalties decided since {start.isoformat()} "
        f"(threshold {thresholds[rule]})"
    )
    return Reason(rule, effect, detail, _ids(found))


def _ids(records: Iterable[CreditRecord]) -> tuple[int, ...]:
    return tuple(sorted(r.id for r in records if r.id is not None))


def membership_name(record: CreditRecord) -> str | None:
    """What a :func:`list_members` membership is called: its list's name or, for a customs
    rating, the rating."""
    return record.list_name or record.grade


def list_members(records: Iterable[CreditRecord]) -> list[tuple[str, CreditRecord]]:
    """("black" | "red", record) for each list the records put the entity on: black-list
    entries, red-list entries, and the latest customs rating when it is advanced certified.
    The caller passes the records in force that its audience may see."""
    current = list(records)
    members: list[tuple[str, CreditRecord]] = []
    for record in current:
        if record.category is RecordCategory.LIST_ENTRY:
            members.append(("black", record))
        elif record.category is RecordCategory.RED_LIST:
            members.append(("red", record))
    customs = latest(r for r in current if r.category is RecordCategory.CUSTOMS_RATING)
    if customs is not None and is_customs_advanced(customs):
        members.append(("red", customs))
    return members
