"""Attach accepted records to entities by exact identifiers (the rules in ``matching.exact``),
creating an entity when none matches, and keep each entity's golden record and identifiers.

One ``ExactLinker`` serves one batch. ``prefetch`` loads, in a handful of queries, every
entity any record of the batch could point at (with its identifiers and golden record) as
:class:`~resolution.entity_views.EntityView` s; the look-ups of ``link`` then run in memory,
entities created in the batch join the same maps, and :meth:`ExactLinker.flush` writes the
batch's new entities, identifiers, golden values and match links with one statement per table.
The maps live exactly as long as the batch's transaction, so a rolled-back batch can never
leave stale entities behind.

A reviewer's "not the same" is never overridden: a record already linked to an entity (a new
version of it, or a replayed record) is never moved to an entity a reviewer rejected for that
entity, neither by an identifier nor by the matcher.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import (
    DecidedBy,
    Entity,
    EntityIdentifier,
    EntityKind,
    EntityReview,
    IdentifierType,
    MatchDecision,
    MatchLink,
    ReviewStatus,
    new_public_id,
    utcnow,
)
from matching.exact import (
    ALGORITHM,
    LinkKey,
    PartyKeys,
    conflict_reasons,
    party_keys,
    stored_identifiers,
)
from matching.model import Decision
from matching.records import Prepared, prepare
from matching.resident_ids import parse_masked_id, resident_id_birth_date
from matching.resolve import ALGORITHM as FUZZY_ALGORITHM
from matching.strong_codes import strong_conflicts
from resolution.entity_views import EntityView, EntityViews, IdentView
from resolution.fuzzy_linking import FuzzyLinker, FuzzyOutcome, record_for_matching
from resolution.golden import update_golden
from resolution.survivors import entity_group_ids

_IN_CHUNK = 500


@dataclass
class LinkOutcome:
    entity: EntityView
    confidence: float
    created: bool
    explanation: dict[str, Any] = field(default_factory=dict)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


class ExactLinker:
    def __init__(self, *, session: Session, fuzzy: FuzzyLinker | None = None) -> None:
        self.session = session
        self.views = EntityViews(session)
        # Consulted when no identifier decides (see resolution.fuzzy_linking).
        self.fuzzy = fuzzy
        if fuzzy is not None:
            fuzzy.views = self.views
        self._by_code: dict[tuple[str, str], list[EntityView]] = defaultdict(list)
        self._by_name: dict[tuple[str, str], list[EntityView]] = defaultdict(list)
        self._links: list[tuple[int, EntityView, float, dict[str, Any], str]] = []
        self._loaded_codes: set[tuple[str, str]] = set()
        self._loaded_names: set[str] = set()
        # What _index has indexed of each entity: (identifiers, name).
        self._indexed: dict[int, tuple[int, str]] = {}

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
        for entity in self.views.load(entity_ids):
            self._index(entity)

    def _index(self, entity: EntityView) -> None:
        """Make ``entity`` findable by its identifiers and name. Called after every link, so
        only what changed since the last call is indexed: identifiers are only ever
        appended, and the name is indexed again when it changed (the old one stays)."""
        done = self._indexed.get(id(entity))
        count, name = len(entity.identifiers), entity.display_name
        if done is not None and done[0] == count and done[1] == name:
            return
        for ident in entity.identifiers[done[0] if done is not None else 0 :]:
            bucket = self._by_code[(ident.id_type.value, ident.value)]
            if not any(e is entity for e in bucket):
                bucket.append(entity)
        if done is None or done[1] != name:
            bucket = self._by_name[(entity.kind.value, name)]
            if not any(e is entity for e in bucket):
                bucket.append(entity)
        # Keyed by identity: the view stays alive in the maps as long as this entry does.
        self._indexed[id(entity)] = (count, name)

    def holds_any(self, keys: PartyKeys) -> bool:
        """Whether an entity loaded so far holds one of the record's keys (if none does, only
        the matcher can link the record)."""
        for key in keys.keys:
            if key.id_type == "name":
                if self._by_name.get((keys.kind, key.value)):
                    return True
            elif key.id_type == "masked_id":
                if self._masked_candidates(key):
                    return True
            elif self._by_code.get((key.id_type, key.value)):
                return True
        return False

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
        source_id: int,
        feed_id: int,
        authoritative_name: bool,
        keys: PartyKeys | None = None,
        linked_to: int | None = None,
        prepared: Prepared | None = None,
    ) -> LinkOutcome:
        """Find or create the entity of a validated record (stored as source record
        ``source_id`` of feed ``feed_id``), record why, update its golden record.
        ``authoritative_name``: the feed is a registry, so its name wins. ``linked_to``: the
        entity the record's earlier version is linked to; entities a reviewer decided are not
        that one are never chosen. ``prepared``: the record as the matcher sees it, if already
        made. Nothing is written until :meth:`flush`."""
        keys = keys or party_keys(record)
        self._ensure_loaded(keys)
        rejected = self._rejected_for(linked_to)
        entity, used, skipped = self._by_identifiers(keys, rejected)
        fuzzy: FuzzyOutcome | None = None
        matched: Prepared | None = None  # set when the matcher was consulted
        if entity is None and self.fuzzy is not None:
            matched = prepared or prepare(
                record_for_matching(record, kind=keys.kind, record_id=f"record:{source_id}")
            )
            fuzzy = self.fuzzy.best_match(matched, EntityKind(keys.kind), rejected=rejected)
            if fuzzy is not None and fuzzy.explanation.decision is Decision.POSITIVE:
                entity = fuzzy.entity
        created = entity is None
        if entity is None:
            entity = self._create(record, keys, fuzzy)
        self._update_entity(entity, record, keys, matched, authoritative_name)
        self._attach_identifiers(entity, keys, source_id)
        update_golden(
            self.views, entity, record=record, keys=keys, source_id=source_id, feed_id=feed_id
        )
        self._index(entity)
        confidence, explanation = self._explain(keys, used, skipped, fuzzy, matched, created)
        self._links.append(
            (source_id, entity, confidence, explanation, str(explanation["algorithm"]))
        )
        return LinkOutcome(entity, confidence, created, explanation)

    def _by_identifiers(
        self, keys: PartyKeys, rejected: frozenset[int]
    ) -> tuple[EntityView | None, LinkKey | None, list[dict[str, Any]]]:
        """The entity found by the record's strongest key that decides (held by exactly one
        entity, which no reviewer rejected and the hard rule allows), with that key; and the
        keys passed over on the way, each with why."""
        skipped: list[dict[str, Any]] = []
        for key in keys.keys:
            candidates = self._candidates(key, keys)
            if len(candidates) > 1:
                why = f"{len(candidates)} entities hold it"
                skipped.append({"key": _describe(key), "why": why})
                continue
            if not candidates:
                continue
            candidate = candidates[0]
            if candidate.id is not None and candidate.id in rejected:
                why = "a reviewer decided these are not the same"
                skipped.append({"key": _describe(key), "entity": candidate.public_id, "why": why})
                continue
            # A record without a valid USCC or resident id cannot break the hard rule.
            found = (
                strong_conflicts(keys.strong_codes, candidate.strong_codes()) if keys.strong else ()
            )
            if found:
                reasons = conflict_reasons(found)
                skipped.append(
                    {"key": _describe(key), "entity": candidate.public_id, "why": reasons}
                )
                continue
            return candidate, key, skipped
        return None, None, skipped

    def _create(
        self, record: dict[str, Any], keys: PartyKeys, fuzzy: FuzzyOutcome | None
    ) -> EntityView:
        """A new entity for the record; queued for a regulator with the matcher's best
        candidate when the matcher was unsure."""
        kind = EntityKind(keys.kind)
        entity = self.views.create(
            kind=kind,
            public_id=new_public_id(kind),
            display_name=str(record["party_name"]),
            region_code=keys.region,
        )
        if fuzzy is not None and fuzzy.explanation.decision is Decision.UNSURE:
            assert self.fuzzy is not None
            self.fuzzy.review(entity, fuzzy.entity, fuzzy.explanation)
        return entity

    def _update_entity(
        self,
        entity: EntityView,
        record: dict[str, Any],
        keys: PartyKeys,
        matched: Prepared | None,
        authoritative_name: bool,
    ) -> None:
        """What the record changes of its entity besides identifiers and golden values: the
        matcher's blocking keys when it was consulted (else a registry's name), a region
        when the entity had none."""
        if self.fuzzy is not None and matched is not None:
            self.fuzzy.index(entity, matched)
        elif authoritative_name and entity.display_name != record["party_name"]:
            entity.display_name = str(record["party_name"])
            entity.dirty = entity.id is not None
        if entity.region_code is None and keys.region:
            entity.region_code = keys.region
            entity.dirty = entity.id is not None

    def _explain(
        self,
        keys: PartyKeys,
        used: LinkKey | None,
        skipped: list[dict[str, Any]],
        fuzzy: FuzzyOutcome | None,
        matched: Prepared | None,
        created: bool,
    ) -> tuple[float, dict[str, Any]]:
        """The match link's confidence and explanation: the key that decided (or the
        matcher's decision, or why a new entity), every key of the record, those skipped."""
        confidence = used.confidence if used else 1.0
        explanation: dict[str, Any] = {
            "algorithm": ALGORITHM,
            "rule": used.rule if used else "new_entity",
            "matched_on": _describe(used) if used else None,
            "fields": [_describe(k) for k in keys.keys],
            "skipped": skipped,
        }
        if fuzzy is not None and self.fuzzy is not None:
            explanation["matcher"] = fuzzy.explanation.to_dict()
            explanation["candidate"] = fuzzy.entity.public_id
            # The model decided: linked, or a new entity (unsure or negative).
            explanation["model_version"] = self.fuzzy.model.version
        excluded = self.fuzzy.last_excluded if self.fuzzy is not None and matched else 0
        if excluded:
            explanation["fuzzy_excluded"] = {
                "candidates": excluded,
                "rule": "different_valid_uscc",
                "why": "they hold a different valid USCC: never the same entity",
            }
        if fuzzy is not None and not created:
            confidence = fuzzy.explanation.probability
            explanation["rule"] = "fuzzy_match"
            explanation["algorithm"] = FUZZY_ALGORITHM
        elif created:
            explanation["why"] = "no existing entity holds any of the record's identifiers" + (
                "" if fuzzy is None else f"; best candidate {fuzzy.explanation.decision.value}"
            )
        return confidence, explanation

    def flush(self) -> None:
        """Write the entities, identifiers, golden values, blocking keys, review pairs and
        match links of every ``link`` since the last flush; afterwards every
        ``LinkOutcome.entity`` has its id."""
        self.views.flush()
        # The views were forgotten: so are the maps that point at them.
        self._by_code.clear()
        self._by_name.clear()
        self._indexed.clear()
        self._loaded_codes.clear()
        self._loaded_names.clear()
        if self.fuzzy is not None:
            self.fuzzy.forget()
        if self._links:
            now = utcnow()
            insert_rows(
                self.session,
                MatchLink.__table__,
                [
                    {
                        "source_record_id": source_id,
                        "entity_id": entity.id,
                        "decision": MatchDecision.POSITIVE,
                        "score": score,
                        "explanation": explanation,
                        "algorithm": algorithm,
                        "model_version": explanation.get("model_version"),
                        "decided_by": DecidedBy.RULE,
                        "decided_at": now,
                    }
                    for source_id, entity, score, explanation, algorithm in self._links
                ],
            )
            self._links = []

    def _rejected_for(self, entity_id: int | None) -> frozenset[int]:
        """Ids of the entities (survivors of merges) a reviewer decided are not the entity
        ``entity_id`` nor any entity merged into it."""
        if entity_id is None:
            return frozenset()
        view = self.views.get(entity_id)
        if view is None or view.id is None:
            return frozenset()
        group = entity_group_ids(self.session, self.views.survivor(view).id or entity_id)
        partners = set()
        for left, right in self.session.execute(
            select(EntityReview.entity_id, EntityReview.candidate_entity_id).where(
                EntityReview.status == ReviewStatus.REJECTED,
                or_(
                    EntityReview.entity_id.in_(group),
                    EntityReview.candidate_entity_id.in_(group),
                ),
            )
        ):
            partners.add(right if left in group else left)
        rejected = set()
        for partner in self.views.load(partners):
            survivor = self.views.survivor(partner)
            if survivor.id is not None:
                rejected.add(survivor.id)
        return frozenset(rejected)

    def _candidates(self, key: LinkKey, keys: PartyKeys) -> list[EntityView]:
        if key.id_type == "name":
            found = list(self._by_name.get((keys.kind, key.value), []))
        elif key.id_type == "masked_id":
            found = self._masked_candidates(key)
        else:
            found = list(self._by_code.get((key.id_type, key.value), []))
        resolved: dict[int, EntityView] = {}
        for candidate in found:
            # Merged entities answer through the entity they were merged into.
            entity = self.views.survivor(candidate)
            resolved[id(entity)] = entity
        return list(resolved.values())

    def _masked_candidates(self, key: LinkKey) -> list[EntityView]:
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

    def _attach_identifiers(self, entity: EntityView, keys: PartyKeys, source_id: int) -> None:
        existing = {(i.id_type.value, i.value) for i in entity.identifiers}
        for id_type, value, valid, problem in stored_identifiers(keys):
            if (id_type, value) in existing:
                continue
            self.views.add_identifier(
                entity,
                IdentView(
                    id_type=IdentifierType(id_type),
                    value=value,
                    valid=valid,
                    problem=(problem or "")[:300] or None,
                    source_record_id=source_id,
                ),
            )
            existing.add((id_type, value))


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
