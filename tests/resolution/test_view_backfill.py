"""The backfill of record views (``resolution.view_backfill``): a database whose records were
linked before migration 0013 (views and blocking keys deleted after ingesting generated
records) gets back exactly the rows ingest wrote, so new records about old parties link to
their entities instead of making duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.service_path import ingest_generated
from core.models import SourceRecord
from demo.generator import generate_feeds
from ingest.stored_records import StoredRecordValidator
from resolution.view_backfill import (
    BackfillChunk,
    backfill_record_views,
    records_without_views,
)
from tests.support.record_views import (
    drop_views,
    in_force,
    old_parties,
    push_penalty,
    stored_views,
    view_count,
)

ENTITIES = 40


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(entities=ENTITIES, out_dir=out, seed=5)
    return out


def backfill_all(session_factory: sessionmaker[Session], chunk_size: int = 7) -> tuple[int, int]:
    """Run the backfill chunk by chunk, one transaction each, as the CLI does."""
    indexed = unreadable = after = 0
    while True:
        with session_factory() as session:
            chunk = backfill_record_views(
                session=session,
                validate=StoredRecordValidator(session=session),
                after=after,
                chunk_size=chunk_size,
            )
            session.commit()
        if chunk.last_id is None:
            return indexed, unreadable
        assert chunk.last_id > after
        indexed, unreadable, after = (
            indexed + chunk.indexed,
            unreadable + chunk.unreadable,
            chunk.last_id,
        )


def views_now(session_factory: sessionmaker[Session]) -> tuple[dict, set]:
    with session_factory() as session:
        return stored_views(session)


def test_the_backfill_rebuilds_what_ingest_wrote_and_twice_adds_nothing(
    session_factory: sessionmaker[Session], feeds: Path
) -> None:
    ingest_generated(session_factory, feeds)
    with session_factory() as session:
        views, keys = stored_views(session)
        accepted = in_force(session)
        assert not records_without_views(session=session)
    assert len(accepted) > 2 * ENTITIES
    drop_views(session_factory)
    with session_factory() as session:
        assert view_count(session) == 0
        assert records_without_views(session=session)

    assert backfill_all(session_factory) == (len(accepted), 0)

    rebuilt_views, rebuilt_keys = views_now(session_factory)
    # Exactly ingest's rows for the records in force (the generated data has no superseded
    # versions; their views are not rebuilt, see resolution.view_backfill).
    assert rebuilt_views == {s: v for s, v in views.items() if s in accepted}
    assert rebuilt_keys == {(k, s) for k, s in keys if s in accepted}
    with session_factory() as session:
        assert not records_without_views(session=session)
        again = backfill_record_views(
            session=session, validate=StoredRecordValidator(session=session)
        )
    assert again == BackfillChunk(indexed=0, unreadable=0, last_id=None)
    assert backfill_all(session_factory) == (0, 0)
    assert views_now(session_factory) == (rebuilt_views, rebuilt_keys)


def test_new_records_about_old_parties_link_to_their_entities_only_after_the_backfill(
    session_factory: sessionmaker[Session], feeds: Path
) -> None:
    ingest_generated(session_factory, feeds)
    with session_factory() as session:
        (first, first_name, first_uscc), (second, second_name, second_uscc) = old_parties(
            session, 2
        )
    drop_views(session_factory)

    # Before the backfill nothing stored can be found: the same company becomes a new entity.
    duplicate = push_penalty(session_factory, doc="BF-1", name=first_name, uscc=first_uscc)
    assert duplicate != first

    backfill_all(session_factory)
    assert push_penalty(session_factory, doc="BF-2", name=second_name, uscc=second_uscc) == second


def test_only_records_without_views_are_read_and_unreadable_ones_are_counted(
    session_factory: sessionmaker[Session], feeds: Path
) -> None:
    ingest_generated(session_factory, feeds)
    with session_factory() as session:
        views, _ = stored_views(session)
        accepted = sorted(in_force(session))
        dropped = accepted[::4]
        broken = dropped[1]
        # A payload the feed's current mapping cannot read any more (a required field gone).
        session.execute(
            update(SourceRecord).where(SourceRecord.id == broken).values(raw_payload={})
        )
        session.commit()
    drop_views(session_factory, dropped)

    indexed, unreadable = backfill_all(session_factory, chunk_size=3)

    assert (indexed, unreadable) == (len(dropped) - 1, 1)
    rebuilt, _ = views_now(session_factory)
    assert broken not in rebuilt  # left without a view, nothing else lost
    assert rebuilt == {s: v for s, v in views.items() if s != broken}


def test_a_chunk_must_hold_a_record(session: Session) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        backfill_record_views(
            session=session, validate=StoredRecordValidator(session=session), chunk_size=0
        )
