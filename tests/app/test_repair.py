"""Credit repair over the API: when a party may apply, and what a regulator's decision does.

The record is a general penalty decided 2026-01-10: three months' minimum publicity, so repair
may be applied for from 2026-04-10.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import CreditStatus, RecordCategory
from core.rules.publicity import is_published
from tests.support.disputes import World, make_world

APPLICATION = {
    "applicant_name": "王五",
    "applicant_contact": "13812345678",
    "reason": "已足额缴纳罚款并完成整改",
    "evidence": "缴款凭证 2026-02-01",
}


@pytest.fixture
def world(
    session_factory: sessionmaker[Session], make_app: Callable[[Config], Flask], config: Config
) -> World:
    return make_world(session_factory, make_app, config)


def apply(world: World, day: str, record_id: int, who: str = "public", **body: Any) -> Any:
    return world.on(day).post(
        f"/api/v1/records/{record_id}/repair-applications",
        json={**APPLICATION, **body},
        headers=world.headers[who],
    )


def decide(world: World, day: str, application_id: int, who: str = "regulator", **body: Any) -> Any:
    return world.on(day).post(
        f"/api/v1/repair-applications/{application_id}/decision",
        json=body,
        headers=world.headers[who],
    )


def test_too_early_names_the_first_allowed_day(world: World) -> None:
    record_id = world.record()
    for day in ("2026-03-01", "2026-04-09"):
        response = apply(world, day, record_id)
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
        assert "2026-04-10" in response.json["detail"]
    assert apply(world, "2026-04-10", record_id).status_code == 201


def test_public_applies_without_token_and_regulator_approves(world: World) -> None:
    record_id = world.record()
    response = apply(world, "2026-04-10", record_id)
    assert response.status_code == 201, response.json
    application = response.json
    assert application["status"] == "pending"
    assert application["record_status"] == "active"
    assert application["applicant_contact"] == "138****5678"

    queue = world.on("2026-04-12").get(
        "/api/v1/repair-applications?status=pending", headers=world.headers["regulator"]
    )
    assert queue.status_code == 200
    assert queue.json["total"] == 1
    item = queue.json["items"][0]
    assert item["applicant_contact"] == "13812345678"  # regulators see contact data in full
    assert item["record"]["id"] == record_id
    assert item["record"]["department"] == "EPB"

    assert (
        decide(world, "2026-04-12", application["id"], "analyst", approve=True, reason="x")
    ).status_code == 403
    assert (
        decide(world, "2026-04-12", application["id"], "public", approve=True, reason="x")
    ).status_code == 401

    approved = decide(world, "2026-04-12", application["id"], approve=True, reason="整改到位")
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    assert approved.json["record_status"] == "repaired"
    assert approved.json["decision_reason"] == "整改到位"

    record = world.load(record_id)  # kept, not deleted
    assert record.status is CreditStatus.REPAIRED
    assert not is_published(record, date(2026, 4, 12))

    again = apply(world, "2026-04-12", record_id)
    assert again.status_code == 409
    assert "already repaired" in again.json["detail"]
    redecide = decide(world, "2026-04-12", application["id"], approve=False, reason="x")
    assert redecide.status_code == 409

    actions = world.audit_actions()
    assert actions[0] == ("repair.submit", "public", str(application["id"]))
    assert actions[1][:2] == ("repair.approve", "regulator")
    assert world.audit_details("repair.approve")[0]["reason"] == "整改到位"


def test_rejection_keeps_the_record_published_and_allows_a_new_application(
    world: World,
) -> None:
    record_id = world.record()
    first = apply(world, "2026-04-10", record_id, who="epb")  # government roles may apply too
    assert first.status_code == 201
    assert apply(world, "2026-04-10", record_id).status_code == 409  # one pending at a time

    rejected = decide(world, "2026-04-11", first.json["id"], approve=False, reason="材料不全")
    assert rejected.status_code == 200
    assert rejected.json["status"] == "rejected"
    assert rejected.json["record_status"] == "active"
    record = world.load(record_id)
    assert record.status is CreditStatus.ACTIVE
    assert is_published(record, date(2026, 4, 11))

    assert apply(world, "2026-04-20", record_id).status_code == 201
    assert [a for a, _, _ in world.audit_actions()] == [
        "repair.submit",
        "repair.reject",
        "repair.submit",
    ]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"severity": None, "category": RecordCategory.LICENSING}, "not a dishonesty record"),
        ({"status": CreditStatus.REVOKED}, "revoked"),
        ({"status": CreditStatus.REPAIRED}, "already repaired"),
        ({"publicity_end": date(2026, 4, 1)}, "publicity period has ended"),
        ({"status": CreditStatus.DISPUTED}, "under objection"),
    ],
)
def test_records_that_cannot_be_repaired_answer_409(
    world: World, overrides: dict[str, Any], words: str
) -> None:
    response = apply(world, "2026-05-01", world.record(**overrides))
    assert response.status_code == 409
    assert words in response.json["detail"]


def test_unknown_and_hidden_records_and_bad_bodies(world: World) -> None:
    assert apply(world, "2026-05-01", 999999).status_code == 404
    # Not-shared records are invisible to the public and answer like unknown ones...
    hidden = world.record(feed_code="epb-closed")
    assert apply(world, "2026-05-01", hidden).status_code == 404
    # ...but their own department may apply on the party's behalf.
    assert apply(world, "2026-05-01", hidden, who="epb").status_code == 201

    record_id = world.record()
    blank = apply(world, "2026-05-01", record_id, reason="   ")
    assert blank.status_code == 422
    assert "reason" in blank.json["errors"]["json"]

    application = apply(world, "2026-05-01", record_id).json
    for body in ({"approve": "yes", "reason": "x"}, {"approve": True}, {"reason": "x"}):
        assert decide(world, "2026-05-02", application["id"], **body).status_code == 422
    assert decide(world, "2026-05-02", 999999, approve=True, reason="x").status_code == 404
    assert world.on("2026-05-02").get("/api/v1/repair-applications").status_code == 401


def test_approval_waits_while_the_record_is_under_objection(world: World) -> None:
    record_id = world.record()
    application = apply(world, "2026-04-10", record_id).json
    objection = world.on("2026-04-10").post(
        f"/api/v1/records/{record_id}/objections",
        json={"kind": "content", "raised_by_name": "王五", "description": "金额有误"},
    )
    assert objection.status_code == 201
    accepted = world.on("2026-04-10").post(
        f"/api/v1/objections/{objection.json['id']}/accept", headers=world.headers["regulator"]
    )
    assert accepted.status_code == 200, accepted.json
    blocked = decide(world, "2026-04-13", application["id"], approve=True, reason="ok")
    assert blocked.status_code == 409
    assert "disputed" in blocked.json["detail"]
