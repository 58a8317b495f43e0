"""The credit-check pages: form, result with triggers, feedback, history, subscriptions."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from tests.support.credit import ID_ZHANG
from tests.support.credit_checks import SAMPLE_MEASURES, World, build_world
from tests.support.pages import csrf_token, signed_in_client
from tests.support.receiver import run_receiver

ZHANG_MASKED = "110105********002X"


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(
        config, today="2026-06-01", measures_file=SAMPLE_MEASURES, webhook_allow_private=True
    )


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


def browser(app: Flask, world: World, who: str) -> FlaskClient:
    return signed_in_client(app, world.headers[who]["Authorization"].removeprefix("Bearer "))


def submit(client: FlaskClient, page_url: str, action: str, data: dict[str, Any]) -> Any:
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page.text)})


def test_check_form_result_feedback_and_history(app: Flask, world: World) -> None:
    fin = browser(app, world, "fin")
    made = submit(
        fin,
        "/checks/new",
        "/checks/new",
        {"identifier": ID_ZHANG, "matter": "government_procurement", "reference": "采购-9"},
    )
    assert made.status_code == 303
    url = made.headers["Location"]
    page = fin.get(url)
    assert page.status_code == 200
    assert "限制参与政府采购活动" in page.text and "失信被执行人名单" in page.text
    assert "2026-01-10" in page.text and "政府采购法" in page.text
    assert ZHANG_MASKED in page.text and ID_ZHANG not in page.text
    code = "dishonest_debtor_procurement"
    no_reason = submit(fin, url, f"{url}/feedback", {"measure_code": code, f"applied-{code}": "no"})
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    given = submit(
        fin,
        url,
        f"{url}/feedback",
        {"measure_code": code, f"applied-{code}": "no", f"reason-{code}": "已履行"},
    )
    assert given.status_code == 303
    assert "已履行" in fin.get(url).text
    history = fin.get("/checks")
    assert history.status_code == 200 and "采购-9" in history.text and "not applied" in history.text
    blank = submit(fin, "/checks/new", "/checks/new", {"identifier": " ", "matter": "bidding"})
    assert blank.status_code == 422
    assert browser(app, world, "drc").get(url).status_code == 404
    assert browser(app, world, "analyst").get("/checks/new").status_code == 403


def test_subscriptions_page_lists_recent_deliveries(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with run_receiver() as receiver:
        response = client.post(
            "/api/v1/subscriptions",
            json={"url": receiver.url, "kinds": ["record.created"], "mine": True},
            headers=world.headers["hrss"],
        )
        assert response.status_code == 201
    page = browser(app, world, "hrss").get("/subscriptions")
    assert page.status_code == 200
    assert receiver.url in page.text and "record.created" in page.text
    assert response.json["secret"] not in page.text


def test_the_owner_cancels_a_subscription_on_its_page(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with run_receiver() as receiver:
        made = client.post(
            "/api/v1/subscriptions",
            json={"url": receiver.url, "kinds": ["record.created"], "mine": True},
            headers=world.headers["hrss"],
        ).json
    hrss = browser(app, world, "hrss")
    action = f"/subscriptions/{made['id']}/cancel"
    assert "Cancel this subscription" in hrss.get("/subscriptions").text
    assert hrss.post(action, data={}).status_code == 400, "no CSRF token, no cancellation"
    fin = browser(app, world, "fin")
    assert submit(fin, "/subscriptions", action, {}).status_code == 404, "another department's"
    assert client.get(f"/api/v1/subscriptions/{made['id']}", headers=world.headers["hrss"]).json[
        "active"
    ]
    done = submit(hrss, "/subscriptions", action, {})
    assert done.status_code == 303
    page = hrss.get("/subscriptions")
    assert "已取消 cancelled" in page.text and "Cancel this subscription" not in page.text
