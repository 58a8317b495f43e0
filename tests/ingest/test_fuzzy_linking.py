"""Records without a deciding identifier are linked by the matcher, or queued for review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import (
    AdapterKind,
    CreditRecord,
    Entity,
    EntityReview,
    Feed,
    MatchLink,
    RecordCategory,
    ReviewStatus,
)
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline import store_batch
from tests.support.builders import make_department, make_feed


def push(session_factory: sessionmaker[Session], items: list[dict[str, Any]]) -> None:
    with session_factory() as session:
        feed = session.scalars(select(Feed)).one_or_none()
        if feed is None:
            feed = make_feed(
                session,
                code="epb",
                department=make_department(session, code="EPB"),
                adapter=AdapterKind.PUSH,
                record_category=RecordCategory.PENALTY,
                field_mapping={"preset": "double_publicity_penalty"},
            )
        records = [RawRecord(item, "test") for item in items]
        store_batch(session=session, feed=feed, run=None, batch=Batch(records=records))
        session.commit()


def penalty(doc: str, name: str, uscc: str = "", **extra: str) -> dict[str, Any]:
    return {
        "source_id": doc,
        "CF_XDR_MC": name,
        "CF_XDR_SHXYM": uscc,
        "CF_XZCFJDSWH": doc,
        "CF_JDRQ": "2026-03-01",
        "CF_CFJG": "北京市生态环境局",
        **extra,
    }


def entity_of(session: Session, doc: str) -> Entity:
    record = session.scalars(select(CreditRecord).where(CreditRecord.decision_number == doc)).one()
    return session.get_one(Entity, record.entity_id)


def test_a_name_variant_without_codes_links_with_the_matchers_explanation(
    session_factory: sessionmaker[Session],
) -> None:
    push(session_factory, [penalty("A", "北京星河科技有限公司", "91110000600037341L")])
    # a later batch: bracketed region, full-width brackets, traditional characters, no code
    push(session_factory, [penalty("B", "星河科技（北京）有限公司")])
    with session_factory() as session:
        assert entity_of(session, "A").id == entity_of(session, "B").id
        record = session.scalars(
            select(CreditRecord).where(CreditRecord.decision_number == "B")
        ).one()
        link = session.scalars(
            select(MatchLink).where(MatchLink.source_record_id == record.source_record_id)
        ).one()
        assert link.explanation["rule"] == "fuzzy_match"
        assert link.algorithm == "credithub-fs-v1"
        assert link.explanation["matcher"]["decision"] == "positive"
        assert 0.9 <= link.score < 1.0


def test_hard_rules_hold_in_the_service(session_factory: sessionmaker[Session]) -> None:
    push(
        session_factory,
        [
            penalty("A", "北京星河科技有限公司", "91110000600037341L"),
            # the same name with another valid USCC is another company
            penalty("B", "北京星河科技有限公司", "91110108551385082Q"),
            # a branch is not its parent
            penalty("C", "北京星河科技有限公司上海分公司"),
        ],
    )
    with session_factory() as session:
        ids = {entity_of(session, doc).id for doc in "ABC"}
        assert len(ids) == 3


def test_an_unsure_pair_goes_to_the_review_queue(session_factory: sessionmaker[Session]) -> None:
    push(
        session_factory,
        [penalty("A", "北京星河科技有限公司", "91110000600037341L", CF_FRDB="张三")],
    )
    # a trade name one character longer, the same legal representative, no code: plausible,
    # not certain
    push(session_factory, [penalty("B", "北京新星河科技有限公司", CF_FRDB="张三")])
    with session_factory() as session:
        a, b = entity_of(session, "A"), entity_of(session, "B")
        reviews = session.scalars(select(EntityReview)).all()
        assert a.id != b.id
        assert [(r.entity_id, r.candidate_entity_id) for r in reviews] == [(b.id, a.id)]
        assert reviews[0].status is ReviewStatus.PENDING
        assert 0.5 <= reviews[0].score < 0.9
