"""``credithub matching reindex`` and the reindex ``credithub db upgrade`` runs at head: a
database whose records were linked before the matcher's record views existed heals itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.service_path import ingest_generated
from demo.generator import generate_feeds
from tests.support.record_views import (
    drop_views,
    in_force,
    old_parties,
    push_penalty,
    stored_views,
    view_count,
)


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(entities=25, out_dir=out, seed=3)
    return out


def test_reindex_builds_the_missing_views_in_chunks_and_then_finds_none(
    runner: FlaskCliRunner, session_factory: sessionmaker[Session], feeds: Path
) -> None:
    ingest_generated(session_factory, feeds)
    with session_factory() as session:
        (party, name, uscc), *_ = old_parties(session, 1)
        before = view_count(session)
    drop_views(session_factory)

    result = runner.invoke(args=["matching", "reindex", "--chunk-size", "10"])

    assert result.exit_code == 0, result.output
    with session_factory() as session:
        after = view_count(session)
    assert 0 < after <= before
    assert f"{after} records indexed in" in result.output
    assert "0 left without a view" in result.output
    assert "records indexed (up to source record" in result.output  # progress per chunk
    assert push_penalty(session_factory, doc="CLI-1", name=name, uscc=uscc) == party

    again = runner.invoke(args=["matching", "reindex"])
    assert again.exit_code == 0, again.output
    assert "0 records indexed in" in again.output
    with session_factory() as session:
        assert view_count(session) == after + 1  # the pushed record's, nothing more


def test_reindex_refuses_an_empty_chunk(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["matching", "reindex", "--chunk-size", "0"])
    assert result.exit_code != 0
    assert "--chunk-size" in result.output


def test_db_upgrade_indexes_records_linked_before_the_views_once(
    runner: FlaskCliRunner, session_factory: sessionmaker[Session], feeds: Path
) -> None:
    ingest_generated(session_factory, feeds)
    with session_factory() as session:
        views, keys = stored_views(session)
        dropped = sorted(in_force(session))[::2]
    drop_views(session_factory, dropped)

    result = runner.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert "linked records without matcher views" in result.output
    with session_factory() as session:
        assert stored_views(session) == (views, keys)
    quiet = runner.invoke(args=["db", "upgrade"])
    assert quiet.exit_code == 0, quiet.output
    assert "matcher views" not in quiet.output
