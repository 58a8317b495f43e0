"""Attach accepted records to entities by exact identifiers (the rules in ``matching.exact``),
creating an entity when none matches, and keep each entity's golden record and identifiers.

One ``ExactLinker`` serves one batch. ``prefetch`` loads, in a handful of queries, every
entity any record of the batch could point at (with its identifiers and golden record); the
look-ups of ``link`` then run in memory, and entities created in the batch join the same maps.
The maps live exactly as long as the batch's transaction, so a rolled-back batch can never
leave stale entities behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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
from matching.model import Decision
from matching.records import Prepared, prepare
from matching.resolve import ALGORITHM as FUZZY_ALGORITHM

from .fuzzy_linking import FuzzyLinker, FuzzyOutcome, record_for_matching

# Golden-record fields taken from records, in the order the profile shows them.
GOLDEN_FIELDS = ("name", "legal_rep", "address", "birth_date")
_STRONG_TYPES = {IdentifierType.USCC.value, IdentifierType.RESIDENT_ID.value}
_IN_CHUNK = 500


@dataclass
class LinkOutcome:
    entity: Entity
    confidence: float
    created: bool
    explanation: dict[str, Any] = field(default_factory=dict)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


class ExactLinker:
    def __init__(self, *, session: Session, fuzzy: FuzzyLinker | None = None) -> None:
        self.session = session
        # Consulted when no identifier decides (see ingest.fuzzy_linking).
        self.fuzzy = fuzzy
        self._by_code: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        self._by_name: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        self._loaded_codes: set[tuple[str, str]] = set()
        self._loaded_names: set[str] = set()

    # ------------------------------------------------------------------ loading

    def prefetch(self, all_keys: Iterable[PartyKeys]) -> None:
        """Load every entity the given records could link to, in a few queries."""
        codes: dict[str, set[str]] = defaultdict(set)
        names: set[str] = set()
        for keys in all_keys:
            for key in keys.keys:
                if key.id_type == "name":
                    names.add(key.value)
                else:
                    codes[key.id_type].add(key.value)
                if key.name:
                    names.add(key.name)
        entity_ids: set[int] = set()
        for id_type, values in codes.items():
            wanted = [v for v in values if (id_type, v) not in self._loaded_codes]
            for chunk in _chunks(wanted):
                rows = self.session.execute(
                    select(EntityIdentifier.entity_id).where(
                        EntityIdentifier.id_type == IdentifierType(id_type),
                        EntityIdentifier.value.in_(chunk),
                    )
                )
                entity_ids.update(r[0] for r in rows)
            self._loaded_codes.update((id_type, v) for v in wanted)
        wanted_names = [n for n in names if n not in self._loaded_names]
        for chunk in _chunks(wanted_names):
            rows = self.session.execute(select(Entity.id).where(Entity.display_name.in_(chunk)))
            entity_ids.update(r[0] for r in rows)
        self._loaded_names.update(wanted_names)
        self._load_entities(entity_ids)

    def _load_entities(self, entity_ids: set[int]) -> None:
        ids = sorted(entity_ids)
        for start in range(0, len(ids), _IN_CHUNK):
            entities = self.session.scalars(
                select(Entity)
                .where(Entity.id.in_(ids[start : start + _IN_CHUNK]))
                .options(selectinload(Entity.identifiers), selectinload(Entity.attributes))
            )
            for entity in entities:
                self._index(entity)

    def _index(self, entity: Entity) -> None:
        for ident in entity.identifiers:
            bucket = self._by_code[(ident.id_type.value, ident.value)]
            if entity not in bucket:
                bucket.append(entity)
        bucket = self._by_name[(entity.kind.value, entity.display_name)]
        if entity not in bucket:
            bucket.append(entity)

    def _ensure_loaded(self, keys: PartyKeys) -> None:
        missing = any(
            (k.id_type == "name" and k.value not in self._loaded_names)
            or (k.id_type != "name" and (k.id_type, k.value) not in self._loaded_codes)
            for k in keys.keys
        )
        if missing:
            self.prefetch([keys])

    # ------------------------------------------------------------------ linking

    def link(
        self,
        *,
        record: dict[str, Any],
        source: SourceRecord,
        authoritative_name: bool,
        keys: PartyKeys | None = None,
    ) -> LinkOutcome:
        """Find or create the entity of a validated record, record why, update its golden
        record. ``authoritative_name``: the feed is a registry, so its name wins."""
        keys = keys or party_keys(record)
        self._ensure_loaded(keys)
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
            reasons = conflicts(keys, _strong_codes(candidate))
            if reasons:
                skipped.append(
                    {"key": _describe(key), "entity": candidate.public_id, "why": reasons}
                )
                continue
            entity, used = candidate, key
            break

        fuzzy: FuzzyOutcome | None = None
        prepared: Prepared | None = None
        if entity is None and self.fuzzy is not None:
            prepared = prepare(
                record_for_matching(record, kind=keys.kind, record_id=f"record:{id(source)}")
            )
            fuzzy = self.fuzzy.best_match(prepared, EntityKind(keys.kind))
            if fuzzy is not None and fuzzy.explanation.decision is Decision.POSITIVE:
                entity = fuzzy.entity

        created = entity is None
        if entity is None:
            kind = EntityKind(keys.kind)
            entity = Entity(
                kind=kind,
                public_id=new_public_id(kind),
                display_name=str(record["party_name"]),
                region_code=keys.region,
                identifiers=[],
                attributes=[],
            )
            self.session.add(entity)
            if fuzzy is not None and fuzzy.explanation.decision is Decision.UNSURE:
                assert self.fuzzy is not None
                self.fuzzy.review(entity, fuzzy.entity, fuzzy.explanation)
        if self.fuzzy is not None and prepared is not None:
            self.fuzzy.index(entity, prepared)
        elif authoritative_name and entity.display_name != record["party_name"]:
            entity.display_name = str(record["party_name"])
        if entity.region_code is None and keys.region:
            entity.region_code = keys.region

        self._attach_identifiers(entity, keys, source)
        _update_golden(entity, record, keys, source)
        self._index(entity)
        confidence = used.confidence if used else 1.0
        explanation: dict[str, Any] = {
            "algorithm": ALGORITHM,
            "rule": used.rule if used else "new_entity",
            "matched_on": _describe(used) if used else None,
            "fields": [_describe(k) for k in keys.keys],
            "skipped": skipped,
        }
        if fuzzy is not None:
            explanation["matcher"] = fuzzy.explanation.to_dict()
            explanation["candidate"] = fuzzy.entity.public_id
        if fuzzy is not None and not created:
            confidence = fuzzy.explanation.probability
            explanation["rule"] = "fuzzy_match"
            explanation["algorithm"] = FUZZY_ALGORITHM
        elif created:
            explanation["why"] = (
                "no existing entity holds any of the record's identifiers"
                + ("" if fuzzy is None else f"; best candidate {fuzzy.explanation.decision.value}")
            )
        self.session.add(
            MatchLink(
                source_record=source,
                entity=entity,
                decision=MatchDecision.POSITIVE,
                score=confidence,
                explanation=explanation,
                algorithm=str(explanation["algorithm"]),
                decided_by=DecidedBy.RULE,
            )
        )
        return LinkOutcome(entity, confidence, created, explanation)

    def _candidates(self, key: LinkKey, keys: PartyKeys) -> list[Entity]:
        if key.id_type == "name":
            found = list(self._by_name.get((keys.kind, key.value), []))
        elif key.id_type == "masked_id":
            found = self._masked_candidates(key)
        else:
            found = list(self._by_code.get((key.id_type, key.value), []))
        resolved: dict[int, Entity] = {}
        for candidate in found:
            entity: Entity | None = candidate
            # Merged entities answer through the entity they were merged into.
            while entity is not None and entity.merged_into_id is not None:
                entity = self.session.get(Entity, entity.merged_into_id)
            if entity is not None:
                resolved[id(entity)] = entity
        return list(resolved.values())

    def _masked_candidates(self, key: LinkKey) -> list[Entity]:
        """People with the same name whose masked id equals this one, or whose full id shows
        the same region and tail (a masked list and a full-id feed about one person)."""
        named = [
            e
            for e in self._by_name.get((EntityKind.NATURAL_PERSON.value, key.name or ""), [])
            if e.kind is EntityKind.NATURAL_PERSON
        ]
        masked = parse_masked_id(key.value)
        found = []
        for person in named:
            for ident in person.identifiers:
                if ident.id_type is IdentifierType.MASKED_ID and ident.value == key.value:
                    found.append(person)
                    break
                if (
                    ident.id_type is IdentifierType.RESIDENT_ID
                    and masked is not None
                    and masked.region
                    and masked.tail
                    and ident.value.startswith(masked.region)
                    and ident.value.endswith(masked.tail)
                    and masked.birth_date in (None, resident_id_birth_date(ident.value))
                ):
                    found.append(person)
                    break
        return found

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
                    source_record=source,
                )
            )
            existing.add((id_type, value))


def _strong_codes(entity: Entity) -> dict[str, set[str]]:
    codes: dict[str, set[str]] = defaultdict(set)
    for ident in entity.identifiers:
        if ident.valid and ident.id_type.value in _STRONG_TYPES:
            codes[ident.id_type.value].add(ident.value)
    return codes


def _update_golden(
    entity: Entity, record: dict[str, Any], keys: PartyKeys, source: SourceRecord
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
                source_record=source,
                feed_id=source.feed_id,
                is_current=True,
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
