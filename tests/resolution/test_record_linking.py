"""Linking at ingest with resolve's engine: records are compared with the records of
candidate entities, linked, kept apart by the hard rules, or queued for review."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.services import create_client
from core.models import (
    AdapterKind,
    CreditRecord,
    Entity,
    EntityKind,
    EntityReview,
    Feed,
    MatchLink,
    RecordCategory,
    ReviewStatus,
    Role,
    SourceRecord,
)
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.store import store_batch
from matching.match_model import default_model
from matching.records import MatchRecord, prepare
from resolution.record_views import match_record_of, record_for_matching, view_of
from resolution.reviews import decide_review
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
        assert link.explanation["rule"] == "matched"
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


@pytest.mark.parametrize("batches", [1, 2], ids=["one-batch", "two-batches"])
def test_a_record_sharing_a_code_with_an_entity_of_another_valid_uscc_is_kept_apart(
    session_factory: sessionmaker[Session], batches: int
) -> None:
    """B shares A's organization code but holds another valid USCC (same code, another
    region): the hard rule excludes A, and the explanation says so, whether A arrived in the
    same batch or an earlier one."""
    a = penalty("A", "北京星河科技有限公司", "91110000600037341L")
    b = penalty("B", "北京星河科技有限公司", "913100006000373412")
    if batches == 1:
        push(session_factory, [a, b])
    else:
        push(session_factory, [a])
        push(session_factory, [b])
    with session_factory() as session:
        entity_a, entity_b = entity_of(session, "A"), entity_of(session, "B")
        assert entity_a.id != entity_b.id
        record = session.scalars(
            select(CreditRecord).where(CreditRecord.decision_number == "B")
        ).one()
        explanation = session.scalars(
            select(MatchLink.explanation).where(
                MatchLink.source_record_id == record.source_record_id
            )
        ).one()
        assert explanation["rule"] == "new_entity"
        assert explanation["excluded"] == [
            {"entity": entity_a.public_id, "rule": "different_valid_uscc"}
        ]


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
        # The model decided the pair (no model stored: the hand-set weights) and is named on
        # the review and on B's link; A's link scored nothing and names none.
        version = default_model().version
        assert reviews[0].explanation["model_version"] == version
        (link_b,) = session.scalars(select(MatchLink).where(MatchLink.entity_id == b.id)).all()
        assert link_b.model_version == version
        (link_a,) = session.scalars(select(MatchLink).where(MatchLink.entity_id == a.id)).all()
        assert link_a.model_version is None


def _reject_pending_review(session_factory: sessionmaker[Session]) -> None:
    """A regulator decides the queued pair is not the same (through the service the API uses)."""
    with session_factory() as session:
        client, _token = create_client(session=session, name="reviewer", role=Role.REGULATOR)
        review = session.scalars(select(EntityReview)).one()
        decide_review(
            session=session, client=client, review_id=review.id, same=False, reason="different"
        )
        session.commit()


@pytest.mark.parametrize(
    "new_name",
    [
        "北京星河科技有限公司",  # the other entity's exact name (identifier-less exact rule)
        "星河科技（北京）有限公司",  # a variant the matcher would call a match
    ],
)
@pytest.mark.parametrize("rejected", [True, False], ids=["rejected", "pending"])
def test_a_reviewers_not_the_same_is_never_overridden_by_a_new_version(
    session_factory: sessionmaker[Session], new_name: str, rejected: bool
) -> None:
    push(
        session_factory,
        [penalty("A", "北京星河科技有限公司", "91110000600037341L", CF_FRDB="张三")],
    )
    push(session_factory, [penalty("B", "北京新星河科技有限公司", CF_FRDB="张三")])
    if rejected:
        _reject_pending_review(session_factory)
    # The department corrects record B's name: a new version, linked again.
    push(session_factory, [penalty("B", new_name, CF_FRDB="张三")])
    with session_factory() as session:
        versions = session.scalars(
            select(SourceRecord).where(SourceRecord.source_key == "B").order_by(SourceRecord.id)
        ).all()
        assert [v.version for v in versions] == [1, 2]
        a, b = entity_of(session, "A"), entity_of(session, "B")
        if not rejected:
            # Only a decision binds: while the pair is pending the record may join A.
            assert a.id == b.id
            return
        assert a.id != b.id
        link = session.scalars(
            select(MatchLink).where(MatchLink.source_record_id == versions[1].id)
        ).one()
        # the engine found A and said why it passed it over
        assert {"entity": a.public_id, "rule": "reviewer_rejected"} in link.explanation["excluded"]


def test_candidates_with_another_valid_uscc_are_excluded_and_explained(
    session_factory: sessionmaker[Session],
) -> None:
    push(session_factory, [penalty("A", "测试1科技有限公司", "91110000600037341L")])
    # shares the blocking key "测试" + industry, holds another valid USCC
    push(session_factory, [penalty("B", "测试2科技有限公司", "91110108551385082Q")])
    with session_factory() as session:
        assert entity_of(session, "A").id != entity_of(session, "B").id
        record = session.scalars(
            select(CreditRecord).where(CreditRecord.decision_number == "B")
        ).one()
        link = session.scalars(
            select(MatchLink).where(MatchLink.source_record_id == record.source_record_id)
        ).one()
        assert link.explanation["rule"] == "new_entity"
        assert link.explanation["excluded"] == [
            {"entity": entity_of(session, "A").public_id, "rule": "different_valid_uscc"}
        ]
        assert session.scalars(select(EntityReview)).all() == []


_CODES = [
    "91110000600037341L",
    "91110108551385082Q",
    "91110000600037341K",  # bad check character
    "9111000060003734",
    "60003734-1",
    "110105491231002",
    "11010519491231002X",
    "330106********1234",
    "110108000000016",
    "",
    " 91110108551385082q ",
]


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(EntityKind)),
    codes=st.lists(st.one_of(st.sampled_from(_CODES), st.text(max_size=20)), max_size=4),
    name=st.text(max_size=12),
    birth=st.one_of(st.none(), st.sampled_from(["1969-08-15", "19690815", "1969年8月15日"])),
)
def test_a_stored_view_gives_back_the_record_the_matcher_saw(
    kind: EntityKind, codes: list[str], name: str, birth: str | None
) -> None:
    """What ingest stores of a record (record_views.view_of) prepares to exactly what
    the matcher prepared when it linked the record: later records are compared with it."""
    record = MatchRecord(
        record_id="record:7", name=name, kind=kind.value, codes=tuple(codes), birth_date=birth
    )
    stored = json.loads(json.dumps(view_of(record)))
    assert prepare(match_record_of(7, stored)) == prepare(record)


def test_a_records_given_birth_date_reaches_the_matcher() -> None:
    validated = {"party_name": "王小明", "birth_date": date(1969, 8, 15), "gender": "M"}
    prepared = prepare(record_for_matching(validated, kind="natural_person", record_id="r"))
    assert prepared.is_person and prepared.birth_date == date(1969, 8, 15)


def test_the_prepared_view_cache_finds_a_record_by_its_stored_text_and_never_mixes_them() -> None:
    """A view read back as JSON text finds the record prepared when it was linked (no second
    preparation), another view of the same source id (another database) is prepared anew, and
    a full cache starts again rather than grow."""
    from resolution.record_views import PreparedViews

    cache = PreparedViews(maxsize=4)
    record = {"party_name": "北京星河科技有限公司", "uscc": "91110000600037341L"}
    view = view_of(record_for_matching(record, kind="company", record_id="record:1"))
    linked = prepare(match_record_of(1, view))
    cache.put(1, view, linked)
    assert cache.get_text(1, json.dumps(view)) is linked
    assert cache.get_text(1, json.dumps(view)) is linked  # now by its text
    other = {**view, "name": "北京月亮科技有限公司"}
    found = cache.get_text(1, json.dumps(other, ensure_ascii=False))
    assert found is not linked and found.raw_name == "北京月亮科技有限公司"
    assert prepare(match_record_of(1, other)) == found
    for n in range(2, 8):
        cache.get(n, view)
    assert len(cache._entries) <= 4
