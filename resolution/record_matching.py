"""Entity-centric linking at ingest with the engine of ``credithub resolve``.

A new record is prepared (``matching.records.prepare``), blocked (``matching.blocking``), and
scored (``matching.model.decide_pair``) against the *records* it shares a blocking key with,
as :class:`matching.resolve.Resolver` does, not against an entity's golden values. Its positive
pairs are then taken strongest first and each joins the record to the candidate record's
entity unless the cluster-level rules of :class:`matching.cluster.Clusters` forbid it (two
different valid USCCs or resident ids in one entity, a branch with its parent or another
branch, a pair a reviewer rejected). A record that joins two entities merges them, as
union-find merges two clusters in ``resolve``.

The records each entity was built from are stored as :class:`~core.models.RecordMatchView`
(their ``MatchRecord`` fields) with their blocking keys in :class:`~core.models.RecordBlockKey`,
so a batch finds and reads its candidate records with a few indexed queries: its cost grows
with the batch and the size of the blocks it touches, not with the data. Blocks larger than
``resolve``'s caps (``MatchConfig.max_block_size`` / ``max_name_block_size``) are skipped, as
``resolve`` skips them.

Arrival order: ``resolve`` merges all positive pairs of a run strongest first, ingest merges a
record's pairs strongest first when it arrives. The two differ only when a cluster-level rule
refuses a merge (which of two conflicting links wins may depend on order) and when a block
grows past its cap after some of its pairs were linked (``resolve`` skips the whole block,
ingest has already used it). ``tests/resolution/test_one_engine.py`` bounds the difference.

The records as stored (views, blocking keys, the prepared cache) are
:mod:`resolution.record_views`; the codes the cluster-level rules compare are
:mod:`resolution.entity_codes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from core.models import Entity, RecordBlockKey, RecordMatchView
from core.value_lists import one_of
from matching.blocking import blocking_keys
from matching.cluster import ambiguous_between
from matching.match_model import MatchModel
from matching.model import (
    Decision,
    MatchConfig,
    MatchExplanation,
    ambiguous,
    decide_pair,
    quick_rule,
)
from matching.model import score_pair as explain_pair
from matching.records import Prepared
from resolution.entity_codes import EntityCodes
from resolution.entity_views import EntityView, EntityViews
from resolution.matching_models import current_model
from resolution.record_views import PREPARED_VIEWS, stored_block_keys, write_record_views

__all__ = ["RecordMatcher", "Verdict"]

# Values per query (one bound parameter however many: core.value_lists).
_IN_CHUNK = 5000
# The key types resolve caps at max_name_block_size (matching.blocking._NAME_KEYS).
_NAME_KEYS = frozenset("NDPBLSYKI")


@dataclass
class Verdict:
    """What the engine decided for one record: the entities it joins (strongest link first;
    more than one means they are merged into the first), the explanation of the strongest
    positive pair, the best unsure pair when nothing linked, the links refused by a
    cluster-level rule, and (``ambiguous``) the two entities kept apart by their codes that
    the record matched, when it joins neither for that reason."""

    entities: list[EntityView] = field(default_factory=list)
    best: MatchExplanation | None = None
    best_record: Prepared | None = None
    unsure: tuple[EntityView, MatchExplanation] | None = None
    refused: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    compared: int = 0
    ambiguous: list[str] = field(default_factory=list)
    # Deciding a stored record again: no positive pair with its own entity's other records.
    alone: bool = False
    # Per entity joined: the candidate record that led there.
    via: list[int] = field(default_factory=list)

    def exclude(self, entity: EntityView, rule: str) -> None:
        """A candidate entity a hard rule rules out (once per entity and rule)."""
        found = {"entity": entity.public_id, "rule": rule}
        if found not in self.excluded:
            self.excluded.append(found)


class RecordMatcher:
    """One batch's side of the engine: the candidate records of the batch's records (read in
    a few queries by :meth:`prefetch`), the records linked in the batch, and the code sets of
    the entities they belong to. :meth:`flush` writes the batch's record views and keys."""

    def __init__(
        self,
        *,
        session: Session,
        views: EntityViews,
        config: MatchConfig | None = None,
        model: MatchModel | None = None,
    ) -> None:
        """``model``: the scoring model (default: the newest stored by ``credithub matching
        train``, else the hand-set weights), applied over ``config``'s thresholds."""
        self.session = session
        self.views = views
        # Its version is recorded on every link and review the model decides.
        self.model = model or current_model(session=session)
        self.config = self.model.config(config or MatchConfig())
        self._stored: dict[str, list[int]] = {}  # key -> source ids (blocks within caps only)
        self._sizes: dict[str, int] = {}  # key -> stored records holding it
        self._pending: dict[str, list[int]] = {}  # key -> source ids linked in this batch
        self._records: dict[int, Prepared] = {}
        self._entity: dict[int, EntityView | int] = {}  # source id -> entity (view or id)
        self._by_entity_id: dict[int, list[int]] = {}  # stored entity id -> source ids
        self._batch_members: dict[int, list[int]] = {}  # id(view) -> source ids linked now
        self._children: dict[int, list[int]] = {}  # entity id -> ids merged into it
        self._batch_children: dict[int, list[EntityView]] = {}  # id(view) -> merged now
        self._codes: dict[int, EntityCodes] = {}  # id(survivor view) -> its cluster-level codes
        self._loaded_members: set[int] = set()  # entity ids whose records are all loaded
        self._new: list[tuple[int, EntityView, dict[str, Any], frozenset[str]]] = []
        # id(record) -> (record, its sorted blocking keys); the record is kept so an id is
        # never taken for another record's.
        self._block_keys: dict[int, tuple[Prepared, tuple[str, ...]]] = {}

    # ------------------------------------------------------------------ reading

    def _read(self, statement: Any) -> Any:
        """Rows of a Core ``statement`` on the session's connection: what the batch reads
        here depends on nothing the ORM holds unflushed (entities, views and keys are written
        with Core statements), so the ORM's execution and row machinery is skipped."""
        # All rows at once: iterating a result fetches row by row, a driver call each.
        return self.session.connection().execute(statement).all()

    def _keys_of(self, record: Prepared) -> tuple[str, ...]:
        """``record``'s blocking keys, sorted, computed once per batch (prefetch, deciding
        and storing the record all ask)."""
        found = self._block_keys.get(id(record))
        if found is None or found[0] is not record:
            found = self._block_keys[id(record)] = (record, tuple(sorted(blocking_keys(record))))
        return found[1]

    def _cap(self, key: str) -> int:
        if key[0] in _NAME_KEYS:
            return self.config.max_name_block_size
        return self.config.max_block_size

    def prefetch(self, records: Iterable[Prepared]) -> None:
        """Read the stored records sharing a blocking key with ``records`` (blocks within
        resolve's caps only), the entities they are linked to and those entities' other
        records, in a few set-based queries."""
        wanted = sorted({k for r in records for k in self._keys_of(r)} - self._sizes.keys())
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            sizes = dict.fromkeys(chunk, 0)
            for key, count in self._read(
                select(RecordBlockKey.key, func.count())
                .where(one_of(self.session, RecordBlockKey.key, chunk))
                .group_by(RecordBlockKey.key)
            ):
                sizes[key] = count
            self._sizes.update(sizes)
            usable = [k for k, n in sizes.items() if 0 < n <= self._cap(k)]
            for key in usable:
                self._stored[key] = []
            for key, source_id in self._read(
                select(RecordBlockKey.key, RecordBlockKey.source_record_id).where(
                    one_of(self.session, RecordBlockKey.key, usable)
                )
            ):
                self._stored[key].append(source_id)
        ids = {s for k in wanted for s in self._stored.get(k, ())}
        self._load_records(RecordMatchView.source_record_id, ids - self._records.keys())
        self._load_entities({e for s in ids if isinstance(e := self._entity.get(s), int)})

    def load_stored(self, source_ids: Iterable[int]) -> dict[int, Prepared]:
        """The stored records ``source_ids`` as prepared (those that have a view), with the
        entities they belong to and those entities' other records."""
        wanted = set(source_ids)
        self._load_records(RecordMatchView.source_record_id, wanted - self._records.keys())
        self._load_entities({e for s in wanted if isinstance(e := self._entity.get(s), int)})
        return {s: self._records[s] for s in sorted(wanted) if s in self._records}

    def _load_records(self, column: Any, values: set[int]) -> None:
        values_ = sorted(values)
        for start in range(0, len(values_), _IN_CHUNK):
            for source_id, entity_id, view in self._read(
                select(
                    RecordMatchView.source_record_id,
                    RecordMatchView.entity_id,
                    cast(RecordMatchView.view, Text),
                ).where(one_of(self.session, column, values_[start : start + _IN_CHUNK]))
            ):
                if source_id not in self._records:
                    self._records[source_id] = PREPARED_VIEWS.get_text(source_id, view)
                    self._entity[source_id] = entity_id
                    self._by_entity_id.setdefault(entity_id, []).append(source_id)

    def _load_entities(self, entity_ids: set[int]) -> None:
        """The entities (and those merged into them) with all their records, so the
        cluster-level rules see every code an entity holds."""
        group = set(entity_ids)
        frontier = set(entity_ids)
        while frontier:  # entities merged into these, at any depth
            merged = set()
            ordered = sorted(frontier - self._loaded_members)
            for start in range(0, len(ordered), _IN_CHUNK):
                for child, parent in self._read(
                    select(Entity.id, Entity.merged_into_id).where(
                        one_of(
                            self.session, Entity.merged_into_id, ordered[start : start + _IN_CHUNK]
                        )
                    )
                ):
                    self._children.setdefault(parent, []).append(child)
                    merged.add(child)
            frontier = merged - group
            group |= frontier
        wanted = group - self._loaded_members
        self.views.load(wanted)
        self._load_records(RecordMatchView.entity_id, wanted)
        self._loaded_members |= wanted

    def entity_of(self, source_id: int) -> EntityView | None:
        """The entity a loaded record answers for now (the survivor of merges)."""
        return self._entity_of(source_id)

    def _entity_of(self, source_id: int) -> EntityView | None:
        """The entity record ``source_id`` answers for now (the survivor of merges)."""
        entity = self._entity.get(source_id)
        if isinstance(entity, int):
            view = self.views.get(entity)
            if view is None:
                return None
            self._entity[source_id] = entity = view
        if entity is None:
            return None
        survivor = self.views.survivor(entity)
        if survivor.id is not None and survivor.id not in self._loaded_members:
            # Merged into an entity none of the batch's candidates led to: read its records.
            self._load_entities({survivor.id})
        return survivor

    def _group(self, entity: EntityView) -> list[EntityView]:
        """``entity`` and the entities merged into it (stored or in this batch)."""
        group = [entity]
        for member in group:
            children: list[EntityView] = []
            if member.id is not None:
                children = [
                    v
                    for i in self._children.get(member.id, ())
                    if (v := self.views.get(i)) is not None
                ]
            for child in (*children, *self._batch_children.get(id(member), ())):
                if not any(child is g for g in group):
                    group.append(child)
        return group

    def _codes_of(self, entity: EntityView) -> EntityCodes:
        """The cluster-level codes of ``entity`` and every entity merged into it."""
        codes = self._codes.get(id(entity))
        if codes is None:
            codes = EntityCodes()
            for member in self._group(entity):
                stored = self._by_entity_id.get(member.id, ()) if member.id is not None else ()
                for source_id in (*stored, *self._batch_members.get(id(member), ())):
                    codes = codes.join(EntityCodes.of(self._records[source_id]))
            self._codes[id(entity)] = codes
        return codes

    # ------------------------------------------------------------------ deciding

    def candidates(self, record: Prepared) -> list[int]:
        """Source ids of the records ``record`` is compared with: those sharing a blocking key
        whose block (stored and this batch's records) is within resolve's caps."""
        keys = self._keys_of(record)
        if any(k not in self._sizes for k in keys):
            self.prefetch([record])
        found: dict[int, None] = {}
        for key in keys:
            pending = self._pending.get(key, ())
            if self._sizes.get(key, 0) + len(pending) > self._cap(key):
                continue
            for source_id in (*self._stored.get(key, ()), *pending):
                found[source_id] = None
        return list(found)

    def could_merge(self, record: Prepared, *, stored_as: int, rejected: frozenset[int]) -> bool:
        """Whether deciding stored record ``stored_as`` again could merge or queue anything:
        some pair with a record of another entity scores positive or unsure. Otherwise
        :meth:`decide` would only find the record's own entity, so relinking skips it without
        scoring the (many) pairs within that entity (``resolution.relinking``)."""
        own = self._entity_of(stored_as)
        for source_id in self.candidates(record):
            other = self._records.get(source_id)
            entity = self._entity_of(source_id)
            if source_id == stored_as or other is None or entity is None or entity is own:
                continue
            if quick_rule(record, other) is not None:
                continue
            was_rejected = entity.id is not None and entity.id in rejected
            decision = decide_pair(record, other, self.config, rejected=was_rejected)[0]
            if decision is not Decision.NEGATIVE:
                return True
        return False

    def decide(
        self,
        record: Prepared,
        *,
        rejected: frozenset[int] = frozenset(),
        stored_as: int | None = None,
    ) -> Verdict:
        """Score ``record`` against its candidate records and choose its entities.
        ``rejected``: ids of entities a reviewer decided are not this record's (their pairs
        score as the rule ``reviewer_rejected``). ``stored_as``: the record is stored already
        as this source record (deciding it again with a newer model,
        :mod:`resolution.relinking`): its own entity comes first in ``Verdict.entities`` and
        the cluster-level rules see all of that entity's codes."""
        verdict = Verdict()
        positives: list[tuple[float, int, EntityView]] = []
        best_unsure: tuple[float, int, EntityView] | None = None
        # The explanations of the positive and unsure pairs, by candidate: the link and the
        # review show them, and comparing the pair again for them cost a sixth of deciding.
        explained: dict[int, MatchExplanation] = {}
        own = None if stored_as is None else self._entity_of(stored_as)
        for source_id in self.candidates(record):
            if source_id == stored_as:
                continue
            other = self._records.get(source_id)
            entity = self._entity_of(source_id)
            if other is None or entity is None:
                continue
            quick = quick_rule(record, other)
            if quick is not None:
                verdict.exclude(entity, quick)
                continue
            verdict.compared += 1
            was_rejected = entity.id is not None and entity.id in rejected
            explanation = explain_pair(record, other, self.config, rejected=was_rejected)
            decision, probability = explanation.decision, explanation.probability
            if explanation.rule is not None:
                verdict.exclude(entity, explanation.rule)
            if decision is not Decision.NEGATIVE:
                explained[source_id] = explanation
            if decision is Decision.POSITIVE:
                positives.append((probability, source_id, entity))
            elif decision is Decision.UNSURE and (
                best_unsure is None or probability > best_unsure[0]
            ):
                best_unsure = (probability, source_id, entity)
        # Strongest first, ties by the older record, as Clusters.merge_arrays orders pairs.
        positives.sort(key=lambda t: (-t[0], t[1]))
        mine = EntityCodes.of(record)
        if own is not None:
            mine = self._codes_of(own)
            verdict.entities.append(own)
            verdict.via.append(stored_as)
            verdict.alone = not any(p[2] is own for p in positives)
            positives = [p for p in positives if p[2] is not own]
            if best_unsure is not None and best_unsure[2] is own:
                best_unsure = None
        if self._ambiguous(mine, positives, rejected, verdict, explained):
            return verdict
        for _, source_id, entity in positives:
            if any(e is entity for e in verdict.entities):
                continue
            rule = mine.why_not(self._codes_of(entity))
            if rule is None and any(
                e.id is not None and e.id in rejected for e in (entity, *verdict.entities)
            ):
                rule = "reviewer_rejected"
            if rule is not None:
                verdict.refused.append({"entity": entity.public_id, "rule": rule})
                continue
            if verdict.best is None:
                verdict.best_record = self._records[source_id]
                verdict.best = explained[source_id]
            verdict.entities.append(entity)
            verdict.via.append(source_id)
            mine = mine.join(self._codes_of(entity))
        if (not verdict.entities or verdict.entities == [own]) and best_unsure is not None:
            _, source_id, entity = best_unsure
            verdict.unsure = (entity, explained[source_id])
        return verdict

    def _ambiguous(
        self,
        mine: EntityCodes,
        positives: list[tuple[float, int, EntityView]],
        rejected: frozenset[int],
        verdict: Verdict,
        explained: dict[int, MatchExplanation],
    ) -> bool:
        """Whether the record matches two entities that different valid USCCs or resident
        ids keep apart (``matching.cluster.ambiguous_between``, as ``resolve`` clusters): then
        it joins neither and its strongest pair goes to review as ``ambiguous_candidates``."""
        entities: list[tuple[int, EntityView]] = []
        for _, source_id, entity in positives:
            if entity.id is not None and entity.id in rejected:
                continue
            if not any(e is entity for _, e in entities):
                entities.append((source_id, entity))
        if len(entities) < 2:
            return False
        found = ambiguous_between(mine.sets(), [self._codes_of(e).sets() for _, e in entities])
        if found is None:
            return False
        verdict.ambiguous = [entities[k][1].public_id for k in found]
        source_id, entity = entities[0]
        verdict.unsure = (entity, ambiguous(explained[source_id]))
        return True

    # ------------------------------------------------------------------ remembering

    def remember(
        self, *, source_id: int, record: Prepared, view: dict[str, Any], entity: EntityView
    ) -> None:
        """``record`` (stored as source record ``source_id``) now belongs to ``entity``: later
        records of the batch are compared with it; :meth:`flush` stores it."""
        self._records[source_id] = record
        self._entity[source_id] = entity
        self._batch_members.setdefault(id(entity), []).append(source_id)
        codes = self._codes.get(id(entity))
        if codes is not None:
            self._codes[id(entity)] = codes.join(EntityCodes.of(record))
        keys = stored_block_keys(record, self._keys_of(record))
        for key in keys:
            self._pending.setdefault(key, []).append(source_id)
        self._new.append((source_id, entity, view, keys))
        PREPARED_VIEWS.put(source_id, view, record)

    def merged(self, absorbed: EntityView, *, into: EntityView) -> None:
        """``absorbed`` was merged into ``into`` (a record joined both)."""
        self._batch_children.setdefault(id(into), []).append(absorbed)
        self._codes.pop(id(into), None)

    def flush(self) -> None:
        """Write the batch's record views and blocking keys (after the entities, whose ids
        they need) and forget what was read."""
        rows = []
        for source_id, entity, view, keys in self._new:
            assert entity.id is not None, "entities are flushed before their record views"
            rows.append((source_id, entity.id, view, keys))
        write_record_views(self.session, rows)
        self._stored, self._sizes, self._pending = {}, {}, {}
        self._records, self._entity, self._by_entity_id = {}, {}, {}
        self._batch_members, self._children, self._batch_children = {}, {}, {}
        self._codes, self._loaded_members, self._new = {}, set(), []
        self._block_keys = {}
