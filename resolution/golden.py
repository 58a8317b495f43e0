"""The golden record: each entity's current name, legal representative, address, birth date
and gender, taken from the records linked to it (the latest value of a field wins; the old ones
stay, no longer current).

Ingest keeps it while linking (:func:`update_golden`, on the batch's entity views); the entity
profile shows its fields in :data:`GOLDEN_FIELDS` order; a split moves the values the moved
records brought to the new entity.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from matching.exact import PartyKeys
from matching.identifier_types import IdentifierKind
from matching.resident_ids import person_facts, resident_id_birth_date, resident_id_sex
from resolution.entity_views import AttrView, EntityView, EntityViews

# Golden-record fields taken from records, in the order the profile shows them.
GOLDEN_FIELDS = ("name", "legal_rep", "address", "birth_date", "gender")


def update_golden(
    views: EntityViews,
    entity: EntityView,
    *,
    record: dict[str, Any],
    keys: PartyKeys,
    source_id: int,
    feed_id: int,
) -> None:
    """Make the values record ``source_id`` (of feed ``feed_id``) brings the entity's current
    ones, where they differ. Birth date and gender come from the record's valid resident id
    when it has one (its check digit vouches for them), else from what a masked id still shows
    (``matching.resident_ids.person_facts``), else from the record's own fields (validated by
    ``ingest.records``: a date, ``"M"`` / ``"F"``)."""
    birth: date | None = record.get("birth_date")
    gender: str | None = record.get("gender")
    for ident in keys.identifiers:
        if ident.kind is IdentifierKind.MASKED_ID:
            facts = person_facts(ident.value)
            if facts is not None:
                birth = facts.birth_date or birth
                gender = facts.sex or gender
    if "resident_id" in keys.strong:
        birth = resident_id_birth_date(keys.strong["resident_id"]) or birth
        gender = resident_id_sex(keys.strong["resident_id"]) or gender
    values = {
        "name": record.get("party_name"),
        "legal_rep": record.get("legal_rep"),
        "address": record.get("address"),
        "birth_date": birth.isoformat() if birth else None,
        "gender": gender,
    }
    current = {a.field: a for a in entity.attributes if a.is_current}
    for field_name in GOLDEN_FIELDS:
        value = values[field_name]
        if value is None:
            continue
        old = current.get(field_name)
        if old is not None and old.value == str(value):
            continue
        views.set_attribute(
            entity,
            AttrView(
                field=field_name,
                value=str(value),
                source_record_id=source_id,
                feed_id=feed_id,
            ),
        )
