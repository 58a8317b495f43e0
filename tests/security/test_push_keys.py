"""Issue 14, attack 6: push ignored ``source_id`` and keyed records by decision number. Two
companies pushed with the same number: the second "updated" the first, whose profile lost its
record. Now the key is ``source_id`` within the feed; a number shared by two parties is
flagged in the data-quality report, never merged."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, Role, SourceRecord
from tests.support.api import make_token
from tests.support.push import make_push_feed
from tests.support.push import push as push_items

XINGHE = {"CF_XDR_MC": "北京星河科技有限公司", "CF_XDR_SHXYM": "91110000600037341L"}
HUAXIN = {"CF_XDR_MC": "北京华信科技有限公司", "CF_XDR_SHXYM": "91110108551385082Q"}


def penalty(
    source_id: Any, party: dict[str, str], number: str = "京环罚〔2026〕1号"
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        **party,
        "CF_XZCFJDSWH": number,
        "CF_CFLB": "罚款",
        "CF_NR_FK": "5000",
        "CF_JDRQ": "2026-03-01",
        "CF_CFJG": "北京市生态环境局",
    }


def setup(session_factory: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    return {
        "epb": make_push_feed(session_factory),
        "regulator": make_token(session_factory, Role.REGULATOR),
    }


def push(client: FlaskClient, headers: dict[str, str], items: list[Any]) -> Any:
    response = push_items(client, headers, items)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["items"]


def profile_records(client: FlaskClient, headers: dict[str, str], public_id: str) -> list[str]:
    body = client.get(f"/api/v1/entities/{public_id}/records", headers=headers).json
    return [r["decision_number"] for r in body["items"]]


def test_two_parties_with_one_decision_number_stay_two_records(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    tokens = setup(session_factory)
    first = push(client, tokens["epb"], [penalty("a-1", XINGHE)])
    second = push(client, tokens["epb"], [penalty("b-7", HUAXIN)])

    assert [(i["source_id"], i["status"]) for i in first + second] == [
        ("a-1", "accepted"),
        ("b-7", "accepted"),
    ]
    xinghe, huaxin = first[0]["entity_id"], second[0]["entity_id"]
    assert xinghe != huaxin
    # The first company's profile keeps its record.
    assert profile_records(client, tokens["regulator"], xinghe) == ["京环罚〔2026〕1号"]
    assert profile_records(client, tokens["regulator"], huaxin) == ["京环罚〔2026〕1号"]

    # Re-delivery of a source id is a duplicate, a change its next version, as before.
    again = push(
        client,
        tokens["epb"],
        [penalty("a-1", XINGHE), penalty("b-7", HUAXIN, number="京环罚〔2026〕2号")],
    )
    assert [i["status"] for i in again] == ["duplicate", "updated"]
    with session_factory() as session:
        keys = session.scalars(select(SourceRecord.source_key).order_by(SourceRecord.id)).all()
        assert keys == ["a-1", "b-7", "b-7"]
        assert len(session.scalars(select(CreditRecord)).all()) == 2


def test_a_decision_number_on_two_parties_is_flagged_in_the_data_quality_report(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    tokens = setup(session_factory)
    push(
        client,
        tokens["epb"],
        [
            penalty("a-1", XINGHE),
            penalty("b-7", HUAXIN),
            # One party, one number, two records: not a conflict.
            penalty("a-2", XINGHE, number="京环罚〔2026〕3号"),
            penalty("a-3", XINGHE, number="京环罚〔2026〕3号"),
        ],
    )
    report = client.get("/api/v1/reports/data-quality?format=json", headers=tokens["regulator"])
    assert report.status_code == 200
    row = report.json["rows"][0]
    assert (row["feed_code"], row["shared_decision_numbers"]) == ("epb-push", 1)
    assert row["shared_decision_number_examples"] == "京环罚〔2026〕1号 (2)"
