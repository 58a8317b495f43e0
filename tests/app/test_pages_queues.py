"""The work queues as pages: review confirm / reject, repair decisions, objection answers and
closing. Every action goes through the API's service, is audited the same way, and a refused
form keeps what was typed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import (
    AuditEvent,
    CreditStatus,
    Entity,
    EntityReview,
    Objection,
    ObjectionStatus,
    RepairApplication,
    RepairStatus,
    ReviewStatus,
)
from tests.support.disputes import World, make_world
from tests.support.pages import (
    TODAY,
    PagesWorld,
    csrf_token,
    seed_pages_world,
    signed_in_client,
)

DAY = "2026-05-04"  # after the minimum publicity of the disputes world's records (2026-04-10)


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY)


def post_form(client: FlaskClient, page_url: str, action: str, **data: str) -> Any:
    """Open ``page_url`` (as a browser would) and submit ``data`` to ``action`` with its
    CSRF token."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page.text)})


def audit(session_factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --------------------------------------------------------------------------- reviews


@pytest.fixture
def pages_world(session_factory: sessionmaker[Session]) -> PagesWorld:
    return seed_pages_world(session_factory)


def test_review_queue_shows_the_pair_and_its_explanation(
    app: Flask, pages_world: PagesWorld
) -> None:
    page = signed_in_client(app, pages_world.tokens["regulator"]).get("/reviews").text
    assert "北京星河科技有限责任公司" in page and "北京星河科技有限公司" in page
    assert "名称相近" in page and "0.62" in page  # the matcher's explanation
    assert f'action="/reviews/{pages_world.review_id}/decision"' in page


def test_confirming_a_review_merges_and_is_audited(
    app: Flask, pages_world: PagesWorld, session_factory: sessionmaker[Session]
) -> None:
    client = signed_in_client(app, pages_world.tokens["regulator"])
    response = post_form(
        client,
        "/reviews",
        f"/reviews/{pages_world.review_id}/decision",
        decision="confirm",
        reason="同一企业，名称变更",
    )
    assert response.status_code == 303 and response.location == "/reviews"
    assert "confirmed: merged" in client.get(response.location).text
    with session_factory() as session:
        review = session.get(EntityReview, pages_world.review_id)
        assert review is not None and review.status is ReviewStatus.CONFIRMED
        look_alike = session.scalars(
            select(Entity).where(Entity.public_id == pages_world.ids["look_alike"])
        ).one()
        assert look_alike.merged_into_id is not None
    events = audit(session_factory, "review.confirm")
    assert [(e.actor, e.target_id, e.details["reason"]) for e in events] == [
        ("page-regulator", str(pages_world.review_id), "同一企业，名称变更")
    ]
    assert len(audit(session_factory, "entity.merge")) == 1
    # The merged id now answers with the survivor's profile.
    profile = client.get(f"/entities/{pages_world.ids['look_alike']}").text
    assert pages_world.ids["xinghe"] in profile and "was merged into this entity" in profile


def test_rejecting_a_review_never_merges(
    app: Flask, pages_world: PagesWorld, session_factory: sessionmaker[Session]
) -> None:
    client = signed_in_client(app, pages_world.tokens["regulator"])
    response = post_form(
        client, "/reviews", f"/reviews/{pages_world.review_id}/decision",
        decision="reject", reason="不同企业",
    )  # fmt: skip
    assert response.status_code == 303
    with session_factory() as session:
        review = session.get(EntityReview, pages_world.review_id)
        assert review is not None and review.status is ReviewStatus.REJECTED
    assert len(audit(session_factory, "review.reject")) == 1
    assert audit(session_factory, "entity.merge") == []
    # Deciding again is refused with the service's reason, shown on the queue page.
    again = post_form(
        client, "/reviews?status=rejected", f"/reviews/{pages_world.review_id}/decision",
        decision="confirm", reason="x",
    )  # fmt: skip
    assert again.status_code == 409 and "already rejected" in again.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"decision": "confirm", "reason": "   "}, "must not be blank"),
        ({"decision": "confirm"}, "This field is required"),
        ({"decision": "maybe", "reason": "看起来一样"}, "Must be one of"),
        ({"reason": "看起来一样"}, "Choose confirm or reject"),
        ({"decision": "confirm", "reason": "含\x00字符"}, "NUL"),
    ],
)
def test_a_refused_review_form_changes_nothing_and_keeps_the_text(
    app: Flask,
    pages_world: PagesWorld,
    session_factory: sessionmaker[Session],
    form: dict[str, str],
    message: str,
) -> None:
    client = signed_in_client(app, pages_world.tokens["regulator"])
    response = post_form(client, "/reviews", f"/reviews/{pages_world.review_id}/decision", **form)
    assert response.status_code == 422
    assert message in response.text
    if form.get("reason", "").strip() and "\x00" not in form["reason"]:
        assert form["reason"] in response.text  # what was typed is still there
    with session_factory() as session:
        review = session.get(EntityReview, pages_world.review_id)
        assert review is not None and review.status is ReviewStatus.PENDING
    assert audit(session_factory, "review.confirm") == []


def test_a_decision_without_the_csrf_token_is_refused(
    app: Flask, pages_world: PagesWorld, session_factory: sessionmaker[Session]
) -> None:
    client = signed_in_client(app, pages_world.tokens["regulator"])
    response = client.post(
        f"/reviews/{pages_world.review_id}/decision",
        data={"decision": "confirm", "reason": "同一企业"},
    )
    assert response.status_code == 400
    with session_factory() as session:
        review = session.get(EntityReview, pages_world.review_id)
        assert review is not None and review.status is ReviewStatus.PENDING


def test_only_regulators_decide_reviews(app: Flask, pages_world: PagesWorld) -> None:
    analyst = signed_in_client(app, pages_world.tokens["analyst"])
    assert analyst.get("/reviews").status_code == 403
    page = analyst.get("/search")
    response = analyst.post(
        f"/reviews/{pages_world.review_id}/decision",
        data={"decision": "confirm", "reason": "x", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 403
    anonymous = app.test_client().post(f"/reviews/{pages_world.review_id}/decision")
    assert anonymous.status_code == 303 and anonymous.location == "/sign-in"


# --------------------------------------------------------------------------- repairs


@pytest.fixture
def world(
    session_factory: sessionmaker[Session], make_app: Callable[[Config], Flask], config: Config
) -> World:
    return make_world(session_factory, make_app, config)


def _tokens(world: World) -> dict[str, str]:
    return {who: h["Authorization"].split()[1] for who, h in world.headers.items() if h}


def _apply(world: World, record_id: int) -> int:
    response = world.on(DAY).post(
        f"/api/v1/records/{record_id}/repair-applications",
        json={
            "applicant_name": "王五",
            "applicant_contact": "13812345678",
            "reason": "已足额缴纳罚款并完成整改",
        },
    )
    assert response.status_code == 201, response.json
    application_id: int = response.json["id"]
    return application_id


def test_regulator_approves_a_repair_on_the_page(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    record_id = world.record()
    application_id = _apply(world, record_id)
    client = signed_in_client(world.on(DAY).application, _tokens(world)["regulator"])
    queue = client.get("/repairs").text
    assert "已足额缴纳罚款并完成整改" in queue and "13812345678" in queue
    response = post_form(
        client, "/repairs", f"/repairs/{application_id}/decision",
        decision="approve", reason="整改到位",
    )  # fmt: skip
    assert response.status_code == 303 and response.location == "/repairs"
    assert world.load(record_id).status is CreditStatus.REPAIRED
    with session_factory() as session:
        application = session.get(RepairApplication, application_id)
        assert application is not None and application.status is RepairStatus.APPROVED
    assert ("repair.approve", "regulator", str(application_id)) in world.audit_actions()
    assert "整改到位" in client.get("/repairs?status=approved").text


def test_a_repair_decision_needs_a_reason(world: World) -> None:
    record_id = world.record()
    application_id = _apply(world, record_id)
    client = signed_in_client(world.on(DAY).application, _tokens(world)["regulator"])
    response = post_form(
        client, "/repairs", f"/repairs/{application_id}/decision", decision="reject", reason=""
    )
    assert response.status_code == 422 and "This field must not be blank" in response.text
    assert world.load(record_id).status is CreditStatus.ACTIVE
    assert not any(a[0].startswith("repair.reject") for a in world.audit_actions())


def test_repairs_are_for_regulators_only(world: World) -> None:
    app = world.on(DAY).application
    for who in ("analyst", "epb"):
        assert signed_in_client(app, _tokens(world)[who]).get("/repairs").status_code == 403


# --------------------------------------------------------------------------- objections


def _object(world: World, record_id: int) -> int:
    response = world.on(DAY).post(
        f"/api/v1/records/{record_id}/objections",
        json={
            "kind": "content",
            "raised_by_name": "王五",
            "raised_by_contact": "13812345678",
            "description": "处罚金额有误",
        },
    )
    assert response.status_code == 201, response.json
    objection_id: int = response.json["id"]
    return objection_id


def test_department_answers_and_regulator_closes_an_objection(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    record_id = world.record()
    objection_id = _object(world, record_id)
    app = world.on(DAY).application
    tokens = _tokens(world)

    epb = signed_in_client(app, tokens["epb"])
    queue = epb.get("/objections").text
    assert "处罚金额有误" in queue
    assert "138****5678" in queue and "13812345678" not in queue  # contact masked for departments
    assert f'action="/objections/{objection_id}/close"' not in queue  # departments cannot close
    tax_queue = signed_in_client(app, tokens["tax"]).get("/objections").text
    assert "处罚金额有误" not in tax_queue  # another department's record
    # Received: the record is untouched until the department accepts the objection.
    assert world.load(record_id).status is CreditStatus.ACTIVE
    assert f'action="/objections/{objection_id}/answer"' not in queue
    accepted = post_form(epb, "/objections", f"/objections/{objection_id}/accept")
    assert accepted.status_code == 303
    assert world.load(record_id).status is CreditStatus.DISPUTED
    answered = post_form(
        epb, "/objections", f"/objections/{objection_id}/answer", answer="经核实金额无误"
    )
    assert answered.status_code == 303

    regulator = signed_in_client(app, tokens["regulator"])
    queue = regulator.get("/objections").text
    assert "经核实金额无误" in queue and "13812345678" in queue
    closed = post_form(
        regulator, "/objections", f"/objections/{objection_id}/close",
        outcome="upheld", reason="答复属实",
    )  # fmt: skip
    assert closed.status_code == 303
    with session_factory() as session:
        objection = session.get(Objection, objection_id)
        assert objection is not None and objection.status is ObjectionStatus.UPHELD
    assert world.load(record_id).status is CreditStatus.ACTIVE
    actions = world.audit_actions()
    assert ("objection.accept", "department", str(objection_id)) in actions
    assert ("objection.answer", "department", str(objection_id)) in actions
    assert ("objection.close", "regulator", str(objection_id)) in actions


def test_an_objection_close_without_outcome_keeps_the_reason(world: World) -> None:
    record_id = world.record()
    objection_id = _object(world, record_id)
    client = signed_in_client(world.on(DAY).application, _tokens(world)["regulator"])
    response = post_form(
        client, "/objections", f"/objections/{objection_id}/close", reason="需要补充材料"
    )
    assert response.status_code == 422
    assert "Choose an outcome" in response.text and "需要补充材料" in response.text
    assert world.load(record_id).status is CreditStatus.ACTIVE  # received: never disputed


def test_overdue_filter(world: World) -> None:
    record_id = world.record()
    _object(world, record_id)
    client = signed_in_client(world.on("2026-06-30").application, _tokens(world)["regulator"])
    overdue = client.get("/objections?overdue=true").text
    assert "已逾期 Overdue</span>" in overdue and "处罚金额有误" in overdue
    on_time = signed_in_client(world.on(DAY).application, _tokens(world)["regulator"])
    assert "处罚金额有误" not in on_time.get("/objections?overdue=true").text
