"""The service trains its matching model by itself: when (the policy and its settings), and
what a feed run then does (a model stored, every earlier record decided again with it, the
entities those of ``credithub resolve`` with that model)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.scoring import pairwise_scores
from benchmarks.service_path import ingest_generated, stored_match_records
from core.config import Config, ConfigError
from core.models import MatchingModel, MatchLink
from demo.generator import generate_feeds
from ingest.auto_training import TrainingPolicy, policy_of, training_due
from matching.match_model import MatchModel, default_model
from matching.records import prepare
from matching.resolve import resolve

ENTITIES = 250


def test_the_default_policy_is_the_configs() -> None:
    assert policy_of(Config()) == TrainingPolicy()
    policy = policy_of(
        Config.from_env(
            {
                "CREDITHUB_MATCHING_AUTO_TRAIN": "0",
                "CREDITHUB_MATCHING_TRAIN_MIN_RECORDS": "5000",
                "CREDITHUB_MATCHING_TRAIN_GROWTH": "1.5",
            }
        )
    )
    assert policy == TrainingPolicy(enabled=False, min_records=5000, growth=1.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CREDITHUB_MATCHING_TRAIN_GROWTH", "1"),
        ("CREDITHUB_MATCHING_TRAIN_GROWTH", "twice"),
        ("CREDITHUB_MATCHING_TRAIN_GROWTH", "nan"),
        ("CREDITHUB_MATCHING_TRAIN_MIN_RECORDS", "1"),
    ],
)
def test_unusable_settings_are_refused_at_start_up(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(entities=ENTITIES, out_dir=out, seed=11)
    return out


def test_nothing_is_trained_below_the_minimum_or_when_switched_off(
    session_factory: sessionmaker[Session], feeds: Path
) -> None:
    ingest_generated(session_factory, feeds, training=TrainingPolicy(min_records=100_000))
    ingest_generated(session_factory, feeds, training=TrainingPolicy(enabled=False, min_records=2))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MatchingModel)) == 0
        assert training_due(session=session, policy=TrainingPolicy(min_records=100_000)) is None
        assert training_due(session=session, policy=TrainingPolicy(min_records=100))


def test_a_feed_run_trains_the_model_and_decides_earlier_records_again(
    session_factory: sessionmaker[Session], feeds: Path
) -> None:
    """The first feed runs past the minimum: a model is trained on the accepted records and
    every record linked before it is decided again; later feeds link with it, and a model is
    trained again only once the records have doubled. In the end the entities are the
    clusters ``resolve`` finds with the newest model on the same records."""
    policy = TrainingPolicy(min_records=150, relink_chunk=100)
    ingest_generated(session_factory, feeds, training=policy)
    with session_factory() as session:
        rows = list(session.scalars(select(MatchingModel).order_by(MatchingModel.id)))
        assert rows, "no model was trained"
        for earlier, later in itertools.pairwise(rows):
            assert later.records >= policy.growth * earlier.records
        newest = rows[-1]
        assert newest.relinked_through == newest.relink_until is not None
        model = MatchModel.from_dict(newest.document)
        versions = set(
            session.scalars(
                select(MatchLink.model_version).where(
                    MatchLink.superseded_at.is_(None), MatchLink.model_version.is_not(None)
                )
            )
        )
        assert model.version in versions
        # Every link names the model that decided it: a stored one or the hand-set weights.
        assert versions <= {r.version for r in rows} | {default_model().version}
        assert training_due(session=session, policy=policy) is None
        records, ingested = stored_match_records(session)
    resolved = resolve(records, model.config())
    ids = [r.record_id for r in records]
    scores = pairwise_scores([resolved.clusters[i] for i in ids], [ingested[i] for i in ids])
    assert scores["true_pairs"] > ENTITIES
    assert scores["f1"] >= 0.99, scores
    # No entity holds two different valid USCCs or resident ids.
    codes: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for record in records:
        prepared = prepare(record)
        usccs, residents = codes[ingested[record.record_id]]
        usccs |= prepared.usccs
        residents |= prepared.resident_ids
    assert all(len(u) <= 1 and len(r) <= 1 for u, r in codes.values())
