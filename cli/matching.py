"""The ``matching`` command group: train the scoring model fuzzy linking uses, and build the
record views it finds candidates through for records linked before they existed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session, sessionmaker

from app.runtime import runtime
from core.db import UnitOfWork

__all__ = ["matching_group", "reindex_record_views"]


@click.group("matching")
def matching_group() -> None:
    """The matcher's scoring model: train it on the service's own records."""


@matching_group.command("train")
@click.option(
    "--max-records",
    type=click.IntRange(min=2),
    default=None,
    help="Train on at most this many accepted records (newest first; default: all).",
)
@click.option(
    "--no-relink",
    is_flag=True,
    help="Only store the model; records linked before it are decided again later "
    "(credithub matching relink, or the service's next training check).",
)
@with_appcontext
def train_command(max_records: int | None, no_relink: bool) -> None:
    """Learn m / u weights and name frequencies from the accepted records in the database
    and store the model: from now on linking at ingest scores with it, and every link it
    decides records the model's version. Then decide every record linked before it again
    with it (see relink). The service also does this by itself (CREDITHUB_MATCHING_*)."""
    with _one_process_at_a_time():
        _train(max_records, no_relink)


def _train(max_records: int | None, no_relink: bool) -> None:
    from ingest.auto_training import train_and_store

    started = time.perf_counter()
    with UnitOfWork(runtime().session_factory) as uow:
        count, model = train_and_store(session=uow.session, max_records=max_records)
        if count < 2:
            raise click.ClickException(
                f"{count} accepted records in the database: nothing to train on"
            )
        if not model.trained:
            raise click.ClickException(
                f"{count} records give too few candidate pairs to learn from; "
                "the hand-set weights stay in use"
            )
        uow.commit()
    stats = model.training
    click.echo(
        f"model {model.version} trained on {count} records in "
        f"{time.perf_counter() - started:.1f} s (EM {stats.get('seconds')} s, "
        f"{stats.get('iterations')} iterations, "
        f"{'converged' if stats.get('converged') else 'NOT converged'}); stored, now in use"
    )
    click.echo(
        json.dumps({"priors": dict(model.priors), "blocked_pairs": stats.get("blocked_pairs")})
    )
    if not no_relink:
        _relink()


@matching_group.command("relink")
@with_appcontext
def relink_command() -> None:
    """Decide every record linked before the newest model again with it, merging the
    entities it now links (never splitting one; a reviewer's "not the same" holds). One
    transaction per 1,000 records; an interrupted run goes on where it stopped."""
    with _one_process_at_a_time():
        _relink()


@contextmanager
def _one_process_at_a_time() -> Iterator[None]:
    """Hold the training lock (``ingest.auto_training.training_lock``) or refuse."""
    from ingest.auto_training import training_lock

    with training_lock(runtime().session_factory) as held:
        if not held:
            raise click.ClickException(
                "another process is training the matching model or relinking; "
                "try again when it has finished"
            )
        yield


def _relink() -> None:
    from ingest.auto_training import relink_pending

    started = time.perf_counter()
    done = relink_pending(runtime().session_factory)
    click.echo(
        f"relinked in {time.perf_counter() - started:.1f} s: {done.decided} records decided "
        f"again, {done.merged} entities merged into {done.relinked} records' entities, "
        f"{done.reviews_closed} pending reviews closed (their entities are one now, or "
        "another review asks the same of them), "
        f"{done.reviews_withdrawn} withdrawn (the model decides the pair is not the same)"
    )


def reindex_record_views(
    session_factory: sessionmaker[Session], *, chunk_size: int, echo: bool = True
) -> tuple[int, int]:
    """Build the record views and blocking keys of every linked record without one, one
    transaction per chunk (an interrupted run keeps what it committed and a second run goes
    on from there). Returns (records indexed, records whose payload no longer validates)."""
    from ingest.stored_records import StoredRecordValidator
    from resolution.view_backfill import backfill_record_views

    indexed = unreadable = 0
    after = 0
    while True:
        with UnitOfWork(session_factory) as uow:
            chunk = backfill_record_views(
                session=uow.session,
                validate=StoredRecordValidator(session=uow.session),
                after=after,
                chunk_size=chunk_size,
            )
            uow.commit()
        if chunk.last_id is None:
            return indexed, unreadable
        indexed, unreadable, after = (
            indexed + chunk.indexed,
            unreadable + chunk.unreadable,
            chunk.last_id,
        )
        if echo:
            click.echo(f"  ... {indexed} records indexed (up to source record {after})")


@matching_group.command("reindex")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Records per transaction.",
)
@with_appcontext
def reindex_command(chunk_size: int) -> None:
    """Build the matcher's record views and blocking keys for every linked record that has
    none (records linked before migration 0013): until then ingest cannot match a new record
    to their entities and makes duplicates. Records that have views are skipped, so running
    it again is safe."""
    started = time.perf_counter()
    indexed, unreadable = reindex_record_views(runtime().session_factory, chunk_size=chunk_size)
    click.echo(
        f"{indexed} records indexed in {time.perf_counter() - started:.1f} s; "
        f"{unreadable} left without a view (their payload no longer validates under the "
        "feed's current mapping)"
    )
