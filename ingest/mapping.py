"""Field mappings: a feed's own columns to CreditHub's canonical fields.

A feed's ``field_mapping`` holds ``preset`` (a name), ``fields`` ({canonical: column or
[columns]}), ``source_key`` (column or [columns]), ``constants`` ({canonical: value}) and
``fine_unit`` ("yuan" or "wan_yuan"); explicit ``fields`` override the preset's. A canonical
field takes the first listed column that is present and non-empty, so one preset covers the
spelling variants departments use.

The two presets follow the national "double publicity" (双公示) licensing (``XK_*``) and penalty
(``CF_*``) data standards, so such a feed needs no hand mapping.

A natural person's birth date and gender have no column in either standard (their party fields
stop at the id type and number), so every mapping, preset or not, reads them from the plain
names departments use (:data:`PERSON_FIELDS`: ``出生日期`` / ``CSRQ`` / ``birth_date``,
``性别`` / ``XB`` / ``gender``); a feed's own ``fields`` override them like any preset field.
The same holds for a party's phone and postcode (:data:`CONTACT_FIELDS`: ``联系电话`` / ``LXDH`` /
``phone``, ``邮政编码`` / ``YZBM`` / ``postcode``), which the matcher compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Party fields shared by both standards, keyed by the suffix after the XK_/CF_ prefix.
_PARTY_SUFFIXES: dict[str, list[str]] = {
    "party_name": ["XDR_MC"],
    "party_type": ["XDR_LB"],
    "uscc": ["XDR_SHXYM"],
    "registration_number": ["XDR_GSZC", "XDR_GSDJ"],
    "org_code": ["XDR_ZZJG"],
    "taxpayer_number": ["XDR_SWDJ"],
    "legal_rep": ["FRDB"],
    "legal_rep_id_type": ["FR_ZJLX"],
    "legal_rep_id_number": ["FR_ZJHM"],
    "id_type": ["XDR_ZJLX"],
    "id_number": ["XDR_ZJHM"],
}


# A person's birth date and gender: the column names departments use (Chinese, the pinyin
# initials of the standards' naming style, English), in every mapping.
PERSON_FIELDS: dict[str, list[str]] = {
    "birth_date": ["birth_date", "出生日期", "CSRQ", "csrq"],
    "gender": ["gender", "性别", "XB", "xb"],
}


# A party's phone and postcode (the matcher compares them): the column names departments use,
# in every mapping, as for PERSON_FIELDS.
CONTACT_FIELDS: dict[str, list[str]] = {
    "phone": ["phone", "联系电话", "电话", "LXDH", "lxdh"],
    "postcode": ["postcode", "邮政编码", "邮编", "YZBM", "yzbm"],
}


def _with_prefix(prefix: str, spec: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {field: [f"{prefix}_{s}" for s in suffixes] for field, suffixes in spec.items()}


PRESETS: dict[str, dict[str, Any]] = {
    "double_publicity_licensing": {
        "fields": {
            **_with_prefix("XK", _PARTY_SUFFIXES),
            **_with_prefix(
                "XK",
                {
                    "title": ["XKWS"],
                    "decision_number": ["WSH", "XKWSH"],
                    "license_type": ["XKLB"],
                    "certificate_name": ["XKZS"],
                    "certificate_number": ["XKBH"],
                    "content": ["NR"],
                    "decision_date": ["JDRQ"],
                    "valid_from": ["YXQZ"],
                    "valid_to": ["YXQJZ"],
                    "authority_name": ["XKJG"],
                    "authority_uscc": ["XKJGDM"],
                    "status": ["ZT"],
                    "source_unit": ["LYDW"],
                    "source_unit_uscc": ["LYDWDM"],
                },
            ),
            "remarks": ["BZ"],
        },
        "source_key": ["XK_WSH", "XK_XKBH"],
    },
    "double_publicity_penalty": {
        "fields": {
            **_with_prefix("CF", _PARTY_SUFFIXES),
            **_with_prefix(
                "CF",
                {
                    "decision_number": ["XZCFJDSWH", "WSH", "CFWSH"],
                    "violation_type": ["WFXW"],
                    "facts": ["SY", "WFSS"],
                    "legal_basis": ["YJ"],
                    "penalty_category": ["CFLB"],
                    "content": ["NR"],
                    "fine_amount": ["NR_FK", "FKJE"],
                    "confiscated_amount": ["NR_WFFF", "MSJE"],
                    "license_action": ["NR_ZKDX"],
                    "decision_date": ["JDRQ"],
                    "valid_to": ["YXQ"],
                    "publicity_end": ["GSJZQ"],
                    "authority_name": ["CFJG"],
                    "authority_uscc": ["CFJGDM"],
                    "source_unit": ["SJLY"],
                    "source_unit_uscc": ["SJLYDM"],
                    "status": ["ZT"],
                },
            ),
            "remarks": ["BZ"],
        },
        "source_key": ["CF_XZCFJDSWH", "CF_WSH", "CF_CFWSH"],
        # The 2021 edition of the penalty standard states amounts in 万元 (unverified for every
        # department): feeds in yuan override this with fine_unit = "yuan".
        "fine_unit": "wan_yuan",
    },
}


class MappingError(ValueError):
    """A feed's field mapping names an unknown preset or has the wrong shape."""


def resolve_mapping(field_mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a feed's mapping over its preset into ``{fields, source_key, constants, fine_unit}``.

    Raises :class:`MappingError` for an unknown preset.
    """
    preset_name = field_mapping.get("preset")
    base: dict[str, Any] = {
        "fields": {k: list(v) for k, v in {**PERSON_FIELDS, **CONTACT_FIELDS}.items()},
        "source_key": [],
        "constants": {},
        "fine_unit": "yuan",
    }
    if preset_name:
        if preset_name not in PRESETS:
            raise MappingError(
                f"unknown field-mapping preset {preset_name!r}; known: {sorted(PRESETS)}"
            )
        preset = PRESETS[preset_name]
        base["fields"].update({k: list(v) for k, v in preset["fields"].items()})
        base["source_key"] = list(preset.get("source_key", []))
        base["fine_unit"] = preset.get("fine_unit", "yuan")
    for canonical, columns in (field_mapping.get("fields") or {}).items():
        base["fields"][canonical] = [columns] if isinstance(columns, str) else list(columns)
    if "source_key" in field_mapping:
        key = field_mapping["source_key"]
        base["source_key"] = [key] if isinstance(key, str) else list(key)
    base["constants"].update(field_mapping.get("constants") or {})
    base["fine_unit"] = field_mapping.get("fine_unit", base["fine_unit"])
    return base


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


class MappingPlan:
    """:func:`apply_mapping` and :func:`source_key_of` for many rows of one feed.

    The mapping is worked out once per set of columns (a CSV file's rows all have the same
    ones) rather than per row: which columns pass through, and for each canonical field only
    the alternative columns the rows actually have, in the mapping's order. A row then costs
    one look-up per column it has, instead of one per column the preset could name."""

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        self.fields: list[tuple[str, list[str]]] = list(mapping["fields"].items())
        self.mapped_columns = frozenset(c for _, columns in self.fields for c in columns)
        self.constants: list[tuple[str, Any]] = list(mapping["constants"].items())
        self.key_alternatives = [a.split("+") for a in mapping["source_key"]]
        self._plans: dict[tuple[Any, ...], _ColumnPlan] = {}

    def apply(self, row: Mapping[str, Any]) -> dict[str, Any]:
        columns = tuple(row)
        plan = self._plans.get(columns)
        if plan is None:
            plan = self._plans[columns] = self._plan_for(columns)
        result: dict[str, Any] = {}
        for column in plan.passthrough:
            value = row[column]
            # _present(value), inlined: this runs for every column of every row.
            if value is not None and (not isinstance(value, str) or value.strip()):
                result[column] = value
        for canonical, alternatives in plan.fields:
            for column in alternatives:
                value = row[column]
                if value is not None and (not isinstance(value, str) or value.strip()):
                    result[canonical] = value
                    break
        for canonical, value in self.constants:
            result.setdefault(canonical, value)
        return result

    def _plan_for(self, columns: tuple[Any, ...]) -> _ColumnPlan:
        present = set(columns)
        return _ColumnPlan(
            passthrough=[c for c in columns if c not in self.mapped_columns],
            fields=[
                (canonical, [c for c in alternatives if c in present])
                for canonical, alternatives in self.fields
                if any(c in present for c in alternatives)
            ],
        )

    def source_key(self, row: Mapping[str, Any]) -> str | None:
        """:func:`source_key_of` with the mapping's alternatives split once."""
        for parts in self.key_alternatives:
            values = [row.get(part) for part in parts]
            if all(_present(v) for v in values):
                return "+".join(str(v).strip() for v in values)
        return _generic_source_key(row)


@dataclass(frozen=True, slots=True)
class _ColumnPlan:
    passthrough: list[Any]
    fields: list[tuple[str, list[str]]]


def apply_mapping(row: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical fields of one raw row. Columns the mapping does not name pass through under
    their own name, so a feed already in canonical names needs no mapping at all."""
    return MappingPlan(mapping).apply(row)


def source_key_of(row: Mapping[str, Any], mapping: Mapping[str, Any]) -> str | None:
    """The feed's own id of this record, or None when the row carries none.

    An alternative written ``a+b`` is a composite key: the values of ``a`` and ``b`` joined by
    ``+`` (a tax grade is identified by taxpayer and year), used only when all parts are present.
    """
    for alternative in mapping["source_key"]:
        parts = alternative.split("+")
        values = [row.get(part) for part in parts]
        if all(_present(v) for v in values):
            return "+".join(str(v).strip() for v in values)
    return _generic_source_key(row)


def _generic_source_key(row: Mapping[str, Any]) -> str | None:
    for column in ("source_key", "source_id", "id"):
        if _present(row.get(column)):
            return str(row[column]).strip()
    return None
