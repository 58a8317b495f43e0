"""Entity search, profile and records over the API, on data stored by the real pipeline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.services import create_client
from app.entities.services import (
    RecordFilters,
    SearchFilters,
    entity_profile,
    entity_records,
    search_entities,
    viewer_for,
)
from core.audit import query_hash
from core.config import Config
from core.models import (
    AuditEvent,
    CreditRecord,
    CreditStatus,
    Entity,
    Feed,
    IdentifierType,
    RecordCategory,
    Role,
    SharingType,
)
from core.rules.settings import GradeRules
from tests.support.api import make_token
from tests.support.builders import make_department, make_entity
from tests.support.credit import (
    ID_LI,
    ID_WANG,
    ID_ZHANG,
    USCC_HUAXIN,
    USCC_XIAMEN,
    USCC_XINGHE,
    add_identifier,
    ingest,
    list_entry,
    make_company,
    make_credit_feed,
    make_person,
    make_record,
    penalty,
    registry,
)

Headers = dict[str, str]
TODAY = "2026-06-01"
ZHANG_MASKED = "110105********002X"
LI_MASKED = "330106********123X"


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY)


@dataclass
class World:
    ids: dict[str, str]
    headers: dict[str, Headers]

    def get(self, client: FlaskClient, who: str, url: str, **params: Any) -> Any:
        response = client.get(url, query_string=params, headers=self.headers[who])
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    """Six departments, six feeds with every sharing type, and the parties below."""
    with session_factory() as session:
        dept = {
            code: make_department(session, code=code, name=name)
            for code, name in [
                ("SAMR", "北京市市场监督管理局"),
                ("EPB", "北京市生态环境局"),
                ("TAX", "国家税务总局北京市税务局"),
                ("COURT", "北京市高级人民法院"),
                ("HRSS", "北京市人力资源和社会保障局"),
                ("DRC", "北京市发展和改革委员会"),
            ]
        }

        def feed(code: str, owner: str, category: RecordCategory, **extra: Any) -> Any:
            return make_credit_feed(
                session, code=code, department=dept[owner], record_category=category, **extra
            )

        samr = feed("samr-registry", "SAMR", RecordCategory.REGISTRY)
        epb = feed("env-penalties", "EPB", RecordCategory.PENALTY)
        tax = feed(
            "tax-grades",
            "TAX",
            RecordCategory.TAX_GRADE,
            sharing_type=SharingType.CONDITIONAL,
            sharing_conditions={"departments": ["SAMR"], "roles": ["regulator"]},
        )
        court = feed("court-debtors", "COURT", RecordCategory.LIST_ENTRY)
        hrss = feed(
            "hrss-arrears", "HRSS", RecordCategory.LIST_ENTRY, sharing_type=SharingType.NOT_SHARED
        )
        honours = feed("drc-honours", "DRC", RecordCategory.RED_LIST)

        ids: dict[str, str] = {}
        ids["xinghe"] = ingest(session, samr, [registry("r1")])[0].entity_id or ""
        ids["huaxin"] = (
            ingest(
                session,
                samr,
                [
                    registry(
                        "r2", party_name="北京华信贸易有限公司", uscc=USCC_HUAXIN, legal_rep="赵六"
                    )
                ],
            )[0].entity_id
            or ""
        )
        ids["xingchen"] = (
            ingest(
                session, samr, [registry("r3", party_name="北京星辰科技有限公司", uscc=USCC_XIAMEN)]
            )[0].entity_id
            or ""
        )
        outcomes = ingest(
            session,
            epb,
            [
                penalty("1"),  # general, 2026-03-01
                penalty(
                    "2", penalty_category="吊销许可证", fine_amount=None, decision_date="2025-02-01"
                ),
                penalty("3", decision_date="2024-01-01"),  # publicity ended 2025-01-01
                penalty(
                    "4",
                    party_name="北京远航物流有限公司",
                    uscc=None,
                    registration_number="110108000000016",
                    decision_date="2026-02-01",
                ),
                penalty(
                    "5",
                    party_name="王芳",
                    uscc=None,
                    id_number=ID_WANG,
                    penalty_category="警告",
                    fine_amount=None,
                    decision_date="2026-04-01",
                ),
            ],
        )
        assert {o.entity_id for o in outcomes[:3]} == {ids["xinghe"]}
        ids["yuanhang"], ids["wang"] = outcomes[3].entity_id or "", outcomes[4].entity_id or ""
        ingest(
            session,
            tax,
            [{"source_id": "t1", "party_name": "北京星河科技有限公司", "uscc": USCC_XINGHE,
              "year": 2025, "grade": "B"}],
        )  # fmt: skip
        people = ingest(
            session,
            court,
            [list_entry("c1"), list_entry("c2", party_name="李四", id_number=LI_MASKED)],
        )
        ids["zhang"], ids["li"] = people[0].entity_id or "", people[1].entity_id or ""
        ingest(
            session,
            hrss,
            [
                list_entry(
                    "h1",
                    party_name="北京星河科技有限公司",
                    id_number=None,
                    uscc=USCC_XINGHE,
                    list_name="拖欠农民工工资失信联合惩戒对象名单",
                    listed_on="2026-02-01",
                    authority_name="北京市人力资源和社会保障局",
                )
            ],
        )
        ingest(
            session,
            honours,
            [
                list_entry(
                    "d1",
                    party_name="北京华信贸易有限公司",
                    id_number=None,
                    uscc=USCC_HUAXIN,
                    list_name="守信激励对象名单",
                    authority_name="北京市发展和改革委员会",
                )
            ],
        )
        session.commit()
    headers = {
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
        **{
            code.lower(): make_token(session_factory, Role.DEPARTMENT, department_code=code)
            for code in ("SAMR", "EPB", "HRSS")
        },
    }
    return World(ids, headers)


def hit_ids(body: dict[str, Any]) -> list[str]:
    return [item["public_id"] for item in body["items"]]


# --------------------------------------------------------------------------- search


# One world, many look-ups: the fixture is the expensive part of these tests.
IDENTIFIER_CASES = [
    (USCC_XINGHE, "xinghe", "uscc", 1.0),
    ("60003734-1", "xinghe", "org_code", 1.0),  # old organization code, hyphenated
    ("110000600037341", "xinghe", "org_code", 0.97),  # old taxpayer number
    ("110108000000016", "yuanhang", "registration_number", 1.0),
    (ID_ZHANG, "zhang", "resident_id", 1.0),
    (ZHANG_MASKED, "zhang", "resident_id", 0.9),  # masked id fits the full one
    (ID_LI, "li", "masked_id", 0.9),  # full id fits the masked one a list published
    (LI_MASKED, "li", "masked_id", 1.0),
    (" 9111 0000 6000 3734 1l ", "xinghe", "uscc", 1.0),  # typed with spaces, lower case
    (USCC_XINGHE[:-1] + "X", "xinghe", "org_code", 0.97),  # mistyped check character
]


def test_search_by_every_identifier_kind(client: FlaskClient, world: World) -> None:
    for q, who, matched_on, score in IDENTIFIER_CASES:
        body = world.get(client, "regulator", "/api/v1/entities", q=q)
        assert hit_ids(body) == [world.ids[who]], q
        top = body["items"][0]
        assert (top["matched_on"], top["score"]) == (matched_on, score), q
        assert body["query_kind"] != "name"


def test_an_unknown_code_finds_nothing(client: FlaskClient, world: World) -> None:
    for q in ("440305199203154562", "12345678-8", "330106********9999"):
        body = world.get(client, "regulator", "/api/v1/entities", q=q)
        assert body["items"] == [] and body["total"] == 0, q


NOISY_NAMES = [
    "北京星河科技有限公司",
    "北京市　星河科技有限公司",  # full-width space, 市
    "星河科技有限公司",  # without the region
    "星河科技",
    "北京星和科技有限公司",  # a typo (same sound)
    "星河科技（北京）有限公司",  # the region in full-width brackets before the legal form
]


def test_search_by_noisy_name_ranks_the_company_first(client: FlaskClient, world: World) -> None:
    for q in NOISY_NAMES:
        body = world.get(client, "analyst", "/api/v1/entities", q=q)
        assert body["items"][0]["public_id"] == world.ids["xinghe"], (q, body["items"])
        assert body["items"][0]["matched_on"] == "name"
        assert body["query_kind"] == "name"
        scores = [item["score"] for item in body["items"]]
        assert scores == sorted(scores, reverse=True)


def test_name_search_ranks_exact_over_similar(client: FlaskClient, world: World) -> None:
    body = world.get(client, "analyst", "/api/v1/entities", q="星河科技")
    ranked = hit_ids(body)
    assert ranked[:2] == [world.ids["xinghe"], world.ids["xingchen"]]
    assert body["items"][0]["score"] > body["items"][1]["score"]
    assert world.ids["huaxin"] not in ranked
    nothing = world.get(client, "analyst", "/api/v1/entities", q="完全无关的名字")
    assert nothing["total"] == 0


def test_search_filters(client: FlaskClient, world: World) -> None:
    ids = world.ids

    def found(who: str = "regulator", **params: Any) -> set[str]:
        return set(hit_ids(world.get(client, who, "/api/v1/entities", page_size=200, **params)))

    assert found() == set(ids.values())
    assert found(kind="natural_person") == {ids["zhang"], ids["li"], ids["wang"]}
    assert found(region="33") == {ids["li"]}
    assert found(region="1101") == {ids["huaxin"], ids["zhang"], ids["wang"]}
    assert found(list="black") == {ids["zhang"], ids["li"]}
    assert found(list="失信被执行人名单", kind="natural_person") == {ids["zhang"], ids["li"]}
    assert found(list="red") == {ids["huaxin"]}
    assert found(has_active_penalties="true") == {ids["xinghe"], ids["yuanhang"], ids["wang"]}
    assert ids["xinghe"] not in found(has_active_penalties="false")
    # the not-shared wage-arrears list shows only to its own department
    assert ids["xinghe"] in found("hrss", list="black")
    assert ids["xinghe"] not in found("epb", list="black")
    # filters combine with a query
    assert found(q="星河科技", kind="natural_person") == set()


def test_search_pages_and_validates(client: FlaskClient, world: World) -> None:
    first = world.get(client, "analyst", "/api/v1/entities", page_size=2)
    second = world.get(client, "analyst", "/api/v1/entities", page_size=2, page=2)
    assert first["total"] == len(world.ids) and len(first["items"]) == 2
    assert not set(hit_ids(first)) & set(hit_ids(second))
    for bad in ({"kind": "robot"}, {"region": "北京"}, {"page_size": 201}):
        response = client.get(
            "/api/v1/entities", query_string=bad, headers=world.headers["analyst"]
        )
        assert response.status_code == 422 and response.mimetype == "application/problem+json"


def test_search_needs_a_government_role(client: FlaskClient, world: World) -> None:
    assert client.get("/api/v1/entities?q=x").status_code == 401
    for who in ("regulator", "analyst", "epb"):
        assert client.get("/api/v1/entities", headers=world.headers[who]).status_code == 200


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize("who", ["analyst", "epb"])
def test_analysts_and_departments_see_masked_resident_ids(
    client: FlaskClient, world: World, who: str
) -> None:
    # Analysts may not search by a full id (issue 14): they find the person by the masked one.
    query = ID_ZHANG if who == "epb" else ZHANG_MASKED
    found = client.get("/api/v1/entities", query_string={"q": query}, headers=world.headers[who])
    assert ID_ZHANG not in found.get_data(as_text=True)
    item = found.json["items"][0]
    assert item["display_name"] == "张三"  # government roles see names
    assert {"type": "resident_id", "value": ZHANG_MASKED} in [
        {"type": i["type"], "value": i["value"]} for i in item["identifiers"]
    ]
    profile = client.get(f"/api/v1/entities/{world.ids['zhang']}", headers=world.headers[who])
    text = profile.get_data(as_text=True)
    assert ID_ZHANG not in text and "19491231" not in text
    assert "birth_date" not in {f["field"] for f in profile.json["golden_record"]}
    # USCCs are not personal data
    company = world.get(client, who, f"/api/v1/entities/{world.ids['xinghe']}")
    assert USCC_XINGHE in {i["value"] for i in company["identifiers"]}


def test_regulators_see_full_resident_ids(client: FlaskClient, world: World) -> None:
    found = world.get(client, "regulator", "/api/v1/entities", q=ZHANG_MASKED)
    assert ID_ZHANG in {i["value"] for i in found["items"][0]["identifiers"]}
    profile = world.get(client, "regulator", f"/api/v1/entities/{world.ids['zhang']}")
    assert {
        i["type"]: i["value"] for i in profile["identifiers"] if i["type"] == "resident_id"
    } == {"resident_id": ID_ZHANG}
    golden = {f["field"]: f["value"] for f in profile["golden_record"]}
    assert golden["birth_date"] == "1949-12-31"
    link = profile["match_links"][0]
    assert ID_ZHANG in str(link["explanation"])


# --------------------------------------------------------------------------- profile


def test_profile_of_a_company(client: FlaskClient, world: World) -> None:
    profile = world.get(client, "regulator", f"/api/v1/entities/{world.ids['xinghe']}")
    assert (profile["display_name"], profile["kind"]) == ("北京星河科技有限公司", "legal_entity")
    assert profile["merged_from"] is None and profile["as_of"] == TODAY

    golden = {f["field"]: f for f in profile["golden_record"]}
    assert golden["legal_rep"]["value"] == "王五"
    assert golden["address"]["source"]["feed"] == "samr-registry"
    assert golden["address"]["source"]["department"] == "SAMR"
    assert golden["name"]["source"]["source_key"] == "r1"
    assert golden["name"]["source"]["observed_at"]

    types = {i["type"]: i["value"] for i in profile["identifiers"]}
    assert types == {"uscc": USCC_XINGHE, "org_code": "600037341"}

    records = profile["records"]
    assert {k: v["total"] for k, v in records.items()} == {
        "registry": 1,
        "penalty": 3,
        "tax_grade": 1,
    }  # the not-shared wage-arrears entry is not the regulator's to see
    penalties = records["penalty"]["items"]
    assert [p["decision_date"] for p in penalties] == ["2026-03-01", "2025-02-01", "2024-01-01"]
    assert [p["status"] for p in penalties] == ["active", "active", "expired"]
    assert penalties[1]["severity"] == "serious"
    assert penalties[0]["fine_amount"] == "5000.00"
    assert penalties[0]["source"] == {
        "feed": "env-penalties",
        "department": "EPB",
        "department_name": "北京市生态环境局",
        "source_record_id": penalties[0]["source"]["source_record_id"],
        "source_key": "1",
    }
    assert profile["lists"] == []

    grade = profile["grade"]
    assert grade["letter"] == "C"
    effects = {r["rule"]: r["effect"] for r in grade["reasons"]}
    assert effects == {
        "serious_penalties_c": "C",
        "general_penalties_b": "B",
        "tax_grade_m_or_b": "B",
    }
    serious_reason = next(r for r in grade["reasons"] if r["rule"] == "serious_penalties_c")
    assert serious_reason["record_ids"] == [penalties[1]["id"]]

    timeline = profile["timeline"]
    assert [t["date"] for t in timeline] == [
        "2026-03-01",
        "2025-12-31",
        "2025-02-01",
        "2024-01-01",
        "2010-05-01",
    ]
    assert timeline[1]["category"] == "tax_grade" and "纳税信用等级 B" in timeline[1]["title"]
    assert {d["code"]: d["records"] for d in profile["departments"]} == {
        "EPB": 3,
        "TAX": 1,
        "SAMR": 1,
    }
    links = profile["match_links"]
    assert profile["match_links_total"] == 5 == len(links)
    rules = {link["rule"] for link in links}
    assert rules == {"new_entity", "exact_uscc"}
    by_uscc = next(link for link in links if link["rule"] == "exact_uscc")
    assert by_uscc["score"] > 0.999 and by_uscc["decision"] == "positive"
    assert by_uscc["matched_on"]["type"] == "uscc"
    assert by_uscc["matched_on"]["value"] == USCC_XINGHE


def test_profile_lists_memberships(client: FlaskClient, world: World) -> None:
    zhang = world.get(client, "analyst", f"/api/v1/entities/{world.ids['zhang']}")
    assert [(m["kind"], m["list_name"]) for m in zhang["lists"]] == [("black", "失信被执行人名单")]
    assert zhang["lists"][0]["listed_on"] == "2026-01-10"
    assert zhang["grade"]["letter"] == "D"
    huaxin = world.get(client, "analyst", f"/api/v1/entities/{world.ids['huaxin']}")
    assert [(m["kind"], m["list_name"]) for m in huaxin["lists"]] == [("red", "守信激励对象名单")]
    assert huaxin["grade"]["letter"] == "A"
    assert {r["rule"] for r in huaxin["grade"]["reasons"]} == {
        "no_adverse_records",
        "red_list_entry",
    }


VISIBILITY_CASES = [
    # who, sees the not-shared arrears list, sees the conditional tax grades, grade
    ("hrss", True, False, "D"),  # its own not-shared feed
    ("samr", False, True, "C"),  # named in the tax feed's conditions
    ("regulator", False, True, "C"),
    ("epb", False, False, "C"),
    ("analyst", False, False, "C"),
]


def test_profile_shows_only_what_the_caller_may_see(client: FlaskClient, world: World) -> None:
    url = f"/api/v1/entities/{world.ids['xinghe']}"
    for who, sees_arrears, sees_tax, letter in VISIBILITY_CASES:
        profile = world.get(client, who, url)
        assert ("list_entry" in profile["records"]) is sees_arrears, who
        assert ("tax_grade" in profile["records"]) is sees_tax, who
        assert bool(profile["lists"]) is sees_arrears, who
        assert profile["grade"]["letter"] == letter, who
        feeds = {link["feed"] for link in profile["match_links"]}
        assert ("hrss-arrears" in feeds) is sees_arrears, who
        assert ("tax-grades" in feeds) is sees_tax, who
        listed = world.get(client, who, f"{url}/records", category="list_entry")
        assert (listed["total"] == 1) is sees_arrears, who
        taxed = world.get(client, who, f"{url}/records", category="tax_grade")
        assert (taxed["total"] == 1) is sees_tax, who


def test_unknown_ids_are_404_problems(client: FlaskClient, world: World) -> None:
    for url in ("/api/v1/entities/CHL-NOSUCHID00", "/api/v1/entities/CHL-NOSUCHID00/records"):
        response = client.get(url, headers=world.headers["regulator"])
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert "CHL-NOSUCHID00" in response.json["detail"]


def test_a_merged_id_answers_with_the_surviving_entity(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        survivor = session.scalars(
            select(Entity).where(Entity.public_id == world.ids["xinghe"])
        ).one()
        merged = make_entity(session, display_name="北京星河科技公司", merged_into_id=survivor.id)
        feed = session.scalars(select(Feed).where(Feed.code == "env-penalties")).one()
        make_record(session, entity=merged, feed=feed, decision_number="旧号")
        session.commit()
        merged_id = merged.public_id
    profile = world.get(client, "regulator", f"/api/v1/entities/{merged_id}")
    assert profile["public_id"] == world.ids["xinghe"]
    assert profile["merged_from"] == merged_id
    assert profile["records"]["penalty"]["total"] == 4
    records = world.get(client, "regulator", f"/api/v1/entities/{merged_id}/records")
    assert records["entity"] == world.ids["xinghe"] and records["total"] == 6
    assert merged_id not in hit_ids(
        world.get(client, "regulator", "/api/v1/entities", q="星河科技")
    )


def test_an_identifier_of_a_merged_entity_finds_the_survivor_filters_and_all(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        survivor = session.scalars(
            select(Entity).where(Entity.public_id == world.ids["xinghe"])
        ).one()
        first = make_entity(session, display_name="北京星河科技公司", merged_into_id=survivor.id)
        second = make_entity(session, display_name="星河科技", merged_into_id=first.id)
        add_identifier(session, second, IdentifierType.REGISTRATION_NUMBER, "110108000099991")
        add_identifier(session, survivor, IdentifierType.OTHER, "110108000099991")
        session.commit()
        merged_ids = {first.public_id, second.public_id}
    body = world.get(client, "regulator", "/api/v1/entities", q="110108000099991")
    # both codes lead to the survivor: one hit, the best of the two
    assert hit_ids(body) == [world.ids["xinghe"]] and body["total"] == 1
    assert not merged_ids & set(hit_ids(body))
    assert body["items"][0]["score"] == 1.0

    # filters apply to the survivor the hit moved to
    def found(**params: Any) -> list[str]:
        return hit_ids(
            world.get(client, "regulator", "/api/v1/entities", q="110108000099991", **params)
        )

    assert found(has_active_penalties="true") == [world.ids["xinghe"]]
    assert found(has_active_penalties="false") == []
    assert found(kind="natural_person") == []


# --------------------------------------------------------------------------- records


def test_records_filters_and_pages(client: FlaskClient, world: World) -> None:
    url = f"/api/v1/entities/{world.ids['xinghe']}/records"

    def dates(**params: Any) -> list[str]:
        body = world.get(client, "regulator", url, **params)
        return [r["decision_date"] for r in body["items"]]

    assert dates() == ["2026-03-01", "2025-12-31", "2025-02-01", "2024-01-01", "2010-05-01"]
    assert dates(category="penalty") == ["2026-03-01", "2025-02-01", "2024-01-01"]
    assert dates(severity="serious") == ["2025-02-01"]
    assert dates(status="expired") == ["2024-01-01"]
    assert dates(status="active", category="penalty") == ["2026-03-01", "2025-02-01"]
    assert dates(date_from="2025-01-01", date_to="2025-12-31") == ["2025-12-31", "2025-02-01"]
    assert dates(department="EPB", date_from="2025-01-01") == ["2026-03-01", "2025-02-01"]
    page = world.get(client, "regulator", url, page=2, page_size=2)
    assert page["total"] == 5 and [r["decision_date"] for r in page["items"]] == [
        "2025-02-01",
        "2024-01-01",
    ]
    for bad in ({"status": "gone"}, {"date_from": "2026-01-01", "date_to": "2025-01-01"}):
        response = client.get(url, query_string=bad, headers=world.headers["regulator"])
        assert response.status_code == 422


def test_a_repaired_record_keeps_its_status(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        entity = session.scalars(select(Entity).where(Entity.public_id == world.ids["wang"])).one()
        record = session.scalars(
            select(CreditRecord).where(CreditRecord.entity_id == entity.id)
        ).one()
        record.status = CreditStatus.REPAIRED
        session.commit()
    url = f"/api/v1/entities/{world.ids['wang']}/records"
    assert world.get(client, "regulator", url, status="repaired")["total"] == 1
    profile = world.get(client, "regulator", f"/api/v1/entities/{world.ids['wang']}")
    assert profile["grade"]["letter"] == "A"
    assert profile["timeline"][0]["status"] == "repaired"


# --------------------------------------------------------------------------- audit


def test_reading_a_person_writes_an_audit_event(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    world.get(client, "regulator", f"/api/v1/entities/{world.ids['xinghe']}")
    with session_factory() as session:
        assert session.scalars(select(AuditEvent)).all() == []
    world.get(client, "regulator", f"/api/v1/entities/{world.ids['zhang']}")
    world.get(client, "analyst", f"/api/v1/entities/{world.ids['zhang']}/records")
    world.get(client, "regulator", "/api/v1/entities", q="张三")
    with session_factory() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.role, e.target_id) for e in events[:2]] == [
        ("entity.read", "regulator", world.ids["zhang"]),
        ("entity.read", "analyst", world.ids["zhang"]),
    ]
    assert events[0].details["view"] == "profile" and events[1].details["view"] == "records"
    assert events[0].request_id
    assert events[2].action == "entity.search"
    assert world.ids["zhang"] in events[2].details["persons"]


def _audit_trail(session: Session) -> list[tuple[str, str | None, dict[str, Any]]]:
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [(e.action, e.target_id, e.details) for e in events]


@pytest.mark.parametrize("service", ["search", "profile", "records"])
def test_each_entity_service_audits_reading_a_person_and_never_commits(
    session: Session, service: str
) -> None:
    """The services audit by themselves (so the API and the pages cannot differ): reading a
    natural person writes one event, reading a company none, and nothing is committed."""
    feed = make_credit_feed(session)
    person = make_person(session, name="张三", resident_id=ID_ZHANG)
    company = make_company(session, name="北京星河科技有限公司", uscc=USCC_XINGHE)
    for entity in (person, company):
        make_record(session, entity=entity, feed=feed)
    # A department: it may search by a full id (analysts may not).
    epb = make_department(session, code="EPB-SVC")
    reader, _token = create_client(
        session=session, name="service-reader", role=Role.DEPARTMENT, department_code=epb.code
    )
    viewer = viewer_for(session=session, client=reader, today=date(2026, 6, 1))

    def read(entity: Entity, code: str) -> None:
        if service == "search":
            items, _total, _kind = search_entities(
                session=session,
                viewer=viewer,
                q=code,
                filters=SearchFilters(),
                page=1,
                page_size=20,
                query_key=b"test-key",
            )
            assert [i["public_id"] for i in items] == [entity.public_id]
        elif service == "profile":
            entity_profile(
                session=session, viewer=viewer, public_id=entity.public_id, grade_rules=GradeRules()
            )
        else:
            entity_records(
                session=session,
                viewer=viewer,
                public_id=entity.public_id,
                filters=RecordFilters(),
                page=1,
                page_size=20,
            )

    read(company, USCC_XINGHE)
    # Every search is audited (a company too); reading a company's profile is not.
    searched_company = (
        "entity.search",
        None,
        {
            "query_kind": "uscc",
            "query_hash": query_hash(USCC_XINGHE, b"test-key"),
            "hits": 1,
            "role": "department",
        },
    )
    before = [searched_company] if service == "search" else []
    assert _audit_trail(session) == before
    read(person, ID_ZHANG)
    expected = {
        "search": (
            "entity.search",
            person.public_id,
            {
                "persons": [person.public_id],
                "query_kind": "resident_id",
                "query_hash": query_hash(ID_ZHANG, b"test-key"),
                "hits": 1,
                "role": "department",
            },
        ),
        "profile": ("entity.read", person.public_id, {"view": "profile", "role": "department"}),
        "records": ("entity.read", person.public_id, {"view": "records", "role": "department"}),
    }
    assert _audit_trail(session) == [*before, expected[service]]
    assert ID_ZHANG not in str(_audit_trail(session))  # the hash, never the number
    session.rollback()
    assert _audit_trail(session) == []


def test_records_read_without_audit_writes_no_event(session: Session) -> None:
    """``audit=False``: the records page refusing its filters shows no row of the person."""
    person = make_person(session, name="张三", resident_id=ID_ZHANG)
    make_record(session, entity=person, feed=make_credit_feed(session))
    viewer = viewer_for(session=session, client=None, today=date(2026, 6, 1))
    entity, _items, total = entity_records(
        session=session,
        viewer=viewer,
        public_id=person.public_id,
        filters=RecordFilters(),
        page=1,
        page_size=20,
        audit=False,
    )
    assert (entity.id, total) == (person.id, 1)
    assert _audit_trail(session) == []


def test_openapi_documents_the_entity_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/api/v1/entities",
        "/api/v1/entities/{public_id}",
        "/api/v1/entities/{public_id}/records",
    } <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/entities"]["get"]["parameters"]}
    assert {"q", "kind", "region", "list", "has_active_penalties", "page"} <= parameters
