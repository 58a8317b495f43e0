"""Objections over the API: the record shows disputed, the department answers within 10 working
days, a regulator closes and the record's status comes back.

Dates: Friday 2026-03-06 + 10 working days (weekends skipped; March 2026 has no public holiday
in the Chinese calendar) = March 9-13 (5) and March 16-20 (10) -> due Friday 2026-03-20.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import CreditStatus
from core.rules.publicity import is_published
from tests.support.disputes import World, make_world

OBJECTION = {
    "kind": "content",
    "raised_by_name": "王五",
    "raised_by_contact": "13812345678",
    "description": "罚款金额记载有误",
}


@pytest.fixture
def world(
    session_factory: sessionmaker[Session], make_app: Callable[[Config], Flask], config: Config
) -> World:
    return make_world(session_factory, make_app, config)


def raise_on(world: World, day: str, record_id: int, who: str = "public", **body: Any) -> Any:
    return world.on(day).post(
        f"/api/v1/records/{record_id}/objections",
        json={**OBJECTION, **body},
        headers=world.headers[who],
    )


def act(world: World, day: str, objection_id: int, step: str, who: str, **body: Any) -> Any:
    return world.on(day).post(
        f"/api/v1/objections/{objection_id}/{step}", json=body, headers=world.headers[who]
    )


def listing(world: World, day: str, who: str = "regulator", query: str = "") -> Any:
    return world.on(day).get(f"/api/v1/objections?{query}", headers=world.headers[who])


def test_objection_lifecycle(world: World) -> None:
    record_id = world.record()
    raised = raise_on(world, "2026-03-06", record_id)
    assert raised.status_code == 201, raised.json
    objection = raised.json
    # Filing alone changes nothing about the record (issue 14: anyone could dispute anything).
    assert objection["status"] == "received"
    assert objection["due_on"] == "2026-03-20"
    assert objection["record_status"] == "active"
    assert objection["raised_by_contact"] == "138****5678"
    assert world.load(record_id).status is CreditStatus.ACTIVE
    # Another objection may wait beside it, received too.
    second = raise_on(world, "2026-03-07", record_id, kind="period")
    assert (second.status_code, second.json["status"]) == (201, "received")

    for who in ("analyst", "tax"):  # not a regulator, not the record's department
        assert act(world, "2026-03-09", objection["id"], "accept", who).status_code == 403
    assert act(world, "2026-03-09", objection["id"], "accept", "public").status_code == 401
    accepted = act(world, "2026-03-09", objection["id"], "accept", "epb")
    assert accepted.status_code == 200, accepted.json
    assert (accepted.json["status"], accepted.json["record_status"]) == ("open", "disputed")
    assert accepted.json["record_status_before"] == "active" and accepted.json["accepted_at"]
    record = world.load(record_id)
    assert record.status is CreditStatus.DISPUTED
    assert is_published(record, date(2026, 5, 1))  # still shown, marked disputed
    assert act(world, "2026-03-09", objection["id"], "accept", "regulator").status_code == 409
    # One objection is handled at a time.
    assert act(world, "2026-03-09", second.json["id"], "accept", "regulator").status_code == 409

    item = listing(world, "2026-03-11").json["items"][0]
    assert (item["id"], item["overdue"], item["raised_by_contact"]) == (
        objection["id"],
        False,
        "13812345678",
    )
    department_view = listing(world, "2026-03-11", "epb").json["items"][0]
    assert department_view["raised_by_contact"] == "138****5678"

    assert act(world, "2026-03-11", objection["id"], "answer", "tax", answer="x").status_code == 403
    assert (
        act(world, "2026-03-11", objection["id"], "answer", "regulator", answer="x").status_code
        == 403
    )
    answered = act(world, "2026-03-11", objection["id"], "answer", "epb", answer="经核实无误")
    assert answered.status_code == 200, answered.json
    assert answered.json["status"] == "answered"
    assert answered.json["record_status"] == "disputed"
    assert act(world, "2026-03-12", objection["id"], "answer", "epb", answer="x").status_code == 409

    assert (
        act(world, "2026-03-12", objection["id"], "close", "epb", outcome="upheld", reason="x")
    ).status_code == 403
    closed = act(
        world, "2026-03-12", objection["id"], "close", "regulator", outcome="upheld", reason="维持"
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "upheld"
    assert closed.json["record_status"] == "active"
    assert closed.json["resolution_reason"] == "维持"
    assert world.load(record_id).status is CreditStatus.ACTIVE
    again = act(
        world, "2026-03-13", objection["id"], "close", "regulator", outcome="corrected", reason="x"
    )
    assert again.status_code == 409

    # Closed, so the waiting one may be accepted now.
    assert act(world, "2026-03-13", second.json["id"], "accept", "regulator").status_code == 200
    actions = world.audit_actions()
    assert [(a, r) for a, r, _ in actions] == [
        ("objection.raise", "public"),
        ("objection.raise", "public"),
        ("objection.accept", "department"),
        ("objection.answer", "department"),
        ("objection.close", "regulator"),
        ("objection.accept", "regulator"),
    ]
    assert {t for _, _, t in actions[2:5]} == {str(objection["id"])}
    assert world.audit_details("objection.answer")[0]["late"] is False
    assert world.audit_details("objection.close")[0]["answered"] is True


def test_closing_a_received_objection_leaves_the_record_alone(world: World) -> None:
    record_id = world.record()
    objection = raise_on(world, "2026-03-06", record_id).json
    closed = act(
        world, "2026-03-09", objection["id"], "close", "regulator", outcome="upheld", reason="无据"
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["record_status"] == "active"
    assert world.load(record_id).status is CreditStatus.ACTIVE
    assert world.audit_details("objection.close")[0]["record_status_restored"] is False


def test_overdue_listing_and_department_scope(world: World) -> None:
    late_id = raise_on(world, "2026-03-06", world.record()).json["id"]  # due 2026-03-20
    raise_on(world, "2026-03-13", world.record())  # due 2026-03-27

    assert listing(world, "2026-03-20", query="overdue=true").json["total"] == 0
    overdue = listing(world, "2026-03-23", query="overdue=true").json
    assert [(i["id"], i["due_on"], i["overdue"]) for i in overdue["items"]] == [
        (late_id, "2026-03-20", True)
    ]
    every = listing(world, "2026-03-23").json["items"]
    assert [i["overdue"] for i in every] == [True, False]

    assert listing(world, "2026-03-23", "epb").json["total"] == 2
    assert listing(world, "2026-03-23", "tax").json["total"] == 0
    assert listing(world, "2026-03-23", query="department=TAX").json["total"] == 0
    assert listing(world, "2026-03-23", query="department=EPB&status=received").json["total"] == 2
    assert listing(world, "2026-03-23", "analyst").status_code == 403
    assert listing(world, "2026-03-23", "public").status_code == 401

    # A late answer is taken, flagged in the trail, and the objection is no longer overdue.
    assert act(world, "2026-03-23", late_id, "answer", "epb", answer="x").status_code == 409
    assert act(world, "2026-03-23", late_id, "accept", "epb").status_code == 200
    assert act(world, "2026-03-23", late_id, "answer", "epb", answer="已核实").status_code == 200
    assert world.audit_details("objection.answer")[0]["late"] is True
    assert listing(world, "2026-03-23", query="overdue=true").json["total"] == 0


def test_regulator_may_close_an_unanswered_objection(world: World) -> None:
    record_id = world.record(status=CreditStatus.REVOKED)
    objection = raise_on(world, "2026-03-06", record_id, who="analyst").json
    assert objection["record_status_before"] == "revoked"
    closed = act(
        world,
        "2026-03-09",
        objection["id"],
        "close",
        "regulator",
        outcome="corrected",
        reason="已更正",
    )
    assert closed.status_code == 200
    assert closed.json["status"] == "corrected"
    assert world.load(record_id).status is CreditStatus.REVOKED
    details = world.audit_details("objection.close")[0]
    assert (details["answered"], details["outcome"]) == (False, "corrected")
    assert act(world, "2026-03-09", objection["id"], "answer", "epb", answer="x").status_code == 409


def test_repair_result_objection_needs_a_decided_repair(world: World) -> None:
    record_id = world.record()
    early = raise_on(world, "2026-04-10", record_id, kind="repair_result")
    assert early.status_code == 409
    assert "no decided repair" in early.json["detail"]

    application = (
        world.on("2026-04-10")
        .post(
            f"/api/v1/records/{record_id}/repair-applications",
            json={"applicant_name": "王五", "reason": "已整改"},
        )
        .json
    )
    # Pending is not decided yet.
    assert raise_on(world, "2026-04-10", record_id, kind="repair_result").status_code == 409
    world.on("2026-04-13").post(
        f"/api/v1/repair-applications/{application['id']}/decision",
        json={"approve": True, "reason": "整改到位"},
        headers=world.headers["regulator"],
    )
    raised = raise_on(world, "2026-04-14", record_id, kind="repair_result")
    assert raised.status_code == 201
    assert raised.json["record_status_before"] == "repaired"
    closed = act(
        world,
        "2026-04-20",
        raised.json["id"],
        "close",
        "regulator",
        outcome="upheld",
        reason="维持",
    )
    assert closed.json["record_status"] == "repaired"


def test_refusals(world: World) -> None:
    assert raise_on(world, "2026-03-06", 999999).status_code == 404
    assert raise_on(world, "2026-03-06", world.record(feed_code="epb-closed")).status_code == 404
    record_id = world.record()
    bad_kind = raise_on(world, "2026-03-06", record_id, kind="mood")
    assert bad_kind.status_code == 422
    assert "kind" in bad_kind.json["errors"]["json"]
    # NUL cannot be stored in PostgreSQL text: refused up front, not a database error.
    # NUL is refused for every endpoint by app.guards
    assert raise_on(world, "2026-03-06", record_id, raised_by_name="王\x00五").status_code == 400
    assert listing(world, "2026-03-06", query="department=EP%00B").status_code == 400
    assert act(world, "2026-03-06", 999999, "answer", "epb", answer="x").status_code == 404
    assert (
        act(
            world, "2026-03-06", 999999, "close", "regulator", outcome="upheld", reason="x"
        ).status_code
        == 404
    )
    objection_id = raise_on(world, "2026-03-06", record_id).json["id"]
    bad_outcome = act(
        world, "2026-03-06", objection_id, "close", "regulator", outcome="open", reason="x"
    )
    assert bad_outcome.status_code == 422
