"""The review queue: pairs of entities the matcher was unsure about, waiting for a regulator.
One pending review per pair of entities (survivors of merges); reviews whose entities merge
are closed (``resolution.review_queue``).

Confirming a pair merges it (``resolution.corrections.merge_entities``, so the hard rule and
earlier "not the same" decisions still apply); rejecting one records that the two are never the
same, which no automatic decision overrides. Every decision writes an audit event. Services
never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit import record_event
from core.db import paginate
from core.models import ApiClient, CreditRecord, Entity, EntityReview, ReviewStatus, utcnow
from resolution.corrections import ResolutionRefused, merge_entities
from resolution.survivors import entity_group, survivor_of


def _record_count(session: Session, entity: Entity) -> int:
    group = entity_group(session, entity)
    return int(
        session.scalar(
            select(func.count()).select_from(CreditRecord).where(CreditRecord.entity_id.in_(group))
        )
        or 0
    )


def propose_review(
    *,
    session: Session,
    entity: Entity,
    candidate: Entity,
    score: float,
    explanation: dict[str, Any],
    algorithm: str,
) -> EntityReview | None:
    """Queue an uncertain pair for a regulator, unless it asks nothing new: the two are one
    entity now, or a review of the two (or of entities merged into either) is queued or
    decided already. One question per pair of entities, as ``credithub resolve`` counts them
    (``resolution.review_queue``)."""
    left, right = survivor_of(session, entity), survivor_of(session, candidate)
    if left.id == right.id:
        return None
    ours, theirs = entity_group(session, left), entity_group(session, right)
    existing = session.scalar(
        select(EntityReview.id)
        .where(
            or_(
                EntityReview.entity_id.in_(ours) & EntityReview.candidate_entity_id.in_(theirs),
                EntityReview.entity_id.in_(theirs) & EntityReview.candidate_entity_id.in_(ours),
            )
        )
        .limit(1)
    )
    if existing is not None:
        return None
    review = EntityReview(
        entity_id=entity.id,
        candidate_entity_id=candidate.id,
        score=score,
        explanation=explanation,
        algorithm=algorithm,
    )
    session.add(review)
    return review


def list_reviews(
    *, session: Session, status: str | None, page: int, page_size: int
) -> tuple[list[EntityReview], int]:
    query = select(EntityReview).order_by(EntityReview.score.desc(), EntityReview.id)
    if status:
        query = query.where(EntityReview.status == ReviewStatus(status))
    rows, total = paginate(session, query, page=page, page_size=page_size)
    return [row[0] for row in rows], total


def decide_review(
    *, session: Session, client: ApiClient, review_id: int, same: bool, reason: str
) -> EntityReview:
    """Confirm (merge the pair, smaller into larger) or reject (never merge) a queued pair."""
    review = session.get(EntityReview, review_id)
    if review is None:
        raise ResolutionRefused(f"no review {review_id}", status=404)
    if review.status is not ReviewStatus.PENDING:
        raise ResolutionRefused(f"review {review_id} is already {review.status.value}", status=409)
    if same:
        # The entities as they are now: either may have been merged into another since the
        # pair was queued. The one with more records survives (ties: the older one), so the
        # public id that most documents already cite keeps being the main one.
        a, b = survivor_of(session, review.entity), survivor_of(session, review.candidate)
        if a.id == b.id:
            raise ResolutionRefused(
                f"review {review_id}: the two entities are one already ({a.public_id})",
                status=409,
            )
        weight_a, weight_b = _record_count(session, a), _record_count(session, b)
        a_wins = weight_a > weight_b or (weight_a == weight_b and a.id < b.id)
        keep, fold = (a, b) if a_wins else (b, a)
        merge_entities(
            session=session,
            client=client,
            source_id=fold.public_id,
            target_id=keep.public_id,
            reason=reason,
        )
    review.status = ReviewStatus.CONFIRMED if same else ReviewStatus.REJECTED
    review.decided_at, review.decided_by_client_id, review.reason = utcnow(), client.id, reason
    record_event(
        session=session,
        client=client,
        action="review.confirm" if same else "review.reject",
        target_type="review",
        target_id=str(review.id),
        details={"reason": reason},
    )
    session.flush()
    return review
