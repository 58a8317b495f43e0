"""GET /api/v1/reviews and the review page list each question once: two reviews of entities
merged since are one item, standing for both record pairs, still shown side by side with
levels, weights and total."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.models import Role
from tests.resolution.test_record_linking import entity_of, penalty, push
from tests.support.api import make_token
from tests.support.pages import signed_in_client

USCC = "91110000600037341L"
PHONE = "01062345678"


def test_a_question_asked_twice_is_listed_once_with_its_support(
    app: Flask, client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    # B and C are each unsure with A; D merges B and C (B's name and representative, C's
    # phone): one question is left, "is A the company of B, C and D?".
    push(session_factory, [penalty("A", "北京星河科技有限公司", USCC, CF_FRDB="张三")])
    push(session_factory, [penalty("B", "北京新星河科技有限公司", CF_FRDB="张三")])
    push(session_factory, [penalty("C", "北京星河科技有限公司", CF_FRDB="李四", LXDH=PHONE)])
    regulator = make_token(session_factory, Role.REGULATOR)
    before = client.get("/api/v1/reviews", headers=regulator).json
    assert before["total"] == 2 and [i["support"] for i in before["items"]] == [1, 1]

    push(session_factory, [penalty("D", "北京新星河科技有限公司", CF_FRDB="张三", LXDH=PHONE)])
    body = client.get("/api/v1/reviews", headers=regulator).json
    assert body["total"] == 1
    (item,) = body["items"]
    assert item["support"] == 2
    with session_factory() as session:
        a = entity_of(session, "A").public_id
    assert a in (item["entity_id"], item["candidate_entity_id"])
    comparison = item["comparison"]
    shown = {row["field"]: row for row in comparison["fields"]}
    assert shown["name"]["left"] and shown["name"]["right"]
    compared = [row for row in comparison["fields"] if row["level"] is not None]
    assert compared and all(isinstance(row["weight"], float | int) for row in compared)
    assert isinstance(comparison["total_weight"], float | int)
    assert comparison["thresholds"] == {"positive": 0.9, "review": 0.5}

    withdrawn = client.get("/api/v1/reviews?status=withdrawn", headers=regulator).json
    (folded,) = withdrawn["items"]
    assert f"review {item['id']}" in folded["reason"]

    # The page shows the one question, with the record pairs it stands for.
    page = signed_in_client(app, regulator["Authorization"].removeprefix("Bearer ")).get("/reviews")
    assert page.status_code == 200
    assert page.text.count('class="card review"') == 1
    assert "2 对记录 record pairs" in page.text and "side-by-side" in page.text
