"""Credit checks over the API, on data stored by the real pipeline and the demo's measures file:
each kind of trigger, matters, ambiguity, masking, sharing, storage, audit and feedback."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import AuditEvent, CreditCheck
from tests.support.credit import ID_ZHANG, USCC_HUAXIN, USCC_XINGHE
from tests.support.credit_checks import SAMPLE_MEASURES, URL, World, build_world

TODAY = "2026-06-01"
ZHANG_MASKED = "110105********002X"


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY, measures_file=SAMPLE_MEASURES)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


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


# --------------------------------------------------------------------------- batch


def batch(client: FlaskClient, world: World, who: str, text: str, **params: str) -> Any:
    return client.post(
        f"{URL}/batch",
        query_string=params,
        data=text.encode("utf-8"),
        content_type="text/csv",
        headers=world.headers[who],
    )


def test_a_batch_answers_one_line_per_row_in_order(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    text = (
        "\ufeffname,identifier,reference\n"
        f"张三,{ID_ZHANG},标书-1\n"
        "look-alike,星河科技,\n"
        ",,\n"  # a blank line: skipped
        "nobody,   ,\n"
        f"华信,{USCC_HUAXIN},\n"
        "formula,=HYPERLINK(1),\n"
    )
    response = batch(client, world, "fin", text, matter="government_procurement", reference="B-7")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["row"] for r in rows] == ["1", "2", "4", "5", "6"]
    assert [r["outcome"] for r in rows] == [
        "matched",
        "ambiguous",
        "invalid",
        "matched",
        "not_found",
    ]
    assert rows[0]["identifier"] == ZHANG_MASKED and ID_ZHANG not in response.get_data(True)
    assert rows[0]["punishments"] == "dishonest_debtor_procurement"
    assert rows[0]["lists"] == "失信被执行人名单" and rows[0]["grade"] == "D"
    assert len(rows[1]["candidates"].split(";")) >= 2
    assert rows[2]["error"] == "no identifier"
    assert rows[4]["identifier"] == "'=HYPERLINK(1)", "no spreadsheet formula leaves"
    with session_factory() as session:
        kept = {c.id: c for c in session.query(CreditCheck)}
        assert len(kept) == 4, "every row checked is a stored check"
        assert kept[int(rows[0]["check_id"])].reference == "标书-1"
        assert kept[int(rows[3]["check_id"])].reference == "B-7"


def test_a_batch_refuses_a_file_without_identifiers_or_an_unknown_matter(
    client: FlaskClient, world: World
) -> None:
    no_column = batch(client, world, "fin", "name\n张三\n", matter="licensing")
    assert no_column.status_code == 422
    assert "identifier" in str(no_column.json)
    assert batch(client, world, "fin", "identifier\nx\n", matter="parking").status_code == 422
    assert batch(client, world, "fin", "identifier\nx\n").status_code == 422
    assert batch(client, world, "fin", "", matter="licensing").status_code == 422
    not_utf8 = client.post(
        f"{URL}/batch",
        query_string={"matter": "licensing"},
        data=b"identifier\n\xff\xfe\n",
        content_type="text/csv",
        headers=world.headers["fin"],
    )
    assert not_utf8.status_code == 422 and "UTF-8" in str(not_utf8.json)
    assert batch(client, world, "analyst", "identifier\nx\n", matter="licensing").status_code == 403


def test_the_credit_checks_report_counts_checks_measures_and_feedback(
    client: FlaskClient, world: World
) -> None:
    made = world.check(client, "fin", ID_ZHANG, "government_procurement")
    world.check(client, "fin", "星河科技", "government_procurement")
    world.check(client, "drc", USCC_HUAXIN, "fast_track")
    feedback = {"items": [{"measure_code": "dishonest_debtor_procurement", "applied": True}]}
    response = client.post(
        f"{URL}/{made['id']}/feedback", json=feedback, headers=world.headers["fin"]
    )
    assert response.status_code == 201
    export = client.get(
        "/api/v1/reports/credit-checks",
        query_string={"format": "csv"},
        headers=world.headers["regulator"],
    )
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    by_key = {(r["department_code"], r["matter"]): r for r in rows}
    fin = by_key[("FIN", "government_procurement")]
    assert (fin["checks"], fin["matched"], fin["ambiguous"]) == ("2", "1", "1")
    assert (fin["measures"], fin["applied"], fin["not_applied"], fin["no_feedback"]) == (
        "1",
        "1",
        "0",
        "0",
    )
    drc = by_key[("DRC", "fast_track")]
    assert (drc["checks"], drc["measures"], drc["no_feedback"]) == ("1", "1", "1")
    chart = client.get(
        "/api/v1/reports/credit-checks",
        query_string={"format": "png"},
        headers=world.headers["regulator"],
    )
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
