"""Configurable rules: publicity periods, credit repair, objection deadlines, the credit grade,
and what incoming values are plausible.

Defaults follow domain.md (2025-2026 rules, treated as configuration, not law). A deployment
overrides any of them with a TOML file named by ``CREDITHUB_RULES_FILE``::

    [publicity.min_months]
    general = 3
    [objections]
    answer_working_days = 10
    [grade]
    serious_window_months = 36
    [values]
    max_amount_yuan = 1000000000000
    earliest_decision_year = 1949

``sample_data/rules.toml`` lists every key with its default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.models import Severity
from core.rules.publicity import MAX_PUBLICITY_MONTHS, MIN_PUBLICITY_MONTHS


class RulesError(ValueError):
    """The rules file cannot be read or holds an unknown key or a bad value."""


@dataclass(frozen=True)
class GradeRules:
    """Thresholds of the rule-based credit grade (see ``core/rules/grading.py``)."""

    serious_window_months: int = 36
    general_window_months: int = 12
    serious_penalties_for_d: int = 2
    serious_penalties_for_c: int = 1
    general_penalties_for_c: int = 3
    general_penalties_for_b: int = 1


@dataclass(frozen=True)
class ValueRules:
    """What ingest takes as a plausible value (``ingest/value_checks.py``); a record outside
    these bounds is quarantined with the reason, never stored as given or rounded.

    ``max_amount_yuan``: a fine or confiscated amount, in yuan after the feed's unit, must be
    below it (the largest fines on record are some 10^10 yuan). ``earliest_decision_year``: a
    decision (or listing, or evaluation) dated before this year is a typo (the People's
    Republic's administrative decisions start in 1949)."""

    max_amount_yuan: Decimal = Decimal(10) ** 12
    earliest_decision_year: int = 1949


@dataclass(frozen=True)
class Rules:
    min_publicity_months: dict[Severity, int] = field(
        default_factory=lambda: dict(MIN_PUBLICITY_MONTHS)
    )
    max_publicity_months: dict[Severity, int] = field(
        default_factory=lambda: dict(MAX_PUBLICITY_MONTHS)
    )
    objection_answer_working_days: int = 10
    grade: GradeRules = field(default_factory=GradeRules)
    values: ValueRules = field(default_factory=ValueRules)


def load_rules(path: Path | None) -> Rules:
    """Defaults, overridden by ``path`` when given. Raises :class:`RulesError`."""
    rules = Rules()
    if path is None:
        return rules
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"rules file {path}: {exc}") from exc
    try:
        return _apply(rules, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"rules file {path}: {exc}") from exc


def _apply(rules: Rules, data: dict[str, Any]) -> Rules:
    unknown = set(data) - {"publicity", "objections", "grade", "values"}
    if unknown:
        raise KeyError(f"unknown sections {sorted(unknown)}")
    publicity = data.get("publicity", {})
    minimum = dict(rules.min_publicity_months)
    maximum = dict(rules.max_publicity_months)
    for key, target in (("min_months", minimum), ("max_months", maximum)):
        for severity, months in publicity.get(key, {}).items():
            target[Severity(severity)] = _non_negative(f"publicity.{key}.{severity}", months)
    for severity in Severity:
        if minimum[severity] > maximum[severity]:
            raise ValueError(f"minimum publicity of {severity.value} exceeds its maximum")
    days = data.get("objections", {}).get(
        "answer_working_days", rules.objection_answer_working_days
    )
    grade_values = data.get("grade", {})
    known = {f.name for f in fields(GradeRules)}
    if set(grade_values) - known:
        raise KeyError(f"unknown grade rules {sorted(set(grade_values) - known)}")
    grade = replace(
        rules.grade, **{k: _non_negative(f"grade.{k}", v) for k, v in grade_values.items()}
    )
    return Rules(
        min_publicity_months=minimum,
        max_publicity_months=maximum,
        objection_answer_working_days=_non_negative("objections.answer_working_days", days),
        grade=grade,
        values=_value_rules(rules.values, data.get("values", {})),
    )


def _value_rules(defaults: ValueRules, values: dict[str, Any]) -> ValueRules:
    known = {f.name for f in fields(ValueRules)}
    if set(values) - known:
        raise KeyError(f"unknown value rules {sorted(set(values) - known)}")
    cap = values.get("max_amount_yuan", defaults.max_amount_yuan)
    if isinstance(cap, float):  # TOML reads 1e12 as a float; the cap is compared exactly
        cap = Decimal(str(cap))
    if not isinstance(cap, int | Decimal) or isinstance(cap, bool) or not 0 < cap <= 10**16:
        raise ValueError(f"values.max_amount_yuan must be between 1 and 10^16, got {cap!r}")
    year = _non_negative(
        "values.earliest_decision_year",
        values.get("earliest_decision_year", defaults.earliest_decision_year),
    )
    if not 1 <= year <= 9999:
        raise ValueError(f"values.earliest_decision_year must be a year, got {year}")
    return ValueRules(max_amount_yuan=Decimal(cap), earliest_decision_year=year)


def _non_negative(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value
