"""Attach accepted records to entities by exact identifiers (the rules in ``matching.exact``),
creating an entity when none matches, and keep each entity's golden record and identifiers.

One ``ExactLinker`` serves one batch: its look-up cache lives exactly as long as the
transaction it read from, so a rolled-back batch can never leave stale entity ids behind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    DecidedBy,
    Entity,
    EntityAttribute,
    EntityIdentifier,
    EntityKind,
    IdentifierType,
    MatchDecision,
    MatchLink,
    SourceRecord,
    new_public_id,
)
from matching.exact import ALGORITHM, LinkKey, PartyKeys, conflicts, party_keys, stored_identifiers
from matching.identifiers import parse_masked_id, resident_id_birth_date

# Golden-record fields taken from records, in the order the profile shows them.
GOLDEN_FIELDS = ("name", "legal_rep", "address", "birth_date")
_STRONG_TYPES = (IdentifierType.USCC, IdentifierType.RESIDENT_ID)


@dataclass
class LinkOutcome:
    entity: Entity
    confidence: float
    created: bool
    explanation: dict[str, Any] = field(default_factory=dict)


class ExactLinker:
    def __init__(self, *, session: Session) -> None:
        self.session = session
        self._by_key: dict[tuple[str, str], list[int]] = {}

    def link(
        self, *, record: dict[str, Any], source: SourceRecord, authoritative_name: bool
    ) -> LinkOutcome:
        """Find or create the entity of a validated record, record why, update its golden
        record. ``authoritative_name``: the feed is a registry, so its name wins."""
        keys = party_keys(record)
        skipped: list[dict[str, Any]] = []
        entity: Entity | None = None
        used: LinkKey | None = None
        for key in keys.keys:
            candidates = self._candidates(key, keys)
            if len(candidates) > 1:
                why = f"{len(candidates)} entities hold it"
                skipped.append({"key": _describe(key), "why": why})
                continue
            if not candidates:
                continue
            candidate = candidates[0]
            reasons = conflicts(keys, self._strong_codes(candidate.id))
            if reasons:
                skipped.append(
                    {"key": _describe(key), "entity": candidate.public_id, "why": reasons}
                )
                continue
            entity, used = candidate, key
            break

        created = entity is None
        if entity is None:
            entity = Entity(
                kind=EntityKind(keys.kind),
                public_id=new_public_id(EntityKind(keys.kind)),
                display_name=str(record["party_name"]),
                region_code=keys.region,
            )
            self.session.add(entity)
            self.session.flush()
        elif authoritative_name and entity.display_name != record["party_name"]:
            entity.display_name = str(record["party_name"])
        if entity.region_code is None and keys.region:
            entity.region_code = keys.region

        self._attach_identifiers(entity, keys, source)
        self._update_golden(entity, record, keys, source)
        confidence = used.confidence if used else 1.0
        explanation: dict[str, Any] = {
            "algorithm": ALGORITHM,
            "rule": used.rule if used else "new_entity",
            "matched_on": _describe(used) if used else None,
            "fields": [_describe(k) for k in keys.keys],
            "skipped": skipped,
        }
        if created:
            explanation["why"] = "no existing entity holds any of the record's identifiers"
        self.session.add(
            MatchLink(
                source_record_id=source.id,
                entity_id=entity.id,
                decision=MatchDecision.POSITIVE,
                score=confidence,
                explanation=explanation,
                algorithm=ALGORITHM,
                decided_by=DecidedBy.RULE,
            )
        )
        return LinkOutcome(entity, confidence, created, explanation)

    # ------------------------------------------------------------------ look-ups

    def _candidates(self, key: LinkKey, keys: PartyKeys) -> list[Entity]:
        ids = self._entity_ids(key, keys)
        entities = [self.session.get(Entity, i) for i in ids]
        resolved: dict[int, Entity] = {}
        for entity in entities:
            # Merged entities answer through the entity they were merged into.
            while entity is not None and entity.merged_into_id is not None:
                entity = self.session.get(Entity, entity.merged_into_id)
            if entity is not None:
                resolved[entity.id] = entity
        return list(resolved.values())

    def _entity_ids(self, key: LinkKey, keys: PartyKeys) -> list[int]:
        cache_key = (key.id_type, key.value if key.name is None else f"{key.value}|{key.name}")
        if cache_key in self._by_key:
            return self._by_key[cache_key]
        if key.id_type == "name":
            query = select(Entity.id).where(
                Entity.display_name == key.value,
                Entity.kind == EntityKind(keys.kind),
                Entity.merged_into_id.is_(None),
            )
            ids = list(self.session.scalars(query))
        elif key.id_type == "masked_id":
            ids = self._masked_candidates(key)
        else:
            query = select(EntityIdentifier.entity_id).where(
                EntityIdentifier.id_type == IdentifierType(key.id_type),
                EntityIdentifier.value == key.value,
            )
            ids = sorted(set(self.session.scalars(query)))
        self._by_key[cache_key] = ids
        return ids

    def _masked_candidates(self, key: LinkKey) -> list[int]:
        """People with the same name whose masked id equals this one, or whose full id shows
        the same region and tail (a masked list and a full-id feed about one person)."""
        masked = parse_masked_id(key.value)
        named = select(Entity.id).where(
            Entity.display_name == key.name, Entity.kind == EntityKind.NATURAL_PERSON
        )
        same_mask = select(EntityIdentifier.entity_id).where(
            EntityIdentifier.id_type == IdentifierType.MASKED_ID,
            EntityIdentifier.value == key.value,
            EntityIdentifier.entity_id.in_(named),
        )
        ids = set(self.session.scalars(same_mask))
        if masked is not None and masked.region and masked.tail:
            full = select(EntityIdentifier.entity_id, EntityIdentifier.value).where(
                EntityIdentifier.id_type == IdentifierType.RESIDENT_ID,
                EntityIdentifier.value.like(f"{masked.region}%{masked.tail}"),
                EntityIdentifier.entity_id.in_(named),
            )
            for entity_id, value in self.session.execute(full):
                birth = resident_id_birth_date(value)
                if masked.birth_date is None or masked.birth_date == birth:
                    ids.add(entity_id)
        return sorted(ids)

    def _strong_codes(self, entity_id: int) -> dict[str, set[str]]:
        rows = self.session.execute(
            select(EntityIdentifier.id_type, EntityIdentifier.value).where(
                EntityIdentifier.entity_id == entity_id,
                EntityIdentifier.valid.is_(True),
                EntityIdentifier.id_type.in_(_STRONG_TYPES),
            )
        )
        codes: dict[str, set[str]] = defaultdict(set)
        for id_type, value in rows:
            codes[IdentifierType(id_type).value].add(value)
        return codes

    # ------------------------------------------------------------------ updates

    def _attach_identifiers(self, entity: Entity, keys: PartyKeys, source: SourceRecord) -> None:
        existing = {(i.id_type.value, i.value) for i in entity.identifiers}
        for id_type, value, valid, problem in stored_identifiers(keys):
            if (id_type, value) in existing:
                continue
            entity.identifiers.append(
                EntityIdentifier(
                    id_type=IdentifierType(id_type),
                    value=value,
                    valid=valid,
                    problem=(problem or "")[:300] or None,
                    source_record_id=source.id,
                )
            )
            existing.add((id_type, value))
            self._forget(id_type, value, keys.name)
        self._forget("name", keys.name, None)

    def _forget(self, id_type: str, value: str, name: str | None) -> None:
        """Drop cached look-ups a new identifier or entity makes stale."""
        self._by_key.pop((id_type, value), None)
        if name:
            self._by_key.pop((id_type, f"{value}|{name}"), None)
        if id_type == "resident_id":
            # A full id can answer masked look-ups of the same region and tail.
            for cached in [k for k in self._by_key if k[0] == "masked_id"]:
                del self._by_key[cached]

    def _update_golden(
        self, entity: Entity, record: dict[str, Any], keys: PartyKeys, source: SourceRecord
    ) -> None:
        birth: date | None = None
        if "resident_id" in keys.strong:
            birth = resident_id_birth_date(keys.strong["resident_id"])
        values = {
            "name": record.get("party_name"),
            "legal_rep": record.get("legal_rep"),
            "address": record.get("address"),
            "birth_date": birth.isoformat() if birth else None,
        }
        current = {a.field: a for a in entity.attributes if a.is_current}
        for field_name in GOLDEN_FIELDS:
            value = values[field_name]
            if value is None:
                continue
            old = current.get(field_name)
            if old is not None and old.value == str(value):
                continue
            if old is not None:
                old.is_current = False
            entity.attributes.append(
                EntityAttribute(
                    field=field_name,
                    value=str(value),
                    source_record_id=source.id,
                    feed_id=source.feed_id,
                )
            )


def _describe(key: LinkKey | None) -> dict[str, Any] | None:
    if key is None:
        return None
    described: dict[str, Any] = {
        "type": key.id_type,
        "value": key.value,
        "rule": key.rule,
        "confidence": key.confidence,
    }
    if key.name:
        described["name"] = key.name
    return described
