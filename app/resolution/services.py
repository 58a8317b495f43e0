"""The review queue as a reviewer reads it: the two entities of each unsure pair side by side,
field by field, each row with the matcher's comparison level and weight, then the total and
the decision thresholds, so the pair can be decided without opening anything else.

Values are what each entity holds now (its golden values, chosen as the profile chooses them
by ``resolution.golden``, and its identifiers); the comparisons are those the matcher made
when it queued the pair. Personal data is masked for the viewer as on the profile
(``app.entities.present``): birth date and gender for regulators alone, id numbers and free
text masked for the roles that see them masked, values of feeds the viewer may not see left
out. Showing a natural person's values writes an ``entity.read`` audit event (view
``review``) into the caller's session, as opening the profile does. Never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.entities.present import (
    PERSONAL_FIELDS,
    Viewer,
    code_value_for,
    mask_explanation,
    text_for,
)
from core.audit import record_event
from core.models import Entity, EntityIdentifier, EntityKind, EntityReview
from resolution.golden import GOLDEN_FIELDS, attribute_candidates, choose

# The rows of the comparison, in this order: the matcher's fields (matching.model), with the
# golden fields it does not compare after them.
FIELD_ORDER = (
    "identifiers",
    "name",
    "legal_rep",
    "address",
    "birth_date",
    "gender",
    "phone",
    "postcode",
)


def side_by_side(
    *, session: Session, viewer: Viewer, reviews: list[EntityReview]
) -> dict[int, dict[str, Any]]:
    """Each review's comparison by review id: ``left`` and ``right`` (the queued entity and
    its candidate), ``fields`` (one row a field: both values, level, weight, why),
    ``total_weight``, ``probability``, ``decision``, ``rule`` and ``thresholds``."""
    entities = {r.entity.id: r.entity for r in reviews} | {
        r.candidate.id: r.candidate for r in reviews
    }
    values = _golden_values(session, viewer, list(entities))
    codes = _identifiers(session, viewer, entities)
    shown: dict[int, dict[str, Any]] = {}
    for review in reviews:
        kind = review.entity.kind
        explanation = mask_explanation(viewer, review.explanation or {}, kind)
        left, right = review.entity, review.candidate
        sides = (_side(left, values, codes), _side(right, values, codes))
        shown[review.id] = {
            "left": _head(left),
            "right": _head(right),
            "fields": _rows(viewer, explanation, sides),
            "total_weight": explanation.get("total_weight"),
            "probability": explanation.get("probability"),
            "decision": explanation.get("decision"),
            "rule": explanation.get("rule_text") or explanation.get("rule"),
            "thresholds": explanation.get("thresholds"),
        }
    _audit_people(session, viewer, reviews)
    return shown


def _side(
    entity: Entity, values: dict[int, dict[str, str | None]], codes: dict[int, list[str]]
) -> dict[str, Any]:
    """One entity's values by field; without a golden name (made by hand), its display name."""
    return {
        "name": entity.display_name,
        **values.get(entity.id, {}),
        "identifiers": codes.get(entity.id),
    }


def _head(entity: Entity) -> dict[str, Any]:
    return {"public_id": entity.public_id, "kind": entity.kind.value, "name": entity.display_name}


def _rows(
    viewer: Viewer, explanation: dict[str, Any], sides: tuple[dict[str, Any], dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row a field any side holds or the matcher compared, in :data:`FIELD_ORDER`."""
    compared = {c["field"]: c for c in explanation.get("comparisons") or [] if isinstance(c, dict)}
    names = set(compared) | {f for side in sides for f, v in side.items() if v}
    order = {name: i for i, name in enumerate(FIELD_ORDER)}
    rows = []
    for name in sorted(names, key=lambda f: (order.get(f, len(order)), f)):
        comparison = compared.get(name, {})
        hidden = name in PERSONAL_FIELDS and not viewer.full_identifiers
        rows.append(
            {
                "field": name,
                "left": None if hidden else sides[0].get(name),
                "right": None if hidden else sides[1].get(name),
                "hidden": hidden,
                "level": comparison.get("level"),
                "weight": comparison.get("weight"),
                "why": comparison.get("why"),
            }
        )
    return rows


def _golden_values(
    session: Session, viewer: Viewer, entity_ids: list[int]
) -> dict[int, dict[str, str | None]]:
    """Each entity's golden values from the feeds the viewer may see, masked for them."""
    if not entity_ids:
        return {}
    by_entity: dict[int, list[Any]] = {}
    for candidate in attribute_candidates(session, entity_ids):
        entity_id, feed_id = candidate.row
        if feed_id is not None and feed_id not in viewer.feed_ids:
            continue
        if candidate.field in PERSONAL_FIELDS and not viewer.full_identifiers:
            continue
        by_entity.setdefault(entity_id, []).append(candidate)
    return {
        entity_id: {
            name: text_for(viewer, winner.value)
            for name, (winner, _why) in choose(candidates).items()
            if name in GOLDEN_FIELDS
        }
        for entity_id, candidates in by_entity.items()
    }


def _identifiers(
    session: Session, viewer: Viewer, entities: dict[int, Entity]
) -> dict[int, list[str]]:
    """Each entity's identifiers as ``type value`` (masked for the viewer), sorted."""
    found: dict[int, set[str]] = {}
    if not entities:
        return {}
    rows = session.execute(
        select(EntityIdentifier.entity_id, EntityIdentifier.id_type, EntityIdentifier.value).where(
            EntityIdentifier.entity_id.in_(list(entities))
        )
    )
    for entity_id, id_type, value in rows:
        kind = entities[entity_id].kind
        shown = code_value_for(viewer, id_type.value, value, kind)
        found.setdefault(entity_id, set()).add(f"{id_type.value} {shown}")
    return {entity_id: sorted(codes) for entity_id, codes in found.items()}


def _audit_people(session: Session, viewer: Viewer, reviews: list[EntityReview]) -> None:
    """An ``entity.read`` event for each natural person whose values the page showed."""
    seen: set[str] = set()
    for review in reviews:
        for entity in (review.entity, review.candidate):
            if entity.kind is not EntityKind.NATURAL_PERSON or entity.public_id in seen:
                continue
            seen.add(entity.public_id)
            record_event(
                session=session,
                client=viewer.client,
                action="entity.read",
                target_type="entity",
                target_id=entity.public_id,
                details={"view": "review", "review": review.id, "role": viewer.role.value},
            )
