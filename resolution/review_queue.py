"""The service's review queue keeps the rule of ``credithub resolve`` (``matching.review_queue``):
a pending review is an open question, "are these two entities the same?", asked once.

Entities merge after their pairs were queued (a later record links them, relinking with a
newer model, a regulator's merge or confirmed review). Then, counted by the survivors of the
merges:

- a pending review whose two entities are one now is closed as confirmed: settled by the other
  links (the reason names the merge);
- of several pending reviews of the same two entities, the one with the strongest pair stays
  pending (ties: the oldest) and carries in its explanation's ``support`` how many record
  pairs the folded reviews stood for; the others are withdrawn, naming it. A withdrawn review
  is not a reviewer's decision: deciding the one left decides the pair of entities (a "not the
  same" covers every entity merged into either, ``resolution.corrections.rejected_between``).

Services never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session

from core.models import Entity, EntityReview, ReviewStatus, utcnow
from resolution.survivors import MAX_MERGE_DEPTH, walk_to_survivor

__all__ = ["SettledReviews", "settle_pending_reviews", "support_of", "survivors_of"]

_IN_CHUNK = 500


@dataclass
class SettledReviews:
    """``confirmed``: pending reviews closed because their two entities are one now;
    ``folded``: pending reviews withdrawn as the same question as another."""

    confirmed: int = 0
    folded: int = 0


def support_of(review: EntityReview) -> int:
    """How many queued record pairs a review stands for (1 unless others were folded in)."""
    value = (review.explanation or {}).get("support")
    return value if isinstance(value, int) and value >= 1 else 1


def survivors_of(session: Session, entity_ids: Iterable[int]) -> dict[int, int]:
    """Each id → the id of the entity that answers for it now (itself unless merged), read
    from the database (never from possibly stale objects of the session)."""
    starts = set(entity_ids)
    frontier = set(starts)
    queried: set[int] = set()
    step: dict[int, int] = {}
    for _ in range(MAX_MERGE_DEPTH):
        if not frontier:
            break
        queried |= frontier
        ids = sorted(frontier)
        found: dict[int, int] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            rows = session.execute(
                select(Entity.id, Entity.merged_into_id).where(
                    Entity.id.in_(ids[start : start + _IN_CHUNK]),
                    Entity.merged_into_id.is_not(None),
                )
            )
            found.update({entity_id: target for entity_id, target in rows if target is not None})
        step.update(found)
        frontier = {t for t in found.values() if t not in queried}
    return {start: walk_to_survivor(start, step.get) for start in starts}


def _groups(session: Session, survivors: set[int]) -> set[int]:
    """The survivors and every entity merged into them (directly or through others): one
    recursive query per chunk, as ``resolution.survivors.entity_group_select`` for one."""
    found: set[int] = set()
    ids = sorted(survivors)
    for start in range(0, len(ids), _IN_CHUNK):
        group = (
            select(Entity.id.label("id"), literal(0).label("depth"))
            .where(Entity.id.in_(ids[start : start + _IN_CHUNK]))
            .cte("review_groups", recursive=True)
        )
        merged = select(Entity.id, group.c.depth + 1).where(
            Entity.merged_into_id == group.c.id, group.c.depth < MAX_MERGE_DEPTH
        )
        found.update(session.scalars(select(group.union_all(merged).c.id)))
    return found


def _pending(session: Session, entity_ids: Iterable[int] | None) -> list[EntityReview]:
    """Pending reviews touching the merge groups of ``entity_ids`` (every one when None)."""
    query = select(EntityReview).where(EntityReview.status == ReviewStatus.PENDING)
    if entity_ids is None:
        return list(session.scalars(query.order_by(EntityReview.id)))
    ids = sorted(_groups(session, set(survivors_of(session, entity_ids).values())))
    found: dict[int, EntityReview] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        condition = or_(
            EntityReview.entity_id.in_(chunk), EntityReview.candidate_entity_id.in_(chunk)
        )
        for review in session.scalars(query.where(condition)):
            found[review.id] = review
    return [found[k] for k in sorted(found)]


def settle_pending_reviews(
    *, session: Session, entity_ids: Iterable[int] | None = None, merged_by: str
) -> SettledReviews:
    """Close the pending reviews that ask nothing any more (see the module docstring) among
    those touching the entities ``entity_ids`` or any entity merged with them (every pending
    review when None). ``merged_by`` says what merged the entities, for the reason of the
    reviews it settles. Never commits."""
    settled = SettledReviews()
    reviews = _pending(session, entity_ids)
    if not reviews:
        return settled
    ends = {e for r in reviews for e in (r.entity_id, r.candidate_entity_id)}
    survivor = survivors_of(session, ends)
    now = utcnow()
    questions: dict[tuple[int, int], list[EntityReview]] = {}
    for review in reviews:
        a, b = survivor[review.entity_id], survivor[review.candidate_entity_id]
        if a == b:
            review.status, review.decided_at = ReviewStatus.CONFIRMED, now
            review.reason = f"settled by other links: the two entities were merged ({merged_by})"
            settled.confirmed += 1
            continue
        questions.setdefault((min(a, b), max(a, b)), []).append(review)
    for same in questions.values():
        if len(same) < 2:
            continue
        same.sort(key=lambda r: (-r.score, r.id))
        kept, *folded = same
        for review in folded:
            review.status, review.decided_at = ReviewStatus.WITHDRAWN, now
            review.reason = (
                f"the same question as review {kept.id}: its two entities are these two, "
                f"merged since ({merged_by})"
            )
        # A new dict, so the JSON column is written.
        kept.explanation = {
            **(kept.explanation or {}),
            "support": sum(support_of(r) for r in same),
        }
        settled.folded += len(folded)
    session.flush()
    return settled
