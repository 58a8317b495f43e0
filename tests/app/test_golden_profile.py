"""The profile says, for each golden value, which source won and why; across a merged group
the same ranking chooses; personal golden values stay for regulators alone."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.models import RecordCategory, Role
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import entity_of, ingest, list_entry, make_credit_feed, penalty, registry
from tests.support.pages import signed_in_client

GUANGZHOU = "广州市天河区体育西路1号"
XIAN = "西安市雁塔区长安南路8号"


@dataclass
class World:
    company: str  # registry record with its USCC, then a penalty with the USCC elsewhere
    namesake: str  # a code-less penalty record under another name
    person: str
    regulator: dict[str, str]
    analyst: dict[str, str]


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session:
        samr = make_department(session, code="SAMR", name="市场监督管理局")
        epb = make_department(session, code="EPB", name="生态环境局")
        court = make_department(session, code="COURT", name="法院")
        reg = make_credit_feed(
            session, code="samr-registry", department=samr, record_category=RecordCategory.REGISTRY
        )
        pen = make_credit_feed(
            session, code="epb-penalties", department=epb, record_category=RecordCategory.PENALTY
        )
        lists = make_credit_feed(
            session, code="court-list", department=court, record_category=RecordCategory.LIST_ENTRY
        )
        company = entity_of(session, ingest(session, reg, [registry("r1", address=GUANGZHOU)])[0])
        ingest(session, pen, [penalty("p1", address=XIAN)])
        other = ingest(
            session, pen, [penalty("p2", party_name="北京星河科技公司", uscc=None, address=XIAN)]
        )
        person = ingest(session, lists, [list_entry("c1", address="北京市朝阳区某街1号")])
        session.commit()
        ids = (company.public_id, other[0].entity_id or "", person[0].entity_id or "")
    return World(
        *ids,
        regulator=make_token(session_factory, Role.REGULATOR),
        analyst=make_token(session_factory, Role.ANALYST),
    )


def golden(client: FlaskClient, headers: dict[str, str], public_id: str) -> dict[str, dict]:
    response = client.get(f"/api/v1/entities/{public_id}", headers=headers)
    assert response.status_code == 200, response.json
    return {g["field"]: g for g in response.json["golden_record"]}


def test_each_golden_value_names_its_source_and_why_it_won(
    client: FlaskClient, world: World
) -> None:
    shown = golden(client, world.regulator, world.company)
    address = shown["address"]
    assert address["value"] == GUANGZHOU
    assert address["rule"] == "registry linked by USCC"
    assert address["why"] == "registry linked by USCC outranks penalty linked by USCC"
    assert address["source"] | {"observed_at": None} == {
        "feed": "samr-registry",
        "department": "SAMR",
        "department_name": "市场监督管理局",
        "source_record_id": address["source"]["source_record_id"],
        "source_key": "r1",
        "observed_at": None,
        "category": "registry",
        "authority": 90,
        "basis": "uscc",
    }
    assert shown["name"]["rule"] == "all sources agree"


def test_a_merged_group_chooses_by_authority_whichever_entity_survives(
    client: FlaskClient, world: World
) -> None:
    """The registry's entity is merged into the code-less one: the survivor's profile still
    shows the registry's address, and after the unmerge each shows its own again."""
    merged = client.post(
        f"/api/v1/entities/{world.company}/merge",
        json={"into": world.namesake, "reason": "同一家"},
        headers=world.regulator,
    )
    assert merged.status_code == 200, merged.json
    shown = golden(client, world.regulator, world.namesake)
    assert (shown["address"]["value"], shown["address"]["rule"]) == (
        GUANGZHOU,
        "registry linked by USCC",
    )
    undone = client.post(
        f"/api/v1/entities/{world.company}/unmerge",
        json={"reason": "录入错误"},
        headers=world.regulator,
    )
    assert undone.status_code == 200, undone.json
    assert golden(client, world.regulator, world.namesake)["address"]["value"] == XIAN
    assert golden(client, world.regulator, world.company)["address"]["value"] == GUANGZHOU


def test_a_persons_birth_date_and_its_provenance_are_for_regulators(
    client: FlaskClient, world: World
) -> None:
    shown = golden(client, world.regulator, world.person)
    assert shown["birth_date"]["value"] == "1949-12-31"
    assert shown["birth_date"]["rule"] == "only source"
    assert shown["birth_date"]["source"]["basis"] == "resident_id"
    assert not {"birth_date", "gender"} & set(golden(client, world.analyst, world.person))


def test_the_profile_page_shows_why(app: Flask, world: World) -> None:
    token = world.regulator["Authorization"].removeprefix("Bearer ")
    page = signed_in_client(app, token).get(f"/entities/{world.company}")
    assert page.status_code == 200
    assert "依据 Why this value" in page.text
    assert "registry linked by USCC outranks penalty linked by USCC" in page.text
