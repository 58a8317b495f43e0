"""Regulators correct entity resolution: merge, unmerge, split, and the review queue."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import (
    AdapterKind,
    AuditEvent,
    CreditRecord,
    Entity,
    EntityIdentifier,
    Feed,
    MatchLink,
    RecordCategory,
    RecordMatchView,
    Role,
)
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.store import store_batch
from resolution.reviews import propose_review
from tests.support.api import make_token
from tests.support.builders import make_department, make_feed

Headers = dict[str, str]


def penalty(source_id: str, name: str, uscc: str = "") -> dict[str, Any]:
    return {
        "source_id": source_id,
        "CF_XDR_MC": name,
        "CF_XDR_SHXYM": uscc,
        "CF_XZCFJDSWH": f"京环罚〔2026〕{source_id}号",
        "CF_JDRQ": "2026-03-01",
        "CF_CFJG": "北京市生态环境局",
        "CF_CFLB": "罚款",
    }


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    with session_factory() as session:
        dept = make_department(session, code="EPB")
        feed = make_feed(
            session,
            code="epb",
            department=dept,
            adapter=AdapterKind.PUSH,
            record_category=RecordCategory.PENALTY,
            field_mapping={"preset": "double_publicity_penalty"},
        )
        items = [
            penalty("1", "北京星河科技有限公司", "91110000600037341L"),
            penalty("2", "北京星河科技有限公司", "91110000600037341L"),
            penalty("3", "北京月光贸易有限公司"),
            penalty("4", "北京另一家科技有限公司", "91110108551385082Q"),
        ]
        store_batch(
            session=session,
            feed=session.get_one(Feed, feed.id),
            run=None,
            batch=Batch(records=[RawRecord(i, "test") for i in items]),
        )
        session.commit()
        by_doc = {
            r.decision_number: (r.id, session.get_one(Entity, r.entity_id).public_id)
            for r in session.scalars(select(CreditRecord))
        }
    return {
        "ids": {k[-2]: v for k, v in by_doc.items()},  # "1".."4" -> (record id, public id)
        "regulator": make_token(session_factory, Role.REGULATOR),
    }


def post(client: FlaskClient, headers: Headers, url: str, **body: Any) -> Any:
    return client.post(f"/api/v1{url}", json=body, headers=headers)


def test_merge_then_profile_answers_for_both_and_unmerge_is_final(
    client: FlaskClient, world: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    reg, ids = world["regulator"], world["ids"]
    star, bracketed = ids["1"][1], ids["3"][1]
    assert star != bracketed
    merged = post(client, reg, f"/entities/{bracketed}/merge", into=star, reason="同一企业")
    assert merged.status_code == 200 and merged.json["public_id"] == star

    profile = client.get(f"/api/v1/entities/{bracketed}", headers=reg).json
    assert profile["public_id"] == star
    again = post(client, reg, f"/entities/{bracketed}/merge", into=star, reason="x")
    assert again.status_code == 409

    undone = post(client, reg, f"/entities/{bracketed}/unmerge", reason="录入错误")
    assert undone.status_code == 200 and undone.json["merged_into"] is None
    # the reviewer's "not the same" now stands in the way of merging them again
    refused = post(client, reg, f"/entities/{bracketed}/merge", into=star, reason="x")
    assert refused.status_code == 409 and "not the same" in refused.json["detail"]
    with session_factory() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
        assert {"entity.merge", "entity.unmerge"} <= set(actions)


def test_entities_with_different_valid_usccs_never_merge(
    client: FlaskClient, world: dict[str, Any]
) -> None:
    reg, ids = world["regulator"], world["ids"]
    response = post(client, reg, f"/entities/{ids['4'][1]}/merge", into=ids["1"][1], reason="x")
    assert response.status_code == 409
    assert "different valid uscc" in response.json["detail"]


def test_split_moves_records_identifiers_and_links(
    client: FlaskClient, world: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    reg, ids = world["regulator"], world["ids"]
    record_id, star = ids["2"]
    response = post(client, reg, f"/entities/{star}/split", record_ids=[record_id], reason="错挂")
    assert response.status_code == 200
    new_id = response.json["public_id"]
    assert new_id != star
    with session_factory() as session:
        record = session.get_one(CreditRecord, record_id)
        new = session.scalars(select(Entity).where(Entity.public_id == new_id)).one()
        assert record.entity_id == new.id
        links = list(
            session.scalars(
                select(MatchLink).where(MatchLink.source_record_id == record.source_record_id)
            )
        )
        current = [link for link in links if link.superseded_at is None]
        assert len(links) == 2 and len(current) == 1
        assert current[0].reviewer and current[0].explanation["rule"] == "reviewer_split"
        # ingest will compare later records with this one as a member of the new entity
        view = session.get_one(RecordMatchView, record.source_record_id)
        assert view.entity_id == new.id
        # the other record keeps the entity and the USCC it brought first
        assert session.scalars(
            select(EntityIdentifier.value).where(EntityIdentifier.entity_id != new.id)
        ).all()
    whole = post(client, reg, f"/entities/{star}/split", record_ids=[ids["1"][0]], reason="x")
    assert whole.status_code == 409  # would leave the entity without records
    foreign = post(client, reg, f"/entities/{star}/split", record_ids=[ids["4"][0]], reason="x")
    assert foreign.status_code == 409


def test_review_queue_confirm_merges_and_reject_is_never_overridden(
    client: FlaskClient, world: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    reg, ids = world["regulator"], world["ids"]
    with session_factory() as session:

        def entity(public_id: str) -> Entity:
            return session.scalars(select(Entity).where(Entity.public_id == public_id)).one()

        first = propose_review(
            session=session,
            entity=entity(ids["3"][1]),
            candidate=entity(ids["1"][1]),
            score=0.82,
            explanation={"fields": [{"field": "name", "score": 0.9}]},
            algorithm="test",
        )
        second = propose_review(
            session=session,
            entity=entity(ids["4"][1]),
            candidate=entity(ids["3"][1]),
            score=0.61,
            explanation={},
            algorithm="test",
        )
        duplicate = propose_review(
            session=session,
            entity=entity(ids["1"][1]),
            candidate=entity(ids["3"][1]),
            score=0.5,
            explanation={},
            algorithm="test",
        )
        session.commit()
        assert first and second and duplicate is None
        first_id, second_id = first.id, second.id

    queue = client.get("/api/v1/reviews", headers=reg).json
    assert [r["id"] for r in queue["items"]] == [first_id, second_id]  # best score first
    confirmed = post(client, reg, f"/reviews/{first_id}/decision", same=True, reason="同一企业")
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert (
        client.get(f"/api/v1/entities/{ids['3'][1]}", headers=reg).json["public_id"]
        == (ids["1"][1])
    )
    rejected = post(client, reg, f"/reviews/{second_id}/decision", same=False, reason="不同")
    assert rejected.json["status"] == "rejected"
    twice = post(client, reg, f"/reviews/{second_id}/decision", same=True, reason="x")
    assert twice.status_code == 409
    assert client.get("/api/v1/reviews", headers=reg).json["total"] == 0
    assert client.get("/api/v1/reviews?status=rejected", headers=reg).json["total"] == 1
    analyst = make_token(session_factory, Role.ANALYST)
    assert client.get("/api/v1/reviews", headers=analyst).status_code == 403
