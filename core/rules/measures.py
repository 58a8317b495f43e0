"""Joint punishment and reward measures (联合奖惩) as configuration, and which apply to a party.

The cross-department memoranda attach measures to a party's lists, records and grades: a
dishonest judgment debtor is restricted from government procurement and high consumption, an
A-grade taxpayer gets a green channel. Which measures exist is a deployment's choice, so they
live in a TOML file (``CREDITHUB_MEASURES_FILE``, or ``measures.toml`` beside the rules file;
``sample_data/measures.toml`` is the demo's), read by :func:`load_measures`::

    [[measures]]
    code = "dishonest_debtor_procurement"
    name = "限制参与政府采购活动"
    kind = "punishment"            # punishment | reward
    effect = "restricts"           # restricts | prohibits (punishments), favours (rewards)
    memorandum = "关于对失信被执行人实施联合惩戒的合作备忘录"
    legal_basis = "《中华人民共和国政府采购法》第二十二条"
    matters = ["government_procurement", "bidding"]
    departments = ["财政部"]
    triggers = [{ list = "失信被执行人名单" }]

A measure applies to a matter it names when any of its triggers fires; a trigger is exactly one
of ``list`` (an in-force entry on the list of that name, black or red), ``category`` (in-force
records of that category, optionally of ``severity`` = [...], at least ``min_count`` of them,
decided within ``within_months``), ``tax_grade`` = [letters] (the latest in-force tax grade)
or ``customs_rating`` = [texts] (the latest in-force customs rating contains one of them).
"In force" is the grade's test (:func:`core.rules.grading.in_force`).

Written by hand: the memoranda's measures are this project's configuration, no library holds
them. :func:`applicable_measures` is pure: records in, measures with their triggering records
out; the caller passes only the records its audience may see.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from core.models import CreditRecord, RecordCategory, Severity
from core.rules.grading import in_force, latest
from core.rules.publicity import add_months

MEASURES_FILE_NAME = "measures.toml"
# The matters the issue names; a file may declare more with a top-level ``matters`` list.
DEFAULT_MATTERS = (
    "government_procurement",
    "bidding",
    "subsidy",
    "licensing",
    "fast_track",
    "honours",
    "high_consumption",
)
KINDS = {"punishment": ("restricts", "prohibits"), "reward": ("favours",)}
_TRIGGER_KINDS = ("list", "category", "tax_grade", "customs_rating")
_TRIGGER_OPTIONS = {"severity", "min_count", "within_months"}
_MEASURE_KEYS = {
    "code",
    "name",
    "kind",
    "effect",
    "memorandum",
    "legal_basis",
    "matters",
    "departments",
    "triggers",
}
_REQUIRED = ("code", "name", "kind", "effect", "memorandum", "legal_basis", "matters", "triggers")
_TAX_LETTERS = {"A", "B", "M", "C", "D"}


class MeasuresError(ValueError):
    """The measures file cannot be read or declares something invalid (the message says where)."""


@dataclass(frozen=True)
class Trigger:
    """One condition of a measure; exactly one of the four kinds (see the module docstring)."""

    kind: str  # list | category | tax_grade | customs_rating
    values: tuple[str, ...]  # list names, the category, tax letters or customs texts
    severities: tuple[Severity, ...] = ()
    min_count: int = 1
    within_months: int | None = None

    def describe(self) -> str:
        """A short sentence saying what fires it, for the check's answer."""
        if self.kind == "list":
            return f"listed on {self.values[0]}"
        if self.kind == "tax_grade":
            return f"latest tax credit grade is {' or '.join(self.values)}"
        if self.kind == "customs_rating":
            return f"latest customs rating is {' or '.join(self.values)}"
        text = f"at least {self.min_count} {self.values[0]} record(s)"
        if self.severities:
            text += f" of severity {' or '.join(s.value for s in self.severities)}"
        if self.within_months is not None:
            text += f" decided in the last {self.within_months} months"
        return text


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    kind: str  # punishment | reward
    effect: str  # restricts | prohibits | favours
    memorandum: str
    legal_basis: str
    matters: tuple[str, ...]
    departments: tuple[str, ...]
    triggers: tuple[Trigger, ...]


@dataclass(frozen=True)
class MeasureBook:
    """Every measure of a deployment and the matter codes a check may name."""

    measures: tuple[Measure, ...] = ()
    matters: tuple[str, ...] = DEFAULT_MATTERS
    source: str | None = None  # the file it came from, None for the empty book

    def by_code(self, code: str) -> Measure | None:
        return next((m for m in self.measures if m.code == code), None)


@dataclass(frozen=True)
class Fired:
    """A trigger that fired and the records that fired it."""

    trigger: Trigger
    records: tuple[CreditRecord, ...]


@dataclass(frozen=True)
class AppliedMeasure:
    measure: Measure
    fired: tuple[Fired, ...]


def measures_path(*, measures_file: Path | None, rules_file: Path | None) -> Path | None:
    """The measures file to load: the one configured, else ``measures.toml`` beside the rules
    file when there is one, else none (an empty book: checks answer with no measures)."""
    if measures_file is not None:
        return measures_file
    if rules_file is not None:
        beside = rules_file.parent / MEASURES_FILE_NAME
        if beside.is_file():
            return beside
    return None


def load_measures(path: Path | None) -> MeasureBook:
    """The measures declared in ``path`` (an empty book without one).

    Raises :class:`MeasuresError` naming the file, the measure and the key at fault: an
    unreadable file, bad TOML, an unknown key, a missing or mistyped value, an unknown kind,
    effect, matter, category, severity or tax grade, a trigger naming no kind or two, a
    duplicate code.
    """
    if path is None:
        return MeasureBook()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MeasuresError(f"measures file {path}: {exc}") from exc
    try:
        return parse_measures(data, source=str(path))
    except MeasuresError as exc:
        raise MeasuresError(f"measures file {path}: {exc}") from exc


def parse_measures(data: dict[str, Any], *, source: str | None = None) -> MeasureBook:
    """A :class:`MeasureBook` from the parsed TOML ``data``. Raises :class:`MeasuresError`."""
    unknown = set(data) - {"matters", "measures"}
    if unknown:
        raise MeasuresError(f"unknown top-level keys {sorted(unknown)}")
    matters = tuple(_strings("matters", data.get("matters", list(DEFAULT_MATTERS))))
    entries = data.get("measures", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise MeasuresError("'measures' must be an array of tables ([[measures]])")
    measures: list[Measure] = []
    for index, entry in enumerate(entries):
        where = f"measure {index + 1}" + (f" ({entry['code']!r})" if "code" in entry else "")
        try:
            measure = _measure(entry, set(matters))
        except MeasuresError as exc:
            raise MeasuresError(f"{where}: {exc}") from exc
        if any(m.code == measure.code for m in measures):
            raise MeasuresError(f"{where}: duplicate code {measure.code!r}")
        measures.append(measure)
    return MeasureBook(measures=tuple(measures), matters=matters, source=source)


def _measure(entry: dict[str, Any], matters: set[str]) -> Measure:
    unknown = set(entry) - _MEASURE_KEYS
    if unknown:
        raise MeasuresError(f"unknown keys {sorted(unknown)}")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise MeasuresError(f"missing {missing}")
    code, name = _text("code", entry["code"]), _text("name", entry["name"])
    kind, effect = _text("kind", entry["kind"]), _text("effect", entry["effect"])
    if kind not in KINDS:
        raise MeasuresError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
    if effect not in KINDS[kind]:
        raise MeasuresError(f"a {kind} has effect {' or '.join(KINDS[kind])}, not {effect!r}")
    named = _strings("matters", entry["matters"])
    if not named:
        raise MeasuresError("matters must name at least one matter")
    strange = [m for m in named if m not in matters]
    if strange:
        raise MeasuresError(f"unknown matters {strange} (known: {sorted(matters)})")
    triggers = entry["triggers"]
    if not isinstance(triggers, list) or not triggers:
        raise MeasuresError("triggers must be a non-empty array of tables")
    return Measure(
        code=code,
        name=name,
        kind=kind,
        effect=effect,
        memorandum=_text("memorandum", entry["memorandum"]),
        legal_basis=_text("legal_basis", entry["legal_basis"]),
        matters=tuple(named),
        departments=tuple(_strings("departments", entry.get("departments", []))),
        triggers=tuple(_trigger(i + 1, t) for i, t in enumerate(triggers)),
    )


def _trigger(number: int, raw: Any) -> Trigger:
    where = f"trigger {number}"
    if not isinstance(raw, dict):
        raise MeasuresError(f"{where} must be a table")
    kinds = [k for k in _TRIGGER_KINDS if k in raw]
    if len(kinds) != 1:
        raise MeasuresError(f"{where} must have exactly one of {list(_TRIGGER_KINDS)}")
    kind = kinds[0]
    unknown = set(raw) - {kind} - (_TRIGGER_OPTIONS if kind == "category" else set())
    if unknown:
        raise MeasuresError(f"{where}: unknown keys {sorted(unknown)}")
    values: tuple[str, ...]
    if kind in ("list", "category"):
        values = (_text(f"{where}.{kind}", raw[kind]),)
    else:
        values = tuple(_strings(f"{where}.{kind}", raw[kind]))
        if not values:
            raise MeasuresError(f"{where}.{kind} must name at least one value")
    if kind == "tax_grade" and set(values) - _TAX_LETTERS:
        raise MeasuresError(f"{where}.tax_grade: letters are {sorted(_TAX_LETTERS)}")
    if kind != "category":
        return Trigger(kind=kind, values=values)
    try:
        RecordCategory(values[0])
        severities = tuple(
            Severity(s) for s in _strings(f"{where}.severity", raw.get("severity", []))
        )
    except ValueError as exc:
        raise MeasuresError(f"{where}: {exc}") from exc
    min_count = _positive(f"{where}.min_count", raw.get("min_count", 1))
    within = raw.get("within_months")
    return Trigger(
        kind=kind,
        values=values,
        severities=severities,
        min_count=min_count,
        within_months=None if within is None else _positive(f"{where}.within_months", within),
    )


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MeasuresError(f"{name} must be a non-empty string, got {value!r}")
    return value.strip()


def _strings(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise MeasuresError(f"{name} must be an array of strings, got {value!r}")
    return [_text(name, v) for v in value]


def _positive(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise MeasuresError(f"{name} must be a positive integer, got {value!r}")
    return value


# --------------------------------------------------------------------------- evaluation


def applicable_measures(
    *, book: MeasureBook, records: Iterable[CreditRecord], matter: str, today: date
) -> list[AppliedMeasure]:
    """The measures of ``matter`` that ``records`` trigger on ``today``, in the book's order,
    each with the triggers that fired and their records (only records in force count)."""
    current = [r for r in records if in_force(r, today)]
    applied = []
    for measure in book.measures:
        if matter not in measure.matters:
            continue
        fired = []
        for trigger in measure.triggers:
            found = _fire(trigger, current, today)
            if found:
                fired.append(Fired(trigger, tuple(found)))
        if fired:
            applied.append(AppliedMeasure(measure, tuple(fired)))
    return applied


def _fire(trigger: Trigger, records: Sequence[CreditRecord], today: date) -> list[CreditRecord]:
    if trigger.kind == "list":
        return [
            r
            for r in records
            if r.category in (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST)
            and r.list_name == trigger.values[0]
        ]
    if trigger.kind in ("tax_grade", "customs_rating"):
        category = (
            RecordCategory.TAX_GRADE
            if trigger.kind == "tax_grade"
            else RecordCategory.CUSTOMS_RATING
        )
        newest = latest(r for r in records if r.category is category)
        if newest is None or newest.grade is None:
            return []
        if trigger.kind == "tax_grade":
            hit = newest.grade.strip().upper() in trigger.values
        else:
            hit = any(text in newest.grade for text in trigger.values)
        return [newest] if hit else []
    start = add_months(today, -trigger.within_months) if trigger.within_months else None
    found = [
        r
        for r in records
        if r.category.value == trigger.values[0]
        and (not trigger.severities or r.severity in trigger.severities)
        and (start is None or (r.decision_date is not None and r.decision_date >= start))
    ]
    return found if len(found) >= trigger.min_count else []
