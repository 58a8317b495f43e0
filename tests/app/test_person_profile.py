"""A person's birth date and gender in the profile: golden values with their source for
regulators, hidden from every other role, on the API and on the page."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.entities.present import Viewer, mask_explanation
from core.config import Config
from core.models import EntityKind, RecordCategory, Role
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import ingest, list_entry, make_credit_feed
from tests.support.pages import signed_in_client

TODAY = "2026-06-01"
ROLES = ["regulator", "analyst", "court", "other_department"]


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY)


@dataclass
class People:
    ids: dict[str, str]
    tokens: dict[str, dict[str, str]]


@pytest.fixture
def people(session_factory: sessionmaker[Session]) -> People:
    """张三 (full resident id: born 1949-12-31, female by the id) and 王小明 (no id; the court
    gives his birth date and gender), on an unconditionally shared court list."""
    with session_factory() as session:
        court = make_department(session, code="COURT", name="北京市高级人民法院")
        make_department(session, code="EPB", name="北京市生态环境局")
        feed = make_credit_feed(
            session,
            code="court-debtors",
            department=court,
            record_category=RecordCategory.LIST_ENTRY,
        )
        outcomes = ingest(
            session,
            feed,
            [
                list_entry("c1"),
                list_entry(
                    "c2",
                    party_name="王小明",
                    id_number=None,
                    party_type="自然人",
                    birth_date="1969年8月15日",
                    gender="男",
                ),
            ],
        )
        session.commit()
    tokens = {
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
        "court": make_token(session_factory, Role.DEPARTMENT, department_code="COURT"),
        "other_department": make_token(session_factory, Role.DEPARTMENT, department_code="EPB"),
    }
    ids = {"zhang": outcomes[0].entity_id or "", "wang": outcomes[1].entity_id or ""}
    return People(ids=ids, tokens=tokens)


def golden(client: FlaskClient, people: People, who: str, person: str) -> dict[str, dict]:
    response = client.get(f"/api/v1/entities/{people.ids[person]}", headers=people.tokens[who])
    assert response.status_code == 200, response.json
    return {g["field"]: g for g in response.json["golden_record"]}


def test_regulators_see_birth_date_and_gender_with_their_source(
    client: FlaskClient, people: People
) -> None:
    wang = golden(client, people, "regulator", "wang")
    assert (wang["birth_date"]["value"], wang["gender"]["value"]) == ("1969-08-15", "M")
    assert wang["birth_date"]["source"]["feed"] == "court-debtors"
    assert wang["gender"]["source"]["source_key"] == "c2"
    zhang = golden(client, people, "regulator", "zhang")
    # Read from the resident id: its 17th digit is even.
    assert (zhang["birth_date"]["value"], zhang["gender"]["value"]) == ("1949-12-31", "F")


@pytest.mark.parametrize("who", ["analyst", "court", "other_department"])
def test_other_government_roles_never_see_them(
    client: FlaskClient, people: People, who: str
) -> None:
    for person in ("wang", "zhang"):
        fields = golden(client, people, who, person)
        assert "name" in fields
        assert not {"birth_date", "gender"} & set(fields)
    body = client.get(
        f"/api/v1/entities/{people.ids['wang']}", headers=people.tokens[who]
    ).get_data(as_text=True)
    assert "1969-08-15" not in body and "19690815" not in body


def test_the_public_never_sees_them(client: FlaskClient, people: People) -> None:
    for person in ("wang", "zhang"):
        response = client.get(f"/api/v1/public/entities/{people.ids[person]}")
        text = response.get_data(as_text=True)
        assert "1969-08-15" not in text and "1949-12-31" not in text
        assert "birth_date" not in text and "gender" not in text


@pytest.mark.parametrize("who", ROLES)
def test_the_profile_page_shows_them_to_regulators_only(
    app: Flask, people: People, who: str
) -> None:
    token = people.tokens[who]["Authorization"].removeprefix("Bearer ")
    page = signed_in_client(app, token).get(f"/entities/{people.ids['wang']}")
    assert page.status_code == 200
    shown = "1969-08-15" in page.text and "男 Male" in page.text and "性别 Gender" in page.text
    assert shown is (who == "regulator")
    if who != "regulator":
        assert "1969-08-15" not in page.text and "出生日期" not in page.text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DEPARTMENT, Role.REGULATOR])
def test_match_explanations_name_birth_dates_and_genders_to_regulators_only(role: Role) -> None:
    viewer = Viewer(client=None, role=role, feed_ids=frozenset(), today=date(2026, 6, 1))
    explanation = {
        "comparisons": [
            {"field": "birth_date", "level": "exact", "why": "same birth date 1969-08-15"},
            {"field": "gender", "level": "exact", "why": "both male"},
            {"field": "name", "level": "exact", "why": "same name 王小明"},
        ]
    }
    shown = str(mask_explanation(viewer, explanation, EntityKind.NATURAL_PERSON))
    assert ("1969-08-15" in shown and "both male" in shown) is (role is Role.REGULATOR)
    assert "same name 王小明" in shown and "'level': 'exact'" in shown
