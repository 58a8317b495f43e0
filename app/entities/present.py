"""Turning entities, identifiers and records into response dicts, masked for the audience.

Masking (core/rules/sharing.py, domain.md): only regulators see resident id numbers and phone
numbers in full; analysts and departments get masked ids (``330106********1234``) and masked
free text; a person's birth date and gender (golden values, and the matcher's sentences
about them) are for regulators alone. The public (``public=True``) sees natural persons' names
masked (``张*``), no identifiers, and only the fields a publicity site shows. USCCs and
organization codes are not personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.models import ApiClient, CreditRecord, EntityIdentifier, EntityKind, IdentifierType, Role
from core.rules.publicity import effective_status
from core.rules.sharing import mask_person_name, mask_personal_text, scrub, sees_full_identifiers
from matching.personal_numbers import MaskLevel, mask_personal_numbers
from matching.resident_ids import mask_resident_id

# A natural person's data beyond name and identifiers: golden-record fields and match
# comparisons only regulators see (a birth date narrows a masked id down to a few people).
PERSONAL_FIELDS = frozenset({"birth_date", "gender"})


@dataclass(frozen=True)
class Viewer:
    """Who is looking, what they may see, and the day they look on."""

    client: ApiClient | None
    role: Role
    feed_ids: frozenset[int]
    today: date
    # Every feed's id when known (read with ``feed_ids``): a viewer seeing them all has nothing
    # hidden from it, and existence checks need not ask the database again.
    all_feed_ids: frozenset[int] | None = None

    @property
    def full_identifiers(self) -> bool:
        return sees_full_identifiers(self.role)


def text_for(viewer: Viewer, text: str | None) -> str | None:
    if text is None or viewer.full_identifiers:
        return text
    return mask_personal_text(text)


def identifier_value(viewer: Viewer, ident: EntityIdentifier, kind: EntityKind) -> str:
    """The identifier's value as this viewer may see it."""
    return code_value_for(viewer, ident.id_type.value, ident.value, kind)


def code_value_for(viewer: Viewer, id_type: str, value: str, kind: EntityKind) -> str:
    """An identifier value (``id_type`` as stored) as this viewer may see it."""
    # A person's every code may be an id number in disguise (a 15-digit "registration
    # number" can be an old resident id); a company's codes are public, its resident ids
    # (an operator's) are not.
    if viewer.full_identifiers or id_type == IdentifierType.MASKED_ID.value:
        return value
    if kind is EntityKind.NATURAL_PERSON or id_type == IdentifierType.RESIDENT_ID.value:
        return mask_resident_id(value)
    return value


def identifier_views(
    viewer: Viewer, identifiers: Sequence[Any], kind: EntityKind
) -> list[dict[str, Any]]:
    """``EntityIdentifier`` objects, or rows of their columns, as this viewer may see them."""
    seen: set[tuple[str, str]] = set()
    views = []
    for ident in sorted(identifiers, key=lambda i: (i.id_type.value, i.value)):
        value = identifier_value(viewer, ident, kind)
        if (ident.id_type.value, value) in seen:
            continue
        seen.add((ident.id_type.value, value))
        views.append(
            {
                "type": ident.id_type.value,
                "value": value,
                "valid": ident.valid,
                "problem": text_for(viewer, ident.problem),
            }
        )
    return views


def mask_explanation(viewer: Viewer, explanation: Any, kind: EntityKind) -> Any:
    """A match explanation (its keys are ``{"type", "value", ...}``) with personal
    identifier values masked for this viewer, and any id number left in its text."""
    if viewer.full_identifiers:
        return explanation
    return scrub(_mask_keys(viewer, explanation, kind))


def _mask_keys(viewer: Viewer, value: Any, kind: EntityKind) -> Any:
    if isinstance(value, list):
        return [_mask_keys(viewer, v, kind) for v in value]
    if not isinstance(value, dict):
        return value
    masked = {k: _mask_keys(viewer, v, kind) for k, v in value.items()}
    if masked.get("field") in PERSONAL_FIELDS and isinstance(masked.get("why"), str):
        # The comparator's sentence names the dates and sexes compared; its level does not.
        masked["why"] = f"{masked['field']}: {masked.get('level')} (values for regulators only)"
    id_type = masked.get("type")
    if isinstance(id_type, str) and id_type != "name" and isinstance(masked.get("value"), str):
        masked["value"] = code_value_for(viewer, id_type, masked["value"], kind)
    return masked


def title_of(
    title: str | None, list_name: str | None, grade: str | None, decision_number: str | None
) -> str | None:
    """What a record is called: its title, else its list's name, its grade (tax grades and
    customs ratings have no title) or its decision number."""
    return title or list_name or grade or decision_number


def record_title(record: CreditRecord) -> str | None:
    return title_of(record.title, record.list_name, record.grade, record.decision_number)


def record_view(
    viewer: Viewer,
    record: CreditRecord,
    *,
    feed_code: str,
    department_code: str,
    department_name: str,
    source_key: str,
) -> dict[str, Any]:
    """A record for a government caller: every column but ``extra`` (which repeats the
    party's raw codes), free text masked for roles without full identifiers."""
    return {
        "id": record.id,
        "category": record.category.value,
        "subtype": record.subtype,
        "severity": record.severity.value if record.severity else None,
        "status": effective_status(record, viewer.today).value,
        "recorded_status": record.status.value,
        "party_name": text_for(viewer, record.party_name),
        "title": text_for(viewer, record_title(record)),
        "decision_number": record.decision_number,
        "content": text_for(viewer, record.content),
        "legal_basis": text_for(viewer, record.legal_basis),
        "decision_date": record.decision_date,
        "valid_from": record.valid_from,
        "valid_to": record.valid_to,
        "publicity_end": record.publicity_end,
        "authority_name": record.authority_name,
        "authority_uscc": record.authority_uscc,
        "fine_amount": record.fine_amount,
        "confiscated_amount": record.confiscated_amount,
        "grade": record.grade,
        "list_name": record.list_name,
        "removed_on": record.removed_on,
        "removal_reason": text_for(viewer, record.removal_reason),
        "link_confidence": record.link_confidence,
        "source": {
            "feed": feed_code,
            "department": department_code,
            "department_name": department_name,
            "source_record_id": record.source_record_id,
            "source_key": text_for(viewer, source_key),
        },
    }


def public_name(kind: EntityKind, name: str) -> str:
    return mask_person_name(name) if kind is EntityKind.NATURAL_PERSON else name


def public_text(text: str | None, *, kind: EntityKind, names: list[str]) -> str | None:
    """Free text for the public (remarks, facts, legal basis): personal numbers masked at the
    public level (phone numbers as for analysts, resident ids, full or masked, starred out
    entirely) and, for a natural person, their name masked wherever it appears."""
    if text is None:
        return None
    text = mask_personal_numbers(text, MaskLevel.PUBLIC)
    if kind is EntityKind.NATURAL_PERSON:
        for name in sorted({n for n in names if n}, key=len, reverse=True):
            text = text.replace(name, mask_person_name(name))
    return text


def public_record_view(
    record: CreditRecord, *, kind: EntityKind, names: list[str], department_name: str, today: date
) -> dict[str, Any]:
    """A published record as a publicity site shows it: no source ids, no party codes."""

    def clean(text: str | None) -> str | None:
        return public_text(text, kind=kind, names=[*names, record.party_name])

    return {
        "id": record.id,
        "category": record.category.value,
        "severity": record.severity.value if record.severity else None,
        "status": effective_status(record, today).value,
        "party_name": public_name(kind, record.party_name),
        "title": clean(record_title(record)),
        "decision_number": clean(record.decision_number),
        "content": clean(record.content),
        "legal_basis": clean(record.legal_basis),
        "decision_date": record.decision_date,
        "valid_to": record.valid_to,
        "publicity_end": record.publicity_end,
        "authority_name": record.authority_name,
        "fine_amount": record.fine_amount,
        "confiscated_amount": record.confiscated_amount,
        "grade": record.grade,
        "list_name": record.list_name,
        "department": department_name,
    }
