"""One process at a time trains the matching model or relinks: a second check, scheduler job
or ``credithub matching train`` that finds the lock taken skips (or refuses) without error
and without training, on both backends (``core.locks``)."""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import MatchingModel
from ingest.auto_training import TrainingPolicy, train_if_due, training_lock
from tests.matching.test_persons import resident_id
from tests.resolution.test_person_linking import person
from tests.resolution.test_record_linking import push

EAGER = TrainingPolicy(min_records=2)


def models(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(MatchingModel)) or 0


@pytest.fixture
def records(session_factory: sessionmaker[Session]) -> None:
    push(
        session_factory,
        [person(f"D{i}", "王伟", resident_id("19850302", f"{i:03d}")) for i in range(1, 6)],
    )


def test_a_second_training_check_skips_while_another_holds_the_lock(
    session_factory: sessionmaker[Session], records: None
) -> None:
    with training_lock(session_factory) as held:
        assert held
        # Another holder (its own connection, or its own file handle on SQLite) is refused.
        with training_lock(session_factory) as second:
            assert not second
        assert train_if_due(session_factory, EAGER) is None
        assert models(session_factory) == 0
    # Released: the next check trains (a model stored, or none when the pairs are too few).
    assert train_if_due(session_factory, EAGER) is not None


def test_the_lock_is_released_when_the_holder_fails(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), training_lock(session_factory) as held:
        assert held
        raise RuntimeError("training failed")
    with training_lock(session_factory) as again:
        assert again


def test_a_check_in_another_thread_skips_while_one_trains(
    session_factory: sessionmaker[Session], records: None
) -> None:
    taken, finish = threading.Event(), threading.Event()
    results: list[object] = []

    def holder() -> None:
        with training_lock(session_factory) as held:
            results.append(held)
            taken.set()
            finish.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert taken.wait(10)
        results.append(train_if_due(session_factory, EAGER))
    finally:
        finish.set()
        thread.join(10)
    assert results == [True, None]
    assert models(session_factory) == 0


def test_matching_train_refuses_while_another_process_trains(
    runner: FlaskCliRunner, session_factory: sessionmaker[Session]
) -> None:
    with training_lock(session_factory) as held:
        assert held
        for command in (["matching", "train"], ["matching", "relink"]):
            result = runner.invoke(args=command)
            assert result.exit_code != 0
            assert "another process is training the matching model" in result.output
