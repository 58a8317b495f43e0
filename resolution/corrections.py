"""Regulators' corrections to entity resolution: merges, unmerges and splits (the review
queue, whose confirmed pairs are merged here, is ``resolution.reviews``).

Nothing is ever deleted: a merge points one entity at the other (its public id keeps
answering), a split moves records to a new entity and leaves a reviewer's "not the same"
behind so no automatic decision joins them again. Every action writes an audit event. Services
never commit.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.audit import record_event
from core.errors import ServiceRefused
from core.models import (
    ApiClient,
    CreditRecord,
    DecidedBy,
    Entity,
    EntityAttribute,
    EntityIdentifier,
    EntityReview,
    IdentifierType,
    MatchDecision,
    MatchLink,
    RecordMatchView,
    ReviewStatus,
    SourceRecord,
    new_public_id,
    utcnow,
)
from matching.strong_codes import STRONG_KINDS, strong_conflicts
from resolution.golden import recompute_golden
from resolution.review_queue import settle_pending_reviews
from resolution.survivors import entity_group

ALGORITHM = "reviewer"
_STRONG = tuple(IdentifierType(kind) for kind in STRONG_KINDS)


class ResolutionRefused(ServiceRefused):
    """The change cannot be made; ``status`` is the HTTP status that says why."""


def _entity(session: Session, public_id: str) -> Entity:
    entity = session.scalar(select(Entity).where(Entity.public_id == public_id))
    if entity is None:
        raise ResolutionRefused(f"no entity {public_id!r}", status=404)
    return entity


def _strong_codes(session: Session, entity_ids: list[int]) -> dict[str, set[str]]:
    """The valid USCCs and resident ids the entities hold together, as the hard rule
    (``matching.strong_codes``) takes them, kinds in its order."""
    codes: dict[str, set[str]] = {kind: set() for kind in STRONG_KINDS}
    rows = session.execute(
        select(EntityIdentifier.id_type, EntityIdentifier.value).where(
            EntityIdentifier.entity_id.in_(entity_ids),
            EntityIdentifier.valid.is_(True),
            EntityIdentifier.id_type.in_(_STRONG),
        )
    )
    for id_type, value in rows:
        codes[IdentifierType(id_type).value].add(value)
    return codes


def rejected_between(session: Session, a: list[int], b: list[int]) -> EntityReview | None:
    """A reviewer's "not the same" between any member of group ``a`` and of group ``b``."""
    return session.scalar(
        select(EntityReview).where(
            EntityReview.status == ReviewStatus.REJECTED,
            or_(
                (EntityReview.entity_id.in_(a)) & (EntityReview.candidate_entity_id.in_(b)),
                (EntityReview.entity_id.in_(b)) & (EntityReview.candidate_entity_id.in_(a)),
            ),
        )
    )


def merge_entities(
    *, session: Session, client: ApiClient, source_id: str, target_id: str, reason: str
) -> Entity:
    """Merge entity ``source_id`` into ``target_id``; returns the target.

    Raises :class:`ResolutionRefused`: 404 unknown, 409 same entity, already merged, different
    valid USCCs or resident ids (hard rule), or a reviewer decided they are not the same.
    """
    source, target = _entity(session, source_id), _entity(session, target_id)
    if source.id == target.id:
        raise ResolutionRefused("an entity cannot be merged into itself", status=409)
    for entity in (source, target):
        if entity.merged_into_id is not None:
            raise ResolutionRefused(
                f"{entity.public_id} is already merged into another", status=409
            )
    if source.kind != target.kind:
        raise ResolutionRefused(
            f"a {source.kind.value} cannot merge into a {target.kind.value}", status=409
        )
    source_group, target_group = entity_group(session, source), entity_group(session, target)
    ours, theirs = _strong_codes(session, source_group), _strong_codes(session, target_group)
    conflicts = strong_conflicts(ours, theirs)
    if conflicts:
        raise ResolutionRefused(conflicts[0].why, status=409)
    refusal = rejected_between(session, source_group, target_group)
    if refusal is not None:
        raise ResolutionRefused(
            f"a reviewer decided these are not the same (review {refusal.id})", status=409
        )
    source.merged_into_id = target.id
    session.flush()
    # Pending reviews between the two (or entities merged into them) ask nothing any more.
    settle_pending_reviews(session=session, entity_ids=[target.id], merged_by="by a regulator")
    record_event(
        session=session,
        client=client,
        action="entity.merge",
        target_type="entity",
        target_id=target.public_id,
        details={"merged": source.public_id, "reason": reason},
    )
    session.flush()
    return target


def unmerge_entity(*, session: Session, client: ApiClient, public_id: str, reason: str) -> Entity:
    """Undo a merge: the entity answers for itself again, and a reviewer's "not the same" is
    recorded so no automatic decision merges it back."""
    entity = _entity(session, public_id)
    if entity.merged_into_id is None:
        raise ResolutionRefused(f"{public_id} is not merged into another entity", status=409)
    target_id = entity.merged_into_id
    entity.merged_into_id = None
    session.flush()
    recompute_golden(session=session, entity_ids=[entity.id, target_id])
    _record_not_same(session, client, entity.id, target_id, reason)
    record_event(
        session=session,
        client=client,
        action="entity.unmerge",
        target_type="entity",
        target_id=public_id,
        details={"from": target_id, "reason": reason},
    )
    session.flush()
    return entity


def split_entity(
    *, session: Session, client: ApiClient, public_id: str, record_ids: list[int], reason: str
) -> Entity:
    """Move ``record_ids`` (credit records of this entity) to a new entity; returns it.

    The identifiers and golden-record values those records brought move with them (each
    entity then chooses its golden values again, ``resolution.golden``); match
    links are superseded by a reviewer's link, so the history shows who moved what and why.
    Raises :class:`ResolutionRefused` (404; 409 when a record is not the entity's own, or when
    the split would leave the entity without records).
    """
    entity = _entity(session, public_id)
    if not record_ids:
        raise ResolutionRefused("record_ids must name at least one record", status=422)
    records = list(session.scalars(select(CreditRecord).where(CreditRecord.id.in_(record_ids))))
    found = {r.id for r in records}
    foreign = sorted(set(record_ids) - {r.id for r in records if r.entity_id == entity.id})
    if foreign or len(found) != len(set(record_ids)):
        raise ResolutionRefused(f"records {foreign} do not belong to {public_id}", status=409)
    remaining = session.scalar(
        select(CreditRecord.id)
        .where(CreditRecord.entity_id == entity.id, CreditRecord.id.not_in(record_ids))
        .limit(1)
    )
    if remaining is None:
        raise ResolutionRefused("a split must leave the entity at least one record", status=409)

    first = min(records, key=lambda r: r.id)
    new = Entity(
        kind=entity.kind,
        public_id=new_public_id(entity.kind),
        display_name=first.party_name,
        region_code=entity.region_code,
    )
    session.add(new)
    session.flush()
    sources = [r.source_record_id for r in records]
    now = utcnow()
    for record in records:
        record.entity_id = new.id
        record.link_confidence = 1.0
    session.execute(
        update(MatchLink)
        .where(MatchLink.source_record_id.in_(sources), MatchLink.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    for source_id in sources:
        session.add(
            MatchLink(
                source_record_id=source_id,
                entity_id=new.id,
                decision=MatchDecision.POSITIVE,
                score=1.0,
                explanation={"rule": "reviewer_split", "reason": reason, "split_from": public_id},
                algorithm=ALGORITHM,
                decided_by=DecidedBy.REVIEWER,
                reviewer=client.name,
                reason=reason,
            )
        )
    _move_what_they_brought(session, entity.id, new.id, sources)
    _record_not_same(session, client, entity.id, new.id, reason)
    record_event(
        session=session,
        client=client,
        action="entity.split",
        target_type="entity",
        target_id=public_id,
        details={"new_entity": new.public_id, "record_ids": sorted(found), "reason": reason},
    )
    session.flush()
    return new


def _move_what_they_brought(session: Session, old_id: int, new_id: int, sources: list[int]) -> None:
    """Move the identifiers, golden values and matcher views records ``sources`` brought (with
    their earlier versions: left behind, the entity could choose a moved record's old address
    again, and ingest would compare later records with them as the old entity's), then let
    each side choose its golden values again."""
    versions = _with_earlier_versions(session, sources)
    for model in (EntityIdentifier, EntityAttribute):
        session.execute(
            update(model)
            .where(model.entity_id == old_id, model.source_record_id.in_(versions))
            .values(entity_id=new_id)
        )
    # A view names the entity its record was linked to, which may since have been merged
    # into this one: move it whichever that was.
    session.execute(
        update(RecordMatchView)
        .where(RecordMatchView.source_record_id.in_(versions))
        .values(entity_id=new_id)
    )
    recompute_golden(session=session, entity_ids=[old_id, new_id])


def _with_earlier_versions(session: Session, source_ids: list[int]) -> list[int]:
    """``source_ids`` and every source record they supersede, however far back."""
    found = set(source_ids)
    frontier = list(found)
    while frontier:
        earlier = session.scalars(
            select(SourceRecord.supersedes_id).where(
                SourceRecord.id.in_(frontier), SourceRecord.supersedes_id.is_not(None)
            )
        ).all()
        frontier = [i for i in earlier if i is not None and i not in found]
        found.update(frontier)
    return sorted(found)


def _record_not_same(
    session: Session, client: ApiClient, a: int, b: int, reason: str
) -> EntityReview:
    review = EntityReview(
        entity_id=a,
        candidate_entity_id=b,
        score=0.0,
        algorithm=ALGORITHM,
        explanation={"rule": "reviewer_not_same"},
        status=ReviewStatus.REJECTED,
        decided_at=utcnow(),
        decided_by_client_id=client.id,
        reason=reason,
    )
    session.add(review)
    return review
