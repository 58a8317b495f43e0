"""Attach accepted records to entities with the engine of ``credithub resolve``
(:mod:`resolution.record_matching`: the record against the records of each candidate entity),
creating an entity when none matches, and keep each entity's golden record and identifiers.

One :class:`EntityLinker` serves one batch. :meth:`EntityLinker.prefetch` reads, in a handful
of queries, every stored record the batch's records share a blocking key with, and their
entities; the decisions of :meth:`EntityLinker.link` then run in memory, records linked in the
batch join the same maps, and :meth:`EntityLinker.flush` writes the batch's new entities,
merges, identifiers, golden values, record views, review pairs and match links with one
statement per table. The maps live exactly as long as the batch's transaction, so a
rolled-back batch can never leave stale entities behind.

A reviewer's "not the same" is never overridden: a record already linked to an entity (a new
version of it, or a replayed record) is never moved to an entity a reviewer rejected for that
entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import (
    DecidedBy,
    EntityKind,
    EntityReview,
    IdentifierType,
    MatchDecision,
    MatchLink,
    ReviewStatus,
    new_public_id,
    utcnow,
)
from matching.exact import LinkKey, PartyKeys, normalise_name, party_keys, stored_identifiers
from matching.match_model import MatchModel
from matching.model import MatchConfig, MatchExplanation
from matching.records import MatchRecord, Prepared, prepare
from matching.resolve import ALGORITHM
from resolution.entity_views import EntityView, EntityViews, IdentView
from resolution.golden import update_golden
from resolution.record_matching import RecordMatcher, Verdict
from resolution.record_views import record_for_matching, view_of
from resolution.review_queue import SettledReviews, settle_pending_reviews
from resolution.survivors import entity_group_ids

_IN_CHUNK = 500


@dataclass
class LinkOutcome:
    entity: EntityView
    confidence: float
    created: bool
    explanation: dict[str, Any] = field(default_factory=dict)


class EntityLinker:
    def __init__(
        self,
        *,
        session: Session,
        config: MatchConfig | None = None,
        model: MatchModel | None = None,
    ) -> None:
        """``model``: the scoring model (default: the newest one stored by ``credithub
        matching train``, else the hand-set weights); ``config``: thresholds and limits."""
        self.session = session
        self.views = EntityViews(session)
        self.matcher = RecordMatcher(session=session, views=self.views, config=config, model=model)
        self._links: list[tuple[int, EntityView, float, dict[str, Any], str]] = []
        # Source records whose current link a new one replaces (relink).
        self._superseded: list[int] = []
        self._no_rejections: bool | None = None  # no reviewer's "not the same" anywhere
        # Relink: skip records no pair with another entity could change (an exact shortcut;
        # False decides every record in full, as the equivalence test compares).
        self.selective = True
        # Entities given a pending review by relink and not written yet: pending from now on,
        # whatever the chunk (the query above sees only what was flushed).
        self._queued_again: set[int] = set()
        # Entities that took in others since the last flush: their pending reviews may ask
        # nothing any more (resolution.review_queue).
        self._merged: list[EntityView] = []
        self.settled = SettledReviews()  # what those closed, over every flush

    def prefetch(self, records: Iterable[Prepared]) -> None:
        """Read every stored record (and its entity) the given records could be compared
        with, in a few queries."""
        self.matcher.prefetch(records)

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
        matchable: MatchRecord | None = None,
    ) -> LinkOutcome:
        """Find or create the entity of a validated record (stored as source record
        ``source_id`` of feed ``feed_id``), record why, update its golden record.
        ``authoritative_name``: the feed is a registry, so its name wins. ``linked_to``: the
        entity the record's earlier version is linked to; entities a reviewer decided are not
        that one are never chosen. ``matchable`` and ``prepared``: the record as the matcher
        takes it (``record_for_matching``) and as prepared, if already made. Nothing is
        written until :meth:`flush`."""
        keys = keys or party_keys(record)
        if matchable is None:
            matchable = record_for_matching(record, kind=keys.kind, record_id=f"record:{source_id}")
        prepared = prepared or prepare(matchable)
        verdict = self.matcher.decide(prepared, rejected=self._rejected_for(linked_to))
        created = not verdict.entities
        if created:
            entity = self._create(record, keys, verdict)
        else:
            entity = verdict.entities[0]
            # The record links entities that were apart: one entity from now on, as resolve's
            # union-find joins the two clusters.
            for other in verdict.entities[1:]:
                self.views.merge(other, into=entity)
                self.matcher.merged(other, into=entity)
                self._merged.append(entity)
        self._update_entity(entity, record, keys, authoritative_name)
        self._attach_identifiers(entity, keys, source_id)
        update_golden(
            self.views, entity, record=record, keys=keys, source_id=source_id, feed_id=feed_id
        )
        self.matcher.remember(
            source_id=source_id, record=prepared, view=view_of(matchable), entity=entity
        )
        confidence, explanation = _explain(keys, verdict, self.matcher.model.version)
        self._links.append((source_id, entity, confidence, explanation, ALGORITHM))
        return LinkOutcome(entity, confidence, created, explanation)

    def relink(self, *, source_id: int, prepared: Prepared) -> LinkOutcome | None:
        """Decide a stored, linked record again with this linker's model (a newer one than
        linked it, :mod:`resolution.relinking`): the entities it now matches are merged into
        its own one, under the same cluster-level rules as at ingest. Never moves the record
        out of its entity (a split is a regulator's decision). Returns the new link (its
        explanation's ``rule`` is ``relinked``) when entities were merged, else None."""
        stored = self.matcher.entity_of(source_id)
        if stored is None:
            return None
        own = self.views.survivor(stored)
        rejected = self._rejected_for(own.id)
        if self.selective and not self.matcher.could_merge(
            prepared, stored_as=source_id, rejected=rejected
        ):
            return None
        verdict = self.matcher.decide(prepared, rejected=rejected, stored_as=source_id)
        merged = [
            entity
            for entity, via in zip(verdict.entities, verdict.via, strict=True)
            if entity is not own and not self._ambiguous_stored(via)
        ]
        if not merged:
            if verdict.alone and verdict.unsure is not None:
                self._review_again(own, *verdict.unsure)
            return None
        for other in merged:
            self.views.merge(other, into=own)
            self.matcher.merged(other, into=own)
            self._merged.append(own)
        keys = party_keys({"party_name": prepared.raw_name})
        confidence, explanation = _explain(keys, verdict, self.matcher.model.version)
        explanation.update(rule="relinked", merged=[e.public_id for e in merged])
        self._superseded.append(source_id)
        self._links.append((source_id, own, confidence, explanation, ALGORITHM))
        return LinkOutcome(own, confidence, False, explanation)

    def _ambiguous_stored(self, source_id: int) -> bool:
        """Whether stored record ``source_id`` (through which another entity would be merged)
        matches entities kept apart by their codes: deciding an older record first must not
        pull in a record that would have joined neither had it been decided itself."""
        record = self.matcher.load_stored([source_id]).get(source_id)
        if record is None:
            return True
        return bool(self.matcher.decide(record, stored_as=source_id).ambiguous)

    def _review_again(
        self, entity: EntityView, candidate: EntityView, explanation: MatchExplanation
    ) -> None:
        """Queue a pair the newer model is unsure about, unless the entity has a review
        pending or a reviewer decided about the pair already."""
        if entity.id is None or candidate.id is None or entity.id in self._queued_again:
            return
        known = self.session.scalar(
            select(EntityReview.id)
            .where(
                or_(
                    EntityReview.entity_id == entity.id,
                    EntityReview.candidate_entity_id == entity.id,
                ),
                or_(
                    EntityReview.status == ReviewStatus.PENDING,
                    EntityReview.entity_id == candidate.id,
                    EntityReview.candidate_entity_id == candidate.id,
                ),
            )
            .limit(1)
        )
        if known is None:
            self._review(entity, candidate, explanation)
            self._queued_again |= {entity.id, candidate.id}

    def _create(self, record: dict[str, Any], keys: PartyKeys, verdict: Verdict) -> EntityView:
        """A new entity for the record; queued for a regulator with the best candidate when
        the engine was unsure."""
        kind = EntityKind(keys.kind)
        entity = self.views.create(
            kind=kind,
            public_id=new_public_id(kind),
            display_name=str(record["party_name"]),
            region_code=keys.region,
        )
        if verdict.unsure is not None:
            candidate, explanation = verdict.unsure
            self._review(entity, candidate, explanation)
        return entity

    def _review(
        self, new: EntityView, candidate: EntityView, explanation: MatchExplanation
    ) -> None:
        """Queue an unsure pair for a regulator. ``new`` was created for this record, so no
        review of the pair can exist yet."""
        self.views.add_review(
            entity=new,
            candidate=candidate,
            score=round(explanation.probability, 6),
            explanation={
                **_six_places(explanation.to_dict()),
                "model_version": self.matcher.model.version,
            },
            algorithm=ALGORITHM,
        )

    def _update_entity(
        self,
        entity: EntityView,
        record: dict[str, Any],
        keys: PartyKeys,
        authoritative_name: bool,
    ) -> None:
        """What the record changes of its entity besides identifiers and golden values: a
        registry's name, a region when the entity had none."""
        if authoritative_name and entity.display_name != record["party_name"]:
            entity.display_name = str(record["party_name"])
            entity.dirty = entity.id is not None
        if entity.region_code is None and keys.region:
            entity.region_code = keys.region
            entity.dirty = entity.id is not None

    def flush(self) -> None:
        """Write the entities, merges, identifiers, golden values, review pairs, record views
        and match links of every ``link`` since the last flush; afterwards every
        ``LinkOutcome.entity`` has its id."""
        self.views.flush()
        self.matcher.flush()
        if self._merged:
            settled = settle_pending_reviews(
                session=self.session,
                entity_ids=[v.id for v in self._merged if v.id is not None],
                merged_by=f"linked by scoring model {self.matcher.model.version}",
            )
            self.settled.confirmed += settled.confirmed
            self.settled.folded += settled.folded
            self._merged = []
        if self._links:
            now = utcnow()
            for start in range(0, len(self._superseded), _IN_CHUNK):
                self.session.execute(
                    update(MatchLink)
                    .where(
                        MatchLink.source_record_id.in_(self._superseded[start : start + _IN_CHUNK]),
                        MatchLink.superseded_at.is_(None),
                    )
                    .values(superseded_at=now)
                )
            self._superseded = []
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
        if self._no_rejections is None:
            # Read once per batch: most databases have no "not the same" at all, and a relink
            # asks for every record.
            self._no_rejections = (
                self.session.scalar(
                    select(EntityReview.id)
                    .where(EntityReview.status == ReviewStatus.REJECTED)
                    .limit(1)
                )
                is None
            )
        if self._no_rejections:
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


def _explain(keys: PartyKeys, verdict: Verdict, model_version: str) -> tuple[float, dict[str, Any]]:
    """The match link's confidence and explanation: the engine's strongest positive pair
    (or why a new entity), the entities the record merged, the links a cluster-level rule
    refused, and every identifier of the record. ``model_version``: the scoring model's,
    named when the model decided (a pair was scored positive or unsure)."""
    used = _matched_on(keys, verdict.best_record)
    explanation: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "rule": (used.rule if used else "matched") if verdict.entities else "new_entity",
        "matched_on": _describe(used),
        "fields": [_describe(k) for k in keys.keys],
        "compared": verdict.compared,
    }
    confidence = 1.0
    if verdict.best is not None:
        # Six places, as the explanation shows it (see _six_places).
        confidence = round(verdict.best.probability, 6)
        explanation["matcher"] = _six_places(verdict.best.to_dict())
        explanation["candidate"] = verdict.entities[0].public_id
    if len(verdict.entities) > 1:
        explanation["merged"] = [e.public_id for e in verdict.entities[1:]]
    if verdict.refused:
        explanation["refused"] = verdict.refused
    if verdict.excluded:
        explanation["excluded"] = verdict.excluded
    if verdict.best is not None or verdict.unsure is not None:
        explanation["model_version"] = model_version
    if verdict.ambiguous:
        explanation["ambiguous"] = verdict.ambiguous
    if not verdict.entities:
        unsure = verdict.unsure
        if verdict.ambiguous:
            explanation["why"] = (
                "matches entities that different valid codes keep apart ("
                + ", ".join(verdict.ambiguous)
                + "): a regulator decides (review)"
            )
        else:
            explanation["why"] = "no record of an existing entity matches" + (
                "" if unsure is None else f"; best candidate {unsure[0].public_id} unsure (review)"
            )
        if unsure is not None:
            explanation["matcher"] = _six_places(unsure[1].to_dict())
            explanation["candidate"] = unsure[0].public_id
    return confidence, explanation


def _six_places(value: Any) -> Any:
    """``value`` (a JSON-like explanation) with every float rounded to six places, as the
    explanation shows its probability: comparator scores carry 16 digits that say nothing, and
    a 16-digit run in a response reads as an id number to anyone scanning it for leaks."""
    if isinstance(value, float):
        return round(value, 6)
    # Strings, most of an explanation's leaves, are taken as they are without a call each.
    if isinstance(value, dict):
        return {k: v if isinstance(v, str) else _six_places(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if isinstance(v, str) else _six_places(v) for v in value]
    return value


def _matched_on(keys: PartyKeys, other: Prepared | None) -> LinkKey | None:
    """The record's strongest identifier key (or, for a company without codes, its exact
    name) that the record it was linked through holds too: the rule named in the link's
    explanation (``exact_uscc``, ``exact_name``, ...); None when only the matcher's fuzzy
    comparisons linked them."""
    if other is None:
        return None
    held = {
        "uscc": other.usccs,
        "resident_id": other.resident_ids,
        "registration_number": other.registration_numbers,
        "org_code": other.org_codes,
        "other": other.others,
    }
    for key in keys.keys:
        if key.rule == "exact_flagged_code":
            found = key.value in other.flagged
        elif key.id_type == "name":
            found = normalise_name(other.raw_name) == key.value
        else:
            found = key.value in held.get(key.id_type, ())
        if found:
            return key
    return None


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
