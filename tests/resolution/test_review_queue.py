"""The service's review queue asks each question once, as ``credithub resolve`` counts them:
one pending review per pair of entities (survivors of merges), closed when the two merge."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.services import create_client
from core.models import Entity, EntityReview, ReviewStatus, Role
from resolution.corrections import merge_entities
from resolution.review_queue import settle_pending_reviews, support_of, survivors_of
from resolution.reviews import decide_review, propose_review
from tests.resolution.test_record_linking import entity_of, penalty, push
from tests.support.builders import make_entity

USCC = "91110000600037341L"
PHONE = "01062345678"


def reviews(session: Session) -> list[EntityReview]:
    return list(session.scalars(select(EntityReview).order_by(EntityReview.id)))


def review(session: Session, entity: Entity, candidate: Entity, score: float) -> EntityReview:
    queued = propose_review(
        session=session,
        entity=entity,
        candidate=candidate,
        score=score,
        explanation={"probability": score},
        algorithm="test",
    )
    assert queued is not None
    session.flush()
    return queued


def test_two_reviews_of_entities_a_record_merges_become_one_question(
    session_factory: sessionmaker[Session],
) -> None:
    """B and C (another legal representative, a phone) are each unsure with A; D, with B's
    name and representative and C's phone, merges B and C: one question is left, the
    stronger pair, standing for both; the other review is withdrawn naming it."""
    push(session_factory, [penalty("A", "北京星河科技有限公司", USCC, CF_FRDB="张三")])
    push(session_factory, [penalty("B", "北京新星河科技有限公司", CF_FRDB="张三")])
    push(session_factory, [penalty("C", "北京星河科技有限公司", CF_FRDB="李四", LXDH=PHONE)])
    with session_factory() as session:
        assert [r.status for r in reviews(session)] == [ReviewStatus.PENDING] * 2
    push(
        session_factory,
        [penalty("D", "北京新星河科技有限公司", CF_FRDB="张三", LXDH=PHONE)],
    )
    with session_factory() as session:
        a, b, c = (entity_of(session, doc) for doc in "ABC")
        survivor = survivors_of(session, [a.id, b.id, c.id])
        assert survivor[b.id] == survivor[c.id] != survivor[a.id]
        weaker, stronger = sorted(reviews(session), key=lambda r: r.score)
        assert stronger.status is ReviewStatus.PENDING and support_of(stronger) == 2
        assert weaker.status is ReviewStatus.WITHDRAWN
        assert weaker.reason is not None and f"review {stronger.id}" in weaker.reason
        # The pair's explanation (the matcher's fields) is still the strongest pair's.
        assert stronger.explanation["comparisons"]

        # Confirming the question left merges the entities as they are now (the queued one
        # was merged into another since).
        client, _ = create_client(session=session, name="reviewer", role=Role.REGULATOR)
        decide_review(session=session, client=client, review_id=stronger.id, same=True, reason="同")
        session.commit()
        survivor = survivors_of(session, [a.id, b.id, c.id])
        assert len(set(survivor.values())) == 1
        assert {r.id: r.status for r in reviews(session)} == {
            stronger.id: ReviewStatus.CONFIRMED,
            weaker.id: ReviewStatus.WITHDRAWN,
        }
        assert stronger.decided_by_client_id == client.id and stronger.reason == "同"


def test_a_review_whose_entities_a_record_merges_is_settled(
    session_factory: sessionmaker[Session],
) -> None:
    push(session_factory, [penalty("A", "北京星河科技有限公司", USCC, CF_FRDB="张三")])
    push(session_factory, [penalty("B", "北京新星河科技有限公司", CF_FRDB="张三")])
    # C holds A's code and B's name and representative: A and B are one from now on.
    push(session_factory, [penalty("C", "北京新星河科技有限公司", USCC, CF_FRDB="张三")])
    with session_factory() as session:
        ends = [entity_of(session, doc).id for doc in "AB"]
        assert len(set(survivors_of(session, ends).values())) == 1
        (settled,) = reviews(session)
        assert settled.status is ReviewStatus.CONFIRMED and settled.decided_at is not None
        assert settled.reason is not None and "settled by other links" in settled.reason
        assert settled.decided_by_client_id is None  # nobody decided it


def test_settling_follows_merge_chains_and_touches_only_the_merged(session: Session) -> None:
    a, b, c, d, x, y = (make_entity(session) for _ in range(6))
    ab = review(session, a, b, 0.6)
    ac = review(session, a, c, 0.7)
    bd = review(session, b, d, 0.8)
    cd = review(session, c, d, 0.5)
    xy = review(session, x, y, 0.6)
    # a into b, b into c: one entity c, answering for a and b.
    a.merged_into_id, b.merged_into_id = b.id, c.id
    session.flush()
    assert survivors_of(session, [a.id, b.id, x.id]) == {a.id: c.id, b.id: c.id, x.id: x.id}
    settled = settle_pending_reviews(session=session, entity_ids=[c.id], merged_by="test")
    assert (settled.confirmed, settled.folded) == (2, 1)
    assert ab.status is ac.status is ReviewStatus.CONFIRMED
    # b–d and c–d ask the same now; the stronger stays and stands for both.
    assert bd.status is ReviewStatus.PENDING and support_of(bd) == 2
    assert cd.status is ReviewStatus.WITHDRAWN
    assert xy.status is ReviewStatus.PENDING and support_of(xy) == 1
    # Nothing left to settle: a second call changes nothing.
    again = settle_pending_reviews(session=session, merged_by="test")
    assert (again.confirmed, again.folded) == (0, 0)


def test_one_question_per_pair_of_entities_is_queued(session: Session) -> None:
    a, b, c = (make_entity(session) for _ in range(3))
    review(session, a, b, 0.6)
    c.merged_into_id = b.id
    session.flush()
    asked = dict(explanation={}, algorithm="test")
    # c answers for nothing but b's group now: the pair a–b is queued already.
    assert propose_review(session=session, entity=c, candidate=a, score=0.9, **asked) is None
    assert propose_review(session=session, entity=b, candidate=c, score=0.9, **asked) is None


def test_a_regulators_merge_closes_the_reviews_between_the_two(session: Session) -> None:
    a, b, c = (make_entity(session) for _ in range(3))
    ab, bc = review(session, a, b, 0.6), review(session, b, c, 0.7)
    client, _ = create_client(session=session, name="regulator", role=Role.REGULATOR)
    merge_entities(
        session=session, client=client, source_id=a.public_id, target_id=b.public_id, reason="同"
    )
    assert ab.status is ReviewStatus.CONFIRMED and ab.reason is not None
    assert "by a regulator" in ab.reason
    assert bc.status is ReviewStatus.PENDING
