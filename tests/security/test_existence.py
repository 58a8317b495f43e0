"""Issue 14, attack 7: an entity known only from a ``not_shared`` feed was returned by the
anonymous public search with its name and public id, and analysts saw its USCC; the same for
conditional feeds. Sharing now applies to existence: such an entity is not found, in search
(by name and by identifier), profile, records, the public lookup and the reports, for every
role it is hidden from, and found by those the feed is shared with."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Entity, RecordCategory, Role, SharingType
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import (
    USCC_HUAXIN,
    USCC_XIAMEN,
    USCC_XINGHE,
    entity_of,
    ingest,
    make_credit_feed,
    penalty,
)
from tests.support.pages import signed_in_client

HIDDEN = "北京星河科技有限公司"  # only in HRSS's not-shared feed
CONDITIONAL = "北京华信科技有限公司"  # only in TAX's feed shared with regulators
OPEN = "厦门鹭江贸易有限公司"  # in EPB's unconditional feed


@dataclass
class World:
    hidden: str
    conditional: str
    open: str


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session:
        epb = make_department(session, code="EPB")
        hrss = make_department(session, code="HRSS")
        tax = make_department(session, code="TAX")
        make_department(session, code="SAMR")

        def feed(code: str, department: object, sharing: SharingType) -> object:
            return make_credit_feed(
                session,
                code=code,
                department=department,
                sharing_type=sharing,
                record_category=RecordCategory.PENALTY,
                sharing_conditions={"roles": ["regulator"]}
                if sharing is SharingType.CONDITIONAL
                else {},
            )

        hrss_feed = feed("hrss-arrears", hrss, SharingType.NOT_SHARED)
        tax_feed = feed("tax-penalties", tax, SharingType.CONDITIONAL)
        epb_feed = feed("epb-penalties", epb, SharingType.UNCONDITIONAL)
        hidden = ingest(session, hrss_feed, [penalty("h1", party_name=HIDDEN, uscc=USCC_XINGHE)])
        conditional = ingest(
            session, tax_feed, [penalty("t1", party_name=CONDITIONAL, uscc=USCC_HUAXIN)]
        )
        public = ingest(session, epb_feed, [penalty("e1", party_name=OPEN, uscc=USCC_XIAMEN)])
        ids = World(
            entity_of(session, hidden[0]).public_id,
            entity_of(session, conditional[0]).public_id,
            entity_of(session, public[0]).public_id,
        )
        session.commit()
    return ids


def found_ids(client: FlaskClient, headers: dict[str, str], query: str) -> set[str]:
    response = client.get("/api/v1/entities", query_string={"q": query}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["public_id"] for item in response.json["items"]}


def listed_ids(client: FlaskClient, headers: dict[str, str]) -> set[str]:
    response = client.get("/api/v1/entities", headers=headers)
    return {item["public_id"] for item in response.json["items"]}


@pytest.mark.parametrize(
    ("role", "department", "sees_conditional", "sees_hidden"),
    [
        (Role.ANALYST, None, False, False),
        (Role.DEPARTMENT, "SAMR", False, False),
        (Role.REGULATOR, None, True, False),
        (Role.DEPARTMENT, "HRSS", False, True),
    ],
)
def test_government_callers_find_only_what_is_shared_with_them(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    world: World,
    role: Role,
    department: str | None,
    sees_conditional: bool,
    sees_hidden: bool,
) -> None:
    headers = make_token(session_factory, role, department_code=department)
    expected = {world.open}
    if sees_conditional:
        expected.add(world.conditional)
    if sees_hidden:
        expected.add(world.hidden)
    assert listed_ids(client, headers) == expected
    for public_id, name, uscc, seen in (
        (world.hidden, HIDDEN, USCC_XINGHE, sees_hidden),
        (world.conditional, CONDITIONAL, USCC_HUAXIN, sees_conditional),
    ):
        # By name, by USCC and by the organization code inside it.
        for query in (name, uscc, f"{uscc[8:16]}-{uscc[16]}"):
            assert (public_id in found_ids(client, headers, query)) is seen, query
        for path in (f"/api/v1/entities/{public_id}", f"/api/v1/entities/{public_id}/records"):
            response = client.get(path, headers=headers)
            assert response.status_code == (200 if seen else 404), path
            if not seen:
                text = response.get_data(as_text=True)
                assert name not in text and uscc not in text


def test_the_public_finds_only_entities_of_unconditional_feeds(
    client: FlaskClient, world: World
) -> None:
    for name, uscc, public_id in (
        (HIDDEN, USCC_XINGHE, world.hidden),
        (CONDITIONAL, USCC_HUAXIN, world.conditional),
    ):
        for query in (name, uscc):
            response = client.get("/api/v1/public/entities", query_string={"q": query})
            assert response.status_code == 200
            assert response.json["items"] == [], query
        assert client.get(f"/api/v1/public/entities/{public_id}").status_code == 404
    shown = client.get("/api/v1/public/entities", query_string={"q": OPEN}).json["items"]
    assert [i["public_id"] for i in shown] == [world.open]


def test_reports_and_pages_leave_hidden_entities_out(
    client: FlaskClient, app: object, session_factory: sessionmaker[Session], world: World
) -> None:
    analyst = make_token(session_factory, Role.ANALYST)
    report = client.get("/api/v1/reports/entities?format=json", headers=analyst)
    assert report.status_code == 200
    assert {r["entity_id"] for r in report.json["rows"]} == {world.open}
    regulator = make_token(session_factory, Role.REGULATOR)
    report = client.get("/api/v1/reports/entities?format=json", headers=regulator)
    assert {r["entity_id"] for r in report.json["rows"]} == {world.open, world.conditional}

    pages = signed_in_client(app, analyst["Authorization"].removeprefix("Bearer "))  # type: ignore[arg-type]
    html = pages.get("/search", query_string={"q": USCC_XINGHE}).get_data(as_text=True)
    assert HIDDEN not in html and world.hidden not in html
    assert pages.get(f"/entities/{world.hidden}").status_code == 404


def test_a_merge_with_a_visible_member_makes_the_survivor_known(
    client: FlaskClient, session_factory: sessionmaker[Session], world: World
) -> None:
    """The survivor of a merge is known through any member's visible record, and a member
    known only through hidden feeds does not make it known."""
    analyst = make_token(session_factory, Role.ANALYST)
    with session_factory() as session:
        hidden = session.scalars(select(Entity).where(Entity.public_id == world.hidden)).one()
        opened = session.scalars(select(Entity).where(Entity.public_id == world.open)).one()
        opened.merged_into_id = hidden.id  # as resolution.corrections.merge_entities leaves it
        session.commit()
    assert world.hidden in listed_ids(client, analyst)
    # The merged id answers with its survivor, now known.
    assert client.get(f"/api/v1/entities/{world.open}", headers=analyst).status_code == 200
    # The other way round, a hidden member does not make a survivor known.
    with session_factory() as session:
        conditional = session.scalars(
            select(Entity).where(Entity.public_id == world.conditional)
        ).one()
        opened = session.scalars(select(Entity).where(Entity.public_id == world.open)).one()
        hidden = session.scalars(select(Entity).where(Entity.public_id == world.hidden)).one()
        opened.merged_into_id = None
        hidden.merged_into_id = conditional.id
        session.commit()
    assert listed_ids(client, analyst) == {world.open}
    assert client.get(f"/api/v1/entities/{world.hidden}", headers=analyst).status_code == 404
