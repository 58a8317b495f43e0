"""Records linked before a model are decided again with it: entities it links are merged,
the new link names the model, nothing a reviewer decided is undone."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.service_path import ingest_generated, record_entities
from core.models import CreditRecord, EntityReview, MatchingModel, MatchLink, ReviewStatus
from demo.generator import generate_feeds
from ingest.auto_training import TrainingPolicy, relink_pending
from matching.match_model import MatchModel
from matching.model import DEFAULT_WEIGHTS
from resolution.matching_models import store_model
from resolution.relinking import RelinkChunk, mark_for_relink, relink_chunk
from resolution.survivors import survivor_map
from tests.matching.test_persons import resident_id
from tests.resolution.test_person_linking import person
from tests.resolution.test_record_linking import entity_of, push

# The hand-set weights with a person prior of -4 instead of -8: a common name with a birth
# date (2 + 6 bits) links instead of going to review.
BOLDER = MatchModel(
    weights=DEFAULT_WEIGHTS, priors=MappingProxyType({"default": -8.0, "person": -4.0})
)


def store_and_relink(session_factory: sessionmaker[Session], model: MatchModel) -> None:
    with session_factory() as session:
        mark_for_relink(session=session, row=store_model(session=session, model=model))
        session.commit()
    relink_pending(session_factory, chunk_size=1)


def survivor(session: Session, doc: str) -> int:
    entity = entity_of(session, doc).id
    return survivor_map(session).get(entity, entity)


def links_of(session: Session, doc: str) -> list[MatchLink]:
    source = session.scalars(
        select(CreditRecord.source_record_id).where(CreditRecord.decision_number == doc)
    ).one()
    return list(
        session.scalars(
            select(MatchLink).where(MatchLink.source_record_id == source).order_by(MatchLink.id)
        )
    )


def two_records_in_review(session_factory: sessionmaker[Session]) -> None:
    push(session_factory, [person("A", "王伟", resident_id("19850302"))])
    push(session_factory, [person("B", "王伟", 出生日期="1985-03-02")])
    with session_factory() as session:
        assert survivor(session, "A") != survivor(session, "B")
        (review,) = session.scalars(select(EntityReview)).all()
        assert review.status is ReviewStatus.PENDING


def test_records_linked_before_a_model_are_decided_again_with_it(
    session_factory: sessionmaker[Session],
) -> None:
    two_records_in_review(session_factory)
    store_and_relink(session_factory, BOLDER)
    with session_factory() as session:
        assert survivor(session, "A") == survivor(session, "B")
        # A, decided again first (source record order), now links B's entity into its own:
        # its new link names the model, the old one stays, superseded.
        first, second = links_of(session, "A")
        assert first.superseded_at is not None and second.superseded_at is None
        assert second.explanation["rule"] == "relinked"
        assert second.model_version == BOLDER.version
        assert second.explanation["merged"] == [entity_of(session, "B").public_id]
        # B is then in A's entity already: its link stays as it was.
        assert [link.superseded_at for link in links_of(session, "B")] == [None]
        (review,) = session.scalars(select(EntityReview)).all()
        assert review.status is ReviewStatus.CONFIRMED
        assert BOLDER.version in (review.reason or "")
        row = session.scalars(select(MatchingModel)).one()
        assert row.relinked_through == row.relink_until is not None
    # Done once: a second relink has nothing left to decide.
    assert relink_pending(session_factory).decided == 0


def test_a_pair_the_newer_model_decides_apart_is_withdrawn_from_review(
    session_factory: sessionmaker[Session],
) -> None:
    """Reviews the matcher queued with an older model leave the queue when the new model
    decides the pair is not the same (a person prior of -12: 2 + 6 - 12 bits)."""
    two_records_in_review(session_factory)
    stricter = MatchModel(
        weights=DEFAULT_WEIGHTS, priors=MappingProxyType({"default": -8.0, "person": -12.0})
    )
    store_and_relink(session_factory, stricter)
    with session_factory() as session:
        assert survivor(session, "A") != survivor(session, "B")
        (review,) = session.scalars(select(EntityReview)).all()
        assert review.status is ReviewStatus.WITHDRAWN
        assert stricter.version in (review.reason or "")


def test_relinking_never_merges_what_a_reviewer_kept_apart(
    session_factory: sessionmaker[Session],
) -> None:
    two_records_in_review(session_factory)
    with session_factory() as session:
        review = session.scalars(select(EntityReview)).one()
        review.status = ReviewStatus.REJECTED
        session.commit()
    store_and_relink(session_factory, BOLDER)
    with session_factory() as session:
        assert survivor(session, "A") != survivor(session, "B")
        assert all(link.explanation.get("rule") != "relinked" for link in links_of(session, "B"))


def test_relinking_keeps_records_matching_two_persons_apart(
    session_factory: sessionmaker[Session],
) -> None:
    """The safeguard holds when records are decided again: a common name + birth date that
    the bolder model links to both of two persons with different ids joins neither."""
    push(
        session_factory,
        [
            person("A", "王伟", resident_id("19850302", "031")),
            person("B", "王伟", resident_id("19850302", "033")),
        ],
    )
    push(session_factory, [person("C", "王伟", 出生日期="1985-03-02")])
    store_and_relink(session_factory, BOLDER)
    with session_factory() as session:
        assert len({survivor(session, doc) for doc in "ABC"}) == 3


def test_the_selective_relink_gives_the_partition_of_the_full_one(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Relinking skips records no pair with another entity could change: on a generated data
    set linked with the hand-set weights, then decided again with bolder priors, the
    entities are those of deciding every record in full, and fewer records are scored."""
    generate_feeds(entities=250, out_dir=tmp_path, seed=11)
    ingest_generated(session_factory, tmp_path, training=TrainingPolicy(enabled=False))
    # Bolder than the hand-set weights for both kinds, so that relinking merges entities.
    bolder = MatchModel(
        weights=DEFAULT_WEIGHTS, priors=MappingProxyType({"default": -4.0, "person": -4.0})
    )
    with session_factory() as session:
        mark_for_relink(session=session, row=store_model(session=session, model=bolder))
        session.commit()
    outcomes = {}
    for selective in (True, False):
        with session_factory() as session:
            # Small chunks in one transaction: the selective chunks span other ranges.
            chunks = [relink_chunk(session=session, chunk_size=40, selective=selective)]
            while not chunks[-1].done:
                chunks.append(relink_chunk(session=session, chunk_size=40, selective=selective))
            chunk = RelinkChunk(
                decided=sum(c.decided for c in chunks),
                relinked=sum(c.relinked for c in chunks),
                merged=sum(c.merged for c in chunks),
            )
            partition = record_entities(session)
            reviews = sorted(
                (r.entity_id, r.candidate_entity_id, r.status, r.score)
                for r in session.scalars(select(EntityReview))
            )
            clusters = {
                frozenset(k for k, v in partition.items() if v == e)
                for e in set(partition.values())
            }
            outcomes[selective] = (chunk, clusters, reviews)
            session.rollback()
    (selective, chosen, queued), (full, everything, all_queued) = outcomes[True], outcomes[False]
    assert full.merged > 0, "the bolder model merged nothing: the test shows nothing"
    assert chosen == everything
    # The same reviews queued, confirmed and withdrawn, whatever the chunks hold.
    assert queued == all_queued
    assert (selective.merged, selective.relinked) == (full.merged, full.relinked)
    assert selective.decided < full.decided
