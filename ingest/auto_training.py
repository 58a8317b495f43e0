"""The service trains its scoring model on its own records, without a human.

At the end of every pulled feed run (``ingest.runner.run_feed``) and on the scheduler's
``matching:train`` job (for services fed by pushes only), :func:`train_if_due` checks
:class:`TrainingPolicy`: a model is trained and stored when none is stored yet and at least
``min_records`` accepted records exist, or when the accepted records have grown by
``growth`` times the number the newest model was trained on. Then every record linked before
the new model is decided again with it (:mod:`resolution.relinking`), chunk by chunk, so the
entities reach what ``credithub resolve`` would give with that model. An interrupted relink
is picked up by the next check. ``credithub matching train`` does the same by hand.

The settings are ``CREDITHUB_MATCHING_AUTO_TRAIN`` (on unless ``0``),
``CREDITHUB_MATCHING_TRAIN_MIN_RECORDS`` (default 1,000) and
``CREDITHUB_MATCHING_TRAIN_GROWTH`` (default 2.0), read by ``core.config.Config``.

One process at a time trains or relinks (:func:`training_lock`, a PostgreSQL advisory lock or
a file lock beside the SQLite file, ``core.locks``): a second feed run, scheduler job or
``credithub matching train`` that finds the lock taken skips its check (the holder does the
work; the next check finds what it left).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import UnitOfWork
from core.locks import exclusive
from core.models import MatchingModel, SourceRecord, SourceStatus
from ingest.training_records import accepted_match_records
from matching.match_model import MatchModel
from matching.records import prepare
from matching.training import train
from resolution.matching_models import store_model
from resolution.relinking import RelinkChunk, chosen_records, mark_for_relink, relink_chunk

__all__ = [
    "TrainingOutcome",
    "TrainingPolicy",
    "policy_of",
    "relink_pending",
    "train_and_store",
    "train_if_due",
    "training_due",
    "training_lock",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingPolicy:
    """When the service trains by itself. ``enabled``: at all; ``min_records``: accepted
    records needed for a first model; ``growth``: factor by which the accepted records must
    have grown since the newest model was trained for a new one; ``relink_chunk``: records
    decided again per transaction."""

    enabled: bool = True
    min_records: int = 1_000
    growth: float = 2.0
    relink_chunk: int = 1_000

    def __post_init__(self) -> None:
        if self.min_records < 2:
            raise ValueError("min_records must be at least 2")
        if self.growth <= 1.0:
            raise ValueError("growth must be more than 1")
        if self.relink_chunk < 1:
            raise ValueError("relink_chunk must be at least 1")


@dataclass
class TrainingOutcome:
    """A model trained and stored (``model``, None when the records gave too few pairs to
    learn from), why, and the relink that followed."""

    reason: str
    records: int
    model: MatchModel | None
    seconds: float
    relinked: RelinkChunk


def policy_of(config: Config) -> TrainingPolicy:
    """The policy ``config``'s ``CREDITHUB_MATCHING_*`` settings give."""
    return TrainingPolicy(
        enabled=config.matching_auto_train,
        min_records=config.matching_train_min_records,
        growth=config.matching_train_growth,
    )


def training_due(*, session: Session, policy: TrainingPolicy) -> str | None:
    """Why a model should be trained now, or None."""
    if not policy.enabled:
        return None
    accepted = (
        session.scalar(
            select(func.count())
            .select_from(SourceRecord)
            .where(SourceRecord.status == SourceStatus.ACCEPTED)
        )
        or 0
    )
    trained_on = session.scalar(
        select(MatchingModel.records).order_by(MatchingModel.id.desc()).limit(1)
    )
    if trained_on is None:
        if accepted >= policy.min_records:
            return f"no model yet and {accepted} accepted records"
        return None
    if accepted >= max(policy.min_records, trained_on * policy.growth):
        return f"{accepted} accepted records, {policy.growth:g}x the {trained_on} of the model"
    return None


def train_and_store(*, session: Session, max_records: int | None = None) -> tuple[int, MatchModel]:
    """Train on the accepted records (at most ``max_records``) and, when the model learned
    something, store it and mark the records linked so far for relinking. Returns the number
    of records and the model (``model.trained`` False: nothing stored). Does not commit."""
    records = accepted_match_records(session=session, limit=max_records)
    model = train([prepare(r) for r in records])
    if model.trained:
        row = store_model(session=session, model=model)
        mark_for_relink(session=session, row=row)
        model = MatchModel.from_dict(row.document)  # as stored (resolution.matching_models)
    return len(records), model


def relink_pending(
    session_factory: sessionmaker[Session], *, chunk_size: int = 1_000, selective: bool = True
) -> RelinkChunk:
    """Decide again, chunk by chunk (one transaction each), every record the newest model has
    not decided yet; returns the totals."""
    total = RelinkChunk()
    chosen = None
    if selective:
        with session_factory() as session:
            chosen = chosen_records(session=session)
    while True:
        with UnitOfWork(session_factory) as uow:
            chunk = relink_chunk(
                session=uow.session, chunk_size=chunk_size, selective=selective, chosen=chosen
            )
            uow.commit()
        if chunk.last_id is None:
            return total
        total.add(chunk)
        if chunk.done:
            return total


@contextmanager
def training_lock(session_factory: sessionmaker[Session]) -> Iterator[bool]:
    """Try to become the one process training or relinking; yields whether this one is."""
    with exclusive(session_factory.kw["bind"], "matching-training") as held:
        yield held


def train_if_due(
    session_factory: sessionmaker[Session], policy: TrainingPolicy | None = None
) -> TrainingOutcome | None:
    """Train, store and relink when :func:`training_due` says so; otherwise finish a relink
    left unfinished. Skipped (None) while another process trains or relinks. Returns what
    was trained, or None."""
    policy = policy or TrainingPolicy()
    if not policy.enabled:
        return None
    with training_lock(session_factory) as held:
        if not held:
            log.info("matching training check skipped: another process trains or relinks")
            return None
        return _train_if_due(session_factory, policy)


def _train_if_due(
    session_factory: sessionmaker[Session], policy: TrainingPolicy
) -> TrainingOutcome | None:
    with session_factory() as session:
        reason = training_due(session=session, policy=policy)
    if reason is None:
        relink_pending(session_factory, chunk_size=policy.relink_chunk)
        return None
    started = time.perf_counter()
    with UnitOfWork(session_factory) as uow:
        records, model = train_and_store(session=uow.session)
        uow.commit()
    seconds = time.perf_counter() - started
    relinked = relink_pending(session_factory, chunk_size=policy.relink_chunk)
    log.info(
        "matching model %s trained on %d records (%s) in %.1f s; relinked %d records, "
        "merged %d entities, closed %d reviews, withdrew %d",
        model.version if model.trained else "(none: too few pairs)",
        records,
        reason,
        seconds,
        relinked.decided,
        relinked.merged,
        relinked.reviews_closed,
        relinked.reviews_withdrawn,
    )
    return TrainingOutcome(reason, records, model if model.trained else None, seconds, relinked)
