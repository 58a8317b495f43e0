"""Exact-identifier linking rules: which keys of a record may point at an existing entity, how
strongly, and which rule says so. Pure: plain mappings in, dataclasses out.

This is the first, deterministic layer of entity resolution; fuzzy matching on names and
addresses builds on top of it and never overrides its hard rule: two different *valid* USCCs
(or two different valid resident id numbers) are never the same entity.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .identifier_types import Identifier, IdentifierKind, clean_code
from .identifiers import org_code_of, parse_identifier
from .strong_codes import StrongCodes, StrongConflict, strong_conflicts

ALGORITHM = "exact-id-v1"

# Which canonical field carries which kind of code (None: classify by shape).
_CODE_FIELDS: tuple[tuple[str, IdentifierKind | None], ...] = (
    ("uscc", IdentifierKind.USCC),
    ("id_number", None),
    ("org_code", IdentifierKind.ORG_CODE),
    ("registration_number", IdentifierKind.REGISTRATION_NUMBER),
    ("taxpayer_number", IdentifierKind.TAXPAYER_NUMBER),
    ("code", None),
)

_PERSON_ID_KINDS = {
    IdentifierKind.RESIDENT_ID,
    IdentifierKind.RESIDENT_ID_15,
    IdentifierKind.MASKED_ID,
}

# Confidence of a link found through each rule; the explanation names the rule.
RULE_CONFIDENCE = {
    "exact_uscc": 1.0,
    "exact_resident_id": 1.0,
    "exact_registration_number": 0.98,
    "org_code_of_old_code": 0.97,
    "exact_flagged_code": 0.9,
    "exact_other_code": 0.9,
    "masked_id_and_name": 0.9,
    "exact_name": 0.8,
}


@dataclass(frozen=True)
class LinkKey:
    """Look up entities holding identifier ``(id_type, value)``; ``name`` must also agree when
    set (a masked id alone is shared by many people)."""

    id_type: str
    value: str
    rule: str
    confidence: float
    name: str | None = None


@dataclass(frozen=True)
class PartyKeys:
    kind: str
    name: str
    keys: list[LinkKey]
    identifiers: list[Identifier]
    # Valid USCC / resident id of the record: an entity holding a different one is a conflict.
    strong: dict[str, str] = field(default_factory=dict)
    region: str | None = None

    @functools.cached_property
    def strong_codes(self) -> StrongCodes:
        """:attr:`strong` as the hard rule (``matching.strong_codes``) takes it. Read once per
        keys: :class:`PartyKeysCache` hands the same keys to every record of a party."""
        return {kind: frozenset((value,)) for kind, value in self.strong.items()}


def normalise_name(name: str) -> str:
    """Full-width to half-width, spaces removed, brackets unified: exact-name comparisons
    should not fail on typography."""
    text = unicodedata.normalize("NFKC", name)
    return "".join(text.split()).replace("[", "(").replace("]", ")")


def field_hint(kind: IdentifierKind | None, raw: str) -> IdentifierKind | None:
    """The column's declared kind, unless the value's length says it is another code: feeds
    put old organization codes and 15-char numbers in their USCC column."""
    if kind is IdentifierKind.USCC and len(clean_code(raw)) != 18:
        return None
    return kind


def guess_kind(record: Mapping[str, Any], identifiers: list[Identifier]) -> str:
    """Entity kind from the declared party type, else from the shape of its codes."""
    declared = record.get("party_kind")
    by_declared = {
        "natural_person": "natural_person",
        "individual_business": "individual_business",
        "unincorporated_organization": "other_organization",
        "legal_person": "legal_entity",
    }
    if declared in by_declared:
        return by_declared[str(declared)]
    if _PERSON_ID_KINDS & {i.kind for i in identifiers}:
        return "natural_person"
    for ident in identifiers:
        if ident.kind is IdentifierKind.USCC and ident.value.startswith("92"):
            return "individual_business"
    return "legal_entity"


def party_keys(record: Mapping[str, Any]) -> PartyKeys:
    """The identifiers of a validated record and the ordered keys to look its entity up by."""
    name = normalise_name(str(record.get("party_name") or ""))
    identifiers: list[Identifier] = []
    for field_name, kind in _CODE_FIELDS:
        raw = record.get(field_name)
        if raw:
            identifiers.append(parse_identifier(str(raw), field_hint(kind, str(raw))))

    keys: list[LinkKey] = []
    strong: dict[str, str] = {}
    region: str | None = None
    org_keys: list[str] = []
    for ident in identifiers:
        kind = ident.kind
        if kind is IdentifierKind.USCC and ident.valid:
            strong["uscc"] = ident.value
            keys.append(_key("uscc", ident.value, "exact_uscc"))
            region = region or ident.value[2:8]
        elif kind in (IdentifierKind.RESIDENT_ID, IdentifierKind.RESIDENT_ID_15) and ident.valid:
            strong["resident_id"] = ident.value
            keys.append(_key("resident_id", ident.value, "exact_resident_id"))
            region = region or ident.value[:6]
        elif kind is IdentifierKind.REGISTRATION_NUMBER and ident.valid:
            keys.append(_key("registration_number", ident.value, "exact_registration_number"))
        elif kind is IdentifierKind.MASKED_ID and name:
            keys.append(_key("masked_id", ident.value, "masked_id_and_name", name=name))
            region = region or (ident.value[:6] if ident.value[:6].isdigit() else None)
        elif kind is IdentifierKind.OTHER and ident.valid:
            keys.append(_key("other", ident.value, "exact_other_code"))
        elif not ident.valid and ident.value:
            # The same mistyped code from the same kind of source is still the same party.
            keys.append(_key(_stored_type(kind), ident.value, "exact_flagged_code"))
        org = org_code_of(ident.value, kind) if kind is not IdentifierKind.MASKED_ID else None
        if org and org not in org_keys:
            org_keys.append(org)
    keys += [_key("org_code", org, "org_code_of_old_code") for org in org_keys]
    party_kind = guess_kind(record, identifiers)
    # A person's name alone never links: homonyms are everywhere (the matcher weighs a name
    # with a birth date, its rarity and the rest instead).
    if not identifiers and name and party_kind != "natural_person":
        keys.append(_key("name", name, "exact_name"))
    keys.sort(key=lambda k: -k.confidence)
    return PartyKeys(
        kind=party_kind,
        name=name,
        keys=keys,
        identifiers=identifiers,
        strong=strong,
        region=region,
    )


# What party_keys reads of a record: its name, its declared kind and its code fields.
_KEY_FIELDS = ("party_name", "party_kind", *(name for name, _ in _CODE_FIELDS))
_TEXT_OR_NONE = {str, type(None)}


class PartyKeysCache:
    """:func:`party_keys` for many records: records with the same name, declared kind and
    code fields get the same :class:`PartyKeys` (a party's records come one after the other
    in a feed, and parsing its codes is most of the work). The result is shared: read it,
    never change it. Only records whose fields are all text (or missing) are cached, so
    values that are equal without being the same (``1`` and ``1.0``) are never confused.
    At most ``maxsize`` entries are kept; a full cache starts again."""

    def __init__(self, maxsize: int = 1 << 14) -> None:
        self.maxsize = maxsize
        self._cache: dict[tuple[Any, ...], PartyKeys] = {}

    def __call__(self, record: Mapping[str, Any]) -> PartyKeys:
        key = tuple(map(record.get, _KEY_FIELDS))
        if not set(map(type, key)) <= _TEXT_OR_NONE:
            return party_keys(record)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.maxsize:
                self._cache.clear()
            found = self._cache[key] = party_keys(record)
        return found


def stored_identifiers(keys: PartyKeys) -> list[tuple[str, str, bool, str | None]]:
    """``(id_type, value, valid, problem)`` rows to attach to the entity, org codes included."""
    rows: list[tuple[str, str, bool, str | None]] = []
    for ident in keys.identifiers:
        if ident.value:
            rows.append((_stored_type(ident.kind), ident.value, ident.valid, ident.problem))
    for key in keys.keys:
        if key.id_type == "org_code":
            rows.append(("org_code", key.value, True, None))
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        if (row[0], row[1]) not in seen:
            seen.add((row[0], row[1]))
            unique.append(row)
    return unique


def conflicts(keys: PartyKeys, entity_strong: StrongCodes) -> list[str]:
    """Why the record cannot belong to an entity holding ``entity_strong`` valid codes: the
    hard rule (:func:`~matching.strong_codes.strong_conflicts`) seen from the record."""
    return conflict_reasons(strong_conflicts(keys.strong_codes, entity_strong))


def conflict_reasons(found: Iterable[StrongConflict]) -> list[str]:
    """The record's side of the hard rule's conflicts (the record's ``strong_codes`` as
    ``ours``): what the linker's explanation says of each."""
    # The record holds one code of a kind, so a conflict always has a code only the entity
    # holds: the smallest is named.
    return [
        f"entity holds a different valid {conflict.kind} ({min(conflict.theirs_only)})"
        for conflict in found
    ]


def _stored_type(kind: IdentifierKind) -> str:
    return "resident_id" if kind is IdentifierKind.RESIDENT_ID_15 else kind.value


def _key(id_type: str, value: str, rule: str, *, name: str | None = None) -> LinkKey:
    return LinkKey(id_type, value, rule, RULE_CONFIDENCE[rule], name)
