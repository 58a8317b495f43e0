"""A small world for the page tests (Flask test client and real browser), and signing in.

``seed_pages_world`` stores, through the real ingest pipeline, a company with a registry entry,
a penalty (its content names a mobile number) and a not-shared arrears-list entry; a person
with a full resident id on the court's black list; a person with a full id and a penalty; a
look-alike company queued for review against the first; and regulator, analyst and department
clients. Today is :data:`TODAY` (``Config.today``) so publicity periods do not drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.services import create_client
from core.models import Entity, RecordCategory, Role, SharingType
from resolution.reviews import propose_review
from tests.support.builders import make_department, make_entity
from tests.support.credit import (
    ID_WANG,
    ingest,
    list_entry,
    make_credit_feed,
    penalty,
    registry,
)

TODAY = "2026-06-01"
PHONE = "13812345678"
PHONE_MASKED = "138****5678"
ZHANG_MASKED = "110105********002X"
WANG_MASKED = "110108********0010"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# What the matcher writes for an unsure pair (see matching.model): shown on the review page.
REVIEW_EXPLANATION: dict[str, Any] = {
    "decision": "unsure",
    "probability": 0.62,
    "total_weight": 4.0,
    "rule": None,
    "thresholds": {"positive": 0.9, "review": 0.5},
    "comparisons": [
        {"field": "name", "level": "partial", "score": 0.9, "why": "名称相近", "weight": 4.0},
        {"field": "address", "level": "missing", "score": None, "why": "address missing",
         "weight": 0.0},
    ],
}  # fmt: skip


@dataclass(frozen=True)
class PagesWorld:
    ids: dict[str, str]
    tokens: dict[str, str]
    review_id: int


def seed_pages_world(session_factory: sessionmaker[Session]) -> PagesWorld:
    """Store the world described in the module docstring and commit it."""
    with session_factory() as session:
        samr = make_department(session, code="SAMR", name="北京市市场监督管理局")
        epb = make_department(session, code="EPB", name="北京市生态环境局")
        court = make_department(session, code="COURT", name="北京市高级人民法院")
        hrss = make_department(session, code="HRSS", name="北京市人力资源和社会保障局")
        category = RecordCategory
        feeds = {
            "samr": make_credit_feed(
                session, code="samr-registry", department=samr, record_category=category.REGISTRY
            ),
            "epb": make_credit_feed(
                session, code="env-penalties", department=epb, record_category=category.PENALTY
            ),
            "court": make_credit_feed(
                session, code="court-debtors", department=court,
                record_category=category.LIST_ENTRY,
            ),
            "hrss": make_credit_feed(
                session, code="hrss-arrears", department=hrss,
                record_category=category.LIST_ENTRY, sharing_type=SharingType.NOT_SHARED,
            ),
        }  # fmt: skip
        ids: dict[str, str] = {}
        ids["xinghe"] = ingest(session, feeds["samr"], [registry("r1")])[0].entity_id or ""
        outcomes = ingest(
            session,
            feeds["epb"],
            [
                penalty("1", content=f"超标排放大气污染物，联系电话{PHONE}"),
                penalty(
                    "2", party_name="王芳", uscc=None, id_number=ID_WANG, penalty_category="警告",
                    fine_amount=None, decision_date="2026-04-01",
                ),
            ],
        )  # fmt: skip
        ids["wang"] = outcomes[1].entity_id or ""
        ids["zhang"] = ingest(session, feeds["court"], [list_entry("c1")])[0].entity_id or ""
        ingest(
            session,
            feeds["hrss"],
            [
                list_entry(
                    "h1", party_name="北京星河科技有限公司", id_number=None,
                    uscc="91110000600037341L", list_name="拖欠农民工工资失信联合惩戒对象名单",
                    listed_on="2026-02-01", authority_name="北京市人力资源和社会保障局",
                )
            ],
        )  # fmt: skip
        look_alike = make_entity(session, display_name="北京星河科技有限责任公司")
        ids["look_alike"] = look_alike.public_id
        xinghe = session.scalars(select(Entity).where(Entity.public_id == ids["xinghe"])).one()
        review = propose_review(
            session=session,
            entity=look_alike,
            candidate=xinghe,
            score=0.62,
            explanation=REVIEW_EXPLANATION,
            algorithm="credithub-fs-v1",
        )
        assert review is not None
        session.flush()
        review_id = review.id
        tokens = {}
        for name, role, department in (
            ("regulator", Role.REGULATOR, None),
            ("analyst", Role.ANALYST, None),
            ("epb", Role.DEPARTMENT, "EPB"),
            ("hrss", Role.DEPARTMENT, "HRSS"),
        ):
            _client, token = create_client(
                session=session, name=f"page-{name}", role=role, department_code=department
            )
            tokens[name] = token
        session.commit()
    return PagesWorld(ids=ids, tokens=tokens, review_id=review_id)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, token: str, next_url: str | None = None) -> Any:
    """Sign ``client`` in through the sign-in form; returns the POST's response."""
    form = client.get("/sign-in")
    data = {"token": token, "csrf_token": csrf_token(form.text)}
    if next_url:
        data["next"] = next_url
    return client.post("/sign-in", data=data)


def signed_in_client(app: Flask, token: str) -> FlaskClient:
    """A new test client of ``app`` signed in with ``token`` through the form."""
    client = app.test_client()
    response = sign_in(client, token)
    assert response.status_code == 303, response.text
    return client
