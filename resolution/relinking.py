"""Records linked before the current scoring model, decided again with it.

When a model is stored (``credithub matching train``, or the service training itself:
``ingest.auto_training``), the records linked until then were decided by an older model or
the hand-set weights: with those, a pair the new model links may have gone to review or been
left apart. Relinking decides each of them again with the engine of ingest
(:meth:`resolution.linking.EntityLinker.relink`: the stored record against the records of its
candidate entities, the cluster-level rules, the safeguard against records matching parties
kept apart by their codes), so the service reaches what ``credithub resolve`` would give on
the same records with the same model.

What relinking may do: merge into a record's entity the entities it now matches (a new link
naming the model's version replaces the record's current one; the older links stay,
superseded). What it never does: move a record out of its entity (a split is a regulator's
decision), merge across a reviewer's "not the same". A pending review whose two entities are
now one is closed as confirmed, with the model named as the reason.

Only the records the new model could link differently are decided again: those sharing a
blocking key with a record of another entity (chosen once per run, :func:`chosen_records`),
and of those, scored in full only when a pair with another entity's record is positive or
unsure (``RecordMatcher.could_merge``); the others could merge and queue nothing.

Work is done in chunks of records (one transaction each, in source record order); the model
row keeps how far it got (``relinked_through`` up to ``relink_until``), so an interrupted
relink goes on where it stopped and a finished one is never repeated.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import (
    EntityReview,
    MatchingModel,
    RecordBlockKey,
    RecordMatchView,
    ReviewStatus,
    utcnow,
)
from matching.match_model import MatchModel
from matching.model import Decision, decide_pair
from matching.records import Prepared, prepare
from resolution.linking import EntityLinker
from resolution.record_views import match_record_of
from resolution.survivors import survivor_of

__all__ = ["RelinkChunk", "chosen_records", "mark_for_relink", "relink_chunk"]


@dataclass
class RelinkChunk:
    """What one chunk did. ``last_id``: the last source record decided (None: nothing was
    left to do); ``decided``: records decided again; ``relinked``: records whose entity took
    in others; ``merged``: entities merged into another; ``reviews_closed``: pending reviews
    closed because their two entities are now one or another review asks the same of the two
    (as the chunk merges them, and any left in the chunk that finishes);
    ``reviews_withdrawn``: those the model decides are not the same (only in the chunk that
    finishes)."""

    last_id: int | None = None
    decided: int = 0
    relinked: int = 0
    merged: int = 0
    reviews_closed: int = 0
    reviews_withdrawn: int = 0
    done: bool = True

    def add(self, chunk: RelinkChunk) -> None:
        """Count ``chunk`` into these totals; ``last_id`` becomes the chunk's."""
        self.last_id = chunk.last_id
        for name in ("decided", "relinked", "merged", "reviews_closed", "reviews_withdrawn"):
            setattr(self, name, getattr(self, name) + getattr(chunk, name))


def mark_for_relink(*, session: Session, row: MatchingModel) -> None:
    """Mark every record linked so far to be decided again with the model of ``row`` (just
    stored): records linked later were decided by it already. Does not commit."""
    row.relink_until = session.scalar(select(func.max(RecordMatchView.source_record_id)))
    row.relinked_through = None


def chosen_records(*, session: Session) -> list[int]:
    """Every record the newest model has still to decide again and could change
    (:func:`_next_ids` without a limit), read once for a whole relink: choosing per chunk
    would read every blocking key once a chunk."""
    row = _unfinished(session)
    if row is None:
        return []
    return _next_ids(session, row.relinked_through or 0, row.relink_until, None, selective=True)


def relink_chunk(
    *,
    session: Session,
    chunk_size: int = 1000,
    selective: bool = True,
    chosen: Sequence[int] | None = None,
) -> RelinkChunk:
    """Decide the next ``chunk_size`` records the newest model has not decided yet, with it.
    ``selective``: only the records that could change (:func:`_next_ids`), each scored in
    full only when a pair with another entity's record is positive or unsure under the new
    model (False: every record in full, the reference the tests compare with). ``chosen``:
    :func:`chosen_records` read before the first chunk (sorted; default: chosen here). Does not
    commit (the caller's unit of work owns the chunk). Raises ValueError when the stored
    model document is damaged."""
    row = _unfinished(session)
    if row is None:
        return RelinkChunk()
    after = row.relinked_through or 0
    if selective and chosen is not None:
        start = bisect_right(chosen, after)
        ids = [i for i in chosen[start : start + chunk_size] if i <= row.relink_until]
    else:
        ids = _next_ids(session, after, row.relink_until, chunk_size, selective=selective)
    # Fewer than a chunk: nothing else in the range is to be decided (selective) or exists.
    last = ids[-1] if len(ids) == chunk_size else row.relink_until
    chunk = RelinkChunk(last_id=last, done=False)
    model = MatchModel.from_dict(row.document)
    linker = EntityLinker(session=session, model=model)
    linker.selective = selective
    records = linker.matcher.load_stored(ids)
    linker.prefetch(records.values())
    for source_id, record in records.items():
        chunk.decided += 1
        outcome = linker.relink(source_id=source_id, prepared=record)
        if outcome is not None:
            chunk.relinked += 1
            chunk.merged += len(outcome.explanation.get("merged", ()))
    linker.flush()
    # Reviews of entities the chunk merged were closed as it merged them (one question per
    # pair of entities: resolution.review_queue).
    chunk.reviews_closed = linker.settled.confirmed + linker.settled.folded
    row.relinked_through = chunk.last_id
    if chunk.last_id is not None and chunk.last_id >= row.relink_until:
        chunk.done = True
        closed, chunk.reviews_withdrawn = _settle_reviews(session, model)
        chunk.reviews_closed += closed
    session.flush()
    return chunk


def _unfinished(session: Session) -> MatchingModel | None:
    """The newest model when it still has records to decide again, else None. Checked before
    choosing records: the choice groups every blocking key, and the training check runs it
    after every feed run, when a finished relink has nothing to choose."""
    row = session.scalar(select(MatchingModel).order_by(MatchingModel.id.desc()).limit(1))
    if row is None or row.relink_until is None:
        return None
    if (row.relinked_through or 0) >= row.relink_until:
        return None
    return row


def _next_ids(
    session: Session, after: int, until: int, limit: int | None, *, selective: bool
) -> list[int]:
    """The next records to decide again, in source record order. Selective: only records
    sharing a blocking key with a record linked to another entity (as linked: records of
    entities merged since count as others, which only widens the choice). A record whose
    every candidate is in its own entity can merge nothing and queue nothing, whatever the
    model, so it is neither read nor scored."""
    column = RecordMatchView.source_record_id
    query = select(column).where(column > after, column <= until)
    if selective:
        mixed = (
            select(RecordBlockKey.key)
            .join(
                RecordMatchView, RecordMatchView.source_record_id == RecordBlockKey.source_record_id
            )
            .group_by(RecordBlockKey.key)
            .having(func.count(func.distinct(RecordMatchView.entity_id)) > 1)
        )
        query = query.where(
            column.in_(select(RecordBlockKey.source_record_id).where(RecordBlockKey.key.in_(mixed)))
        )
    return list(session.scalars(query.order_by(column).limit(limit)))


def _settle_reviews(session: Session, model: MatchModel) -> tuple[int, int]:
    """Pending reviews the matcher queued with an older model: confirmed when their two
    entities are one now (merged by relinking), withdrawn when the model decides the queued
    pair is not the same (neither positive nor unsure). Reviews a person queued (no model
    version) and those the model still doubts stay pending. Returns (closed, withdrawn)."""
    config = model.config()
    closed = withdrawn = 0
    now = utcnow()
    for review in session.scalars(
        select(EntityReview).where(EntityReview.status == ReviewStatus.PENDING)
    ):
        explanation = review.explanation or {}
        if survivor_of(session, review.entity).id == survivor_of(session, review.candidate).id:
            review.status, review.decided_at = ReviewStatus.CONFIRMED, now
            review.reason = (
                f"linked by scoring model {model.version} when it decided the records again"
            )
            closed += 1
            continue
        queued_by = explanation.get("model_version")
        if queued_by is None or queued_by == model.version:
            continue
        pair = _stored_pair(session, explanation)
        if pair is None:
            continue
        decision, probability, _, _ = decide_pair(*pair, config)
        if decision is Decision.NEGATIVE:
            review.status, review.decided_at = ReviewStatus.WITHDRAWN, now
            review.reason = (
                f"scoring model {model.version} decides the pair is not the same "
                f"(p {probability:.4f}; queued by {queued_by})"
            )
            withdrawn += 1
    return closed, withdrawn


def _stored_pair(session: Session, explanation: dict[str, Any]) -> tuple[Prepared, Prepared] | None:
    """The two records of a queued pair (``record:<source id>``), as stored for the matcher."""
    ids = []
    for side in ("left", "right"):
        value = str(explanation.get(side) or "")
        if not value.startswith("record:") or not value[7:].isdigit():
            return None
        ids.append(int(value[7:]))
    views = dict(
        session.execute(
            select(RecordMatchView.source_record_id, RecordMatchView.view).where(
                RecordMatchView.source_record_id.in_(ids)
            )
        ).all()
    )
    if len(views) < len(set(ids)):
        return None
    left, right = (prepare(match_record_of(i, views[i])) for i in ids)
    return left, right
