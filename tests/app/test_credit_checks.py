"""Credit checks over the API, on data stored by the real pipeline and the demo's measures file:
each kind of trigger, matters, ambiguity, masking, sharing, storage, audit and feedback."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import AuditEvent, CreditCheck, RecordCategory, Role, SharingType
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import (
    ID_ZHANG,
    USCC_HUAXIN,
    USCC_XIAMEN,
    USCC_XINGHE,
    ingest,
    list_entry,
    make_credit_feed,
    penalty,
    registry,
)

Headers = dict[str, str]
TODAY = "2026-06-01"
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "measures.toml"
ZHANG_MASKED = "110105********002X"
URL = "/api/v1/credit-checks"


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY, measures_file=SAMPLE)


@dataclass
class World:
    ids: dict[str, str]
    headers: dict[str, Headers]

    def check(
        self, client: FlaskClient, who: str, identifier: str, matter: str, status: int = 201
    ) -> Any:
        body = {"identifier": identifier, "matter": matter, "reference": "采购〔2026〕7号"}
        response = client.post(URL, json=body, headers=self.headers[who])
        assert response.status_code == status, response.json
        return response.json


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    """A court's dishonest-debtor list, a not-shared wage-arrears list, penalties, tax grades
    shared with FIN only, customs ratings; 张三 on the court list, three companies and two
    look-alike names."""
    with session_factory() as session:
        dept = {
            code: make_department(session, code=code, name=code)
            for code in ("SAMR", "COURT", "HRSS", "EPB", "TAX", "CUSTOMS", "FIN", "DRC")
        }

        def feed(code: str, owner: str, category: RecordCategory, **extra: Any) -> Any:
            return make_credit_feed(
                session, code=code, department=dept[owner], record_category=category, **extra
            )

        samr = feed("samr-registry", "SAMR", RecordCategory.REGISTRY)
        court = feed("court-debtors", "COURT", RecordCategory.LIST_ENTRY)
        hrss = feed(
            "hrss-arrears", "HRSS", RecordCategory.LIST_ENTRY, sharing_type=SharingType.NOT_SHARED
        )
        epb = feed("env-penalties", "EPB", RecordCategory.PENALTY)
        tax = feed(
            "tax-grades",
            "TAX",
            RecordCategory.TAX_GRADE,
            sharing_type=SharingType.CONDITIONAL,
            sharing_conditions={"departments": ["FIN"], "roles": ["regulator"]},
        )
        customs = feed("customs", "CUSTOMS", RecordCategory.CUSTOMS_RATING)
        ids: dict[str, str] = {}
        ids["zhang"] = ingest(session, court, [list_entry("c1")])[0].entity_id or ""
        ids["xinghe"] = ingest(session, samr, [registry("r1")])[0].entity_id or ""
        ids["huaxin"] = (
            ingest(
                session, samr, [registry("r2", party_name="北京华信贸易有限公司", uscc=USCC_HUAXIN)]
            )[0].entity_id
            or ""
        )
        ids["xingchen"] = (
            ingest(
                session,
                samr,
                [registry("r3", party_name="北京星河科技发展有限公司", uscc=USCC_XIAMEN)],
            )[0].entity_id
            or ""
        )
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
                )
            ],
        )
        ingest(session, epb, [penalty("p1", penalty_category="吊销许可证", fine_amount=None)])
        ingest(
            session,
            tax,
            [{"source_id": "t1", "party_name": "北京华信贸易有限公司", "uscc": USCC_HUAXIN,
              "year": 2025, "grade": "A"}],
        )  # fmt: skip
        ingest(
            session,
            customs,
            [{"source_id": "k1", "party_name": "北京华信贸易有限公司", "uscc": USCC_HUAXIN,
              "grade": "高级认证企业", "decision_date": "2026-01-05"}],
        )  # fmt: skip
        session.commit()
    headers = {
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
        **{
            code.lower(): make_token(session_factory, Role.DEPARTMENT, department_code=code)
            for code in ("FIN", "HRSS", "DRC")
        },
    }
    return World(ids, headers)


def codes(body: dict[str, Any]) -> list[str]:
    return [m["code"] for m in body["measures"]]


def test_a_dishonest_debtor_is_refused_government_procurement_with_its_trigger(
    client: FlaskClient, world: World
) -> None:
    body = world.check(client, "fin", ID_ZHANG, "government_procurement")
    assert body["outcome"] == "matched"
    assert body["entity"]["public_id"] == world.ids["zhang"]
    assert codes(body) == ["dishonest_debtor_procurement"]
    measure = body["measures"][0]
    assert (measure["kind"], measure["effect"]) == ("punishment", "prohibits")
    assert "政府采购法" in measure["legal_basis"] and "备忘录" in measure["memorandum"]
    trigger = measure["triggers"][0]
    assert trigger["trigger"] == "list"
    (record,) = trigger["records"]
    assert record["list_name"] == "失信被执行人名单"
    assert record["decision_date"] == "2026-01-10"
    assert record["source"]["feed"] == "court-debtors"
    assert record["source"]["department"] == "COURT"
    assert body["grade"]["letter"] == "D"
    assert [m["list_name"] for m in body["lists"]] == ["失信被执行人名单"]
    # The same party for another matter: the measures of that matter only.
    consumption = world.check(client, "fin", ID_ZHANG, "high_consumption")
    assert codes(consumption) == ["dishonest_debtor_high_consumption"]
    assert world.check(client, "fin", ID_ZHANG, "fast_track")["measures"] == []


def test_category_grade_and_rating_triggers(client: FlaskClient, world: World) -> None:
    serious = world.check(client, "drc", USCC_XINGHE, "licensing")
    assert codes(serious) == ["serious_penalty_licensing"]
    assert serious["measures"][0]["triggers"][0]["trigger"] == "category"
    assert serious["measures"][0]["triggers"][0]["records"][0]["severity"] == "serious"

    rewards = world.check(client, "fin", USCC_HUAXIN, "fast_track")
    assert codes(rewards) == ["tax_a_green_channel", "customs_advanced_facilitation"]
    assert {m["kind"] for m in rewards["measures"]} == {"reward"}
    assert rewards["measures"][1]["triggers"][0]["records"][0]["grade"] == "高级认证企业"


def test_only_records_shared_with_the_caller_count(client: FlaskClient, world: World) -> None:
    # The tax grade is shared with FIN (and regulators), not with DRC.
    assert "tax_a_green_channel" not in codes(world.check(client, "drc", USCC_HUAXIN, "fast_track"))
    # The wage-arrears list is not shared: only HRSS, its owner, sees it.
    assert codes(world.check(client, "hrss", USCC_XINGHE, "bidding")) == ["wage_arrears_bidding"]
    assert world.check(client, "fin", USCC_XINGHE, "bidding")["measures"] == []
    assert world.check(client, "regulator", USCC_XINGHE, "bidding")["measures"] == []


def test_personal_data_is_masked_for_departments(client: FlaskClient, world: World) -> None:
    department = world.check(client, "fin", ID_ZHANG, "government_procurement")
    assert department["identifier"] == ZHANG_MASKED
    assert {i["value"] for i in department["entity"]["identifiers"]} == {ZHANG_MASKED}
    assert ID_ZHANG not in str(department)
    regulator = world.check(client, "regulator", ID_ZHANG, "government_procurement")
    assert regulator["identifier"] == ID_ZHANG
    assert ID_ZHANG in {i["value"] for i in regulator["entity"]["identifiers"]}


def test_an_ambiguous_name_gives_candidates_not_a_guess(client: FlaskClient, world: World) -> None:
    body = world.check(client, "fin", "星河科技", "government_procurement")
    assert body["outcome"] == "ambiguous"
    assert body["entity"] is None and body["measures"] == []
    assert {c["public_id"] for c in body["candidates"]} >= {
        world.ids["xinghe"],
        world.ids["xingchen"],
    }
    exact = world.check(client, "fin", "北京星河科技有限公司", "licensing")
    assert exact["outcome"] == "matched" and exact["entity"]["public_id"] == world.ids["xinghe"]
    missing = world.check(client, "fin", "91440300MA5FUTUF4E", "licensing")
    assert missing["outcome"] == "not_found" and missing["candidates"] == []


def test_checks_are_kept_audited_and_shown_to_their_department_only(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    made = world.check(client, "fin", ID_ZHANG, "government_procurement")
    url = f"{URL}/{made['id']}"
    again = client.get(url, headers=world.headers["fin"])
    assert again.status_code == 200
    assert again.json["measures"] == made["measures"]
    assert again.json["reference"] == "采购〔2026〕7号"
    assert client.get(url, headers=world.headers["drc"]).status_code == 404
    assert client.get(url, headers=world.headers["regulator"]).status_code == 200
    assert client.get(f"{URL}/999999", headers=world.headers["fin"]).status_code == 404
    with session_factory() as session:
        check = session.get(CreditCheck, made["id"])
        assert check is not None and check.matter == "government_procurement"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "credit_check.create"))
        assert event is not None and event.target_id == world.ids["zhang"]
        assert event.details["check_id"] == made["id"]
        assert event.details["measures"] == ["dishonest_debtor_procurement"]


def test_feedback_per_measure(client: FlaskClient, world: World) -> None:
    made = world.check(client, "fin", ID_ZHANG, "government_procurement")
    url = f"{URL}/{made['id']}/feedback"
    headers = world.headers["fin"]
    code = "dishonest_debtor_procurement"
    no_reason = {"items": [{"measure_code": code, "applied": False}]}
    assert client.post(url, json=no_reason, headers=headers).status_code == 422
    unknown = {"items": [{"measure_code": "tax_a_green_channel", "applied": True}]}
    response = client.post(url, json=unknown, headers=headers)
    assert response.status_code == 422
    assert "items.0.measure_code" in str(response.json)
    not_bool = {"items": [{"measure_code": code, "applied": "no"}]}
    assert client.post(url, json=not_bool, headers=headers).status_code == 422
    given = {
        "items": [{"measure_code": code, "applied": False, "reason": "已履行完毕，核实后移出"}]
    }
    response = client.post(url, json=given, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["feedback"][0]["applied"] is False
    assert client.post(url, json=given, headers=headers).status_code == 409
    assert client.post(url, json=given, headers=world.headers["drc"]).status_code == 404
    shown = client.get(f"{URL}/{made['id']}", headers=headers).json
    assert shown["feedback"][0]["reason"] == "已履行完毕，核实后移出"


def test_refusals(client: FlaskClient, world: World) -> None:
    bad = world.check(client, "fin", ID_ZHANG, "parking", status=422)
    assert "matter" in str(bad)
    world.check(client, "analyst", ID_ZHANG, "licensing", status=403)
    response = client.post(URL, json={"identifier": ID_ZHANG, "matter": "licensing"})
    assert response.status_code == 401
    blank = client.post(
        URL, json={"identifier": "  ", "matter": "licensing"}, headers=world.headers["fin"]
    )
    assert blank.status_code == 422
