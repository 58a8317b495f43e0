"""The public lookup: only published records of unconditional feeds, persons masked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from app.runtime import runtime
from app.security_headers import PUBLIC_MAX_AGE
from core.config import Config
from core.models import AuditEvent, CreditRecord, CreditStatus, RecordCategory, Role, SharingType
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import (
    ID_LI,
    ID_WANG,
    ID_ZHANG,
    USCC_XINGHE,
    ingest,
    list_entry,
    make_company,
    make_credit_feed,
    penalty,
    registry,
)

TODAY = "2025-06-01"


def config_for(database_url: str, tmp_path: Path, today: str) -> Config:
    return Config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret",
        testing=True,
        log_level="WARNING",
        today=today,
    )


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return config_for(database_url, tmp_path, TODAY)


@dataclass
class World:
    ids: dict[str, str]
    repaired_id: int


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session:
        samr = make_department(session, code="SAMR")
        epb = make_department(session, code="EPB", name="北京市生态环境局")
        court = make_department(session, code="COURT", name="北京市高级人民法院")
        police = make_department(session, code="PSB")
        ids: dict[str, str] = {}
        registry_feed = make_credit_feed(
            session, code="samr-registry", department=samr, record_category=RecordCategory.REGISTRY
        )
        ids["xinghe"] = ingest(session, registry_feed, [registry("r1")])[0].entity_id or ""
        penalties = make_credit_feed(session, code="env-penalties", department=epb)
        outcomes = ingest(
            session,
            penalties,
            [
                penalty("1", decision_date="2025-01-01", publicity_end="2026-01-01"),
                penalty("2", decision_date="2025-03-01", content="已整改的违法行为"),
                penalty(
                    "3",
                    party_name="李四",
                    uscc=None,
                    id_number=ID_LI,
                    decision_date="2025-03-01",
                ),
            ],
        )
        repaired = session.scalars(
            select(CreditRecord).where(
                CreditRecord.decision_number.in_(["京环罚〔2026〕2号", "京环罚〔2026〕3号"])
            )
        ).all()
        for record in repaired:
            record.status = CreditStatus.REPAIRED
        ids["li"] = outcomes[2].entity_id or ""
        court_feed = make_credit_feed(
            session,
            code="court-debtors",
            department=court,
            record_category=RecordCategory.LIST_ENTRY,
        )
        ids["zhang"] = (
            ingest(
                session,
                court_feed,
                [
                    list_entry(
                        "c1",
                        listed_on="2025-03-01",
                        list_reason=f"张三（身份证号{ID_ZHANG}）有履行能力而拒不履行",
                    )
                ],
            )[0].entity_id
            or ""
        )
        tax = make_credit_feed(
            session,
            code="tax-grades",
            record_category=RecordCategory.TAX_GRADE,
            sharing_type=SharingType.CONDITIONAL,
        )
        ingest(
            session,
            tax,
            [{"source_id": "t1", "party_name": "北京星河科技有限公司", "uscc": USCC_XINGHE,
              "year": 2024, "grade": "D"}],
        )  # fmt: skip
        conditional = make_credit_feed(
            session,
            code="psb-penalties",
            department=police,
            sharing_type=SharingType.CONDITIONAL,
        )
        ids["wang"] = (
            ingest(
                session,
                conditional,
                [penalty("p1", party_name="王芳", uscc=None, id_number=ID_WANG)],
            )[0].entity_id
            or ""
        )
        session.commit()
        repaired_id = next(r.id for r in repaired if r.decision_number == "京环罚〔2026〕2号")
    return World(ids, repaired_id)


def get(client: FlaskClient, url: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = client.get(url, query_string=params, headers=headers or {})
    assert response.status_code == 200, response.json
    return response


def test_search_by_name_and_uscc_without_a_token(client: FlaskClient, world: World) -> None:
    by_name = get(client, "/api/v1/public/entities", q="星河科技").json
    assert by_name["items"][0] == {
        "public_id": world.ids["xinghe"],
        "kind": "legal_entity",
        "name": "北京星河科技有限公司",
        "uscc": USCC_XINGHE,
        "region_code": "110000",
        "score": by_name["items"][0]["score"],
        "matched_on": "name",
    }
    by_code = get(client, "/api/v1/public/entities", q=USCC_XINGHE.lower()).json
    assert [(i["public_id"], i["matched_on"]) for i in by_code["items"]] == [
        (world.ids["xinghe"], "uscc")
    ]


def test_persons_are_masked_and_carry_no_identifiers(client: FlaskClient, world: World) -> None:
    response = get(client, "/api/v1/public/entities", q="张三")
    item = response.json["items"][0]
    assert (item["public_id"], item["name"], item["uscc"], item["region_code"]) == (
        world.ids["zhang"],
        "张*",
        None,
        None,
    )
    profile = get(client, f"/api/v1/public/entities/{world.ids['zhang']}")
    text = profile.get_data(as_text=True)
    assert "张三" not in text and ID_ZHANG not in text and "110105" not in text
    body = profile.json
    assert "identifiers" not in body
    assert [(m["kind"], m["list_name"]) for m in body["lists"]] == [("black", "失信被执行人名单")]
    assert body["lists"][0]["reason"] == "张*(身份证号******************)有履行能力而拒不履行"
    assert body["records"]["list_entry"]["items"][0]["party_name"] == "张*"


def test_government_callers_get_the_same_public_view(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    regulator = make_token(session_factory, Role.REGULATOR)
    body = get(client, f"/api/v1/public/entities/{world.ids['zhang']}", regulator).json
    assert body["name"] == "张*" and "张三" not in str(body)


def test_json_writes_chinese_as_characters_for_every_role(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """UTF-8 JSON, not \\uXXXX escapes: a regulator's answer is not rewritten by the masking
    safety net (which wrote characters), so it showed the serializer's own choice."""
    for headers in (None, make_token(session_factory, Role.REGULATOR)):
        raw = get(client, "/api/v1/public/entities", headers, q="星河科技").get_data()
        assert "北京星河科技有限公司".encode() in raw and b"\\u" not in raw


def test_other_identifiers_are_refused(client: FlaskClient, world: World) -> None:
    # A resident id number is forbidden outright (403), other codes are not the public's (422).
    for q, status in ((ID_ZHANG, 403), ("110105********002X", 422), ("60003734-1", 422)):
        response = client.get("/api/v1/public/entities", query_string={"q": q})
        assert response.status_code == status, q
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/public/entities", query_string={"q": "张"}).status_code == 422


def test_only_published_records_of_unconditional_feeds(
    client: FlaskClient,
    world: World,
    database_url: str,
    tmp_path: Path,
    make_app: Callable[[Config], Flask],
) -> None:
    url = f"/api/v1/public/entities/{world.ids['xinghe']}"
    now = get(client, url).json
    # the penalty decided 2025-01-01 is published until 2026-01-01; the repaired one never;
    # registry facts and the conditional tax grade are not the public's
    assert list(now["records"]) == ["penalty"]
    items = now["records"]["penalty"]["items"]
    assert [(r["decision_number"], r["status"]) for r in items] == [("京环罚〔2026〕1号", "active")]
    assert world.repaired_id not in {r["id"] for r in items}
    assert items[0]["department"] == "北京市生态环境局"
    assert items[0]["fine_amount"] == "5000.00"

    later = make_app(config_for(database_url, tmp_path, "2026-02-01")).test_client()
    assert get(later, url).json["records"] == {}
    # a company stays findable when it has nothing published
    assert world.ids["xinghe"] in {
        i["public_id"] for i in get(later, "/api/v1/public/entities", q="星河科技").json["items"]
    }
    before = make_app(config_for(database_url, tmp_path, "2024-12-31")).test_client()
    assert get(before, url).json["records"] == {}  # not decided yet


def test_a_person_with_nothing_published_does_not_exist_for_the_public(
    client: FlaskClient, world: World
) -> None:
    # 王芳: only a conditional feed's record; 李四: only a repaired record
    for name, key in (("王芳", "wang"), ("李四", "li")):
        found = get(client, "/api/v1/public/entities", q=name).json
        assert world.ids[key] not in {i["public_id"] for i in found["items"]}
        response = client.get(f"/api/v1/public/entities/{world.ids[key]}")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/public/entities/CHL-NOSUCHID00").status_code == 404


def test_public_reads_of_a_person_are_audited(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    get(client, f"/api/v1/public/entities/{world.ids['xinghe']}")
    get(client, f"/api/v1/public/entities/{world.ids['zhang']}")
    with session_factory() as session:
        events = session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.actor, e.target_id) for e in events] == [
        ("public.entity.read", "public", world.ids["zhang"])
    ]


def test_a_public_search_showing_a_person_is_audited(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """Who looked up which person is traceable, anonymous callers included; every search is
    audited (its kind and a keyed hash of the query, never the query), hits and misses."""
    assert get(client, "/api/v1/public/entities", q="星河科技").json["total"] >= 1
    found = get(client, "/api/v1/public/entities", q="张三").json
    assert world.ids["zhang"] in [item["public_id"] for item in found["items"]]
    assert get(client, "/api/v1/public/entities", q="不存在的名字").json["total"] == 0
    with session_factory() as session:
        events = session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.actor, e.target_id) for e in events] == [
        ("public.search", "public", None),
        ("public.search", "public", world.ids["zhang"]),
        ("public.search", "public", None),
    ]
    assert events[1].details["persons"] == [world.ids["zhang"]]
    assert events[1].details["query_kind"] == "name" and events[2].details["hits"] == 0
    assert "张三" not in str(events[1].details) and len(events[1].details["query_hash"]) == 64
    assert events[1].request_id  # the server's id of that request


def test_a_companys_public_page_is_cacheable_and_answers_conditional_gets(
    client: FlaskClient, world: World
) -> None:
    for url, policy in (
        (f"/api/v1/public/entities/{world.ids['xinghe']}", f"public, max-age={PUBLIC_MAX_AGE}"),
        # every search is audited: caches must ask again (and get a 304) before each use
        ("/api/v1/public/entities", "public, no-cache"),
    ):
        first = get(client, url, q="星河科技")
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == policy
        again = client.get(url, query_string={"q": "星河科技"}, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
        other = client.get(url, query_string={"q": "星河科技"}, headers={"If-None-Match": '"x"'})
        assert other.status_code == 200
        assert other.get_json() == first.get_json()


def test_pages_naming_a_person_are_never_cached_and_always_audited(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    for url, params in (
        (f"/api/v1/public/entities/{world.ids['zhang']}", {}),
        ("/api/v1/public/entities", {"q": "张三"}),
    ):
        response = get(client, url, **params)
        assert response.headers["Cache-Control"] == "no-store", url
        assert "ETag" not in response.headers, url
        # a conditional GET is no way around the audit: the answer is whole, and audited
        again = client.get(url, query_string=params, headers={"If-None-Match": "*"})
        assert again.status_code == 200
    with session_factory() as session:
        events = session.scalars(select(AuditEvent.action)).all()
    assert events.count("public.entity.read") == 2
    assert events.count("public.search") == 2


def _valid_uscc(n: int) -> str:
    body = f"91110000{n:09d}"
    return body + uscc.calc_check_digit(body)


def _statements_of_search(client: FlaskClient, q: str) -> tuple[int, list[dict[str, Any]]]:
    statements: list[str] = []
    engine = runtime(cast(Flask, client.application)).engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        items = get(client, "/api/v1/public/entities", q=q).get_json()["items"]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), items


def test_a_search_page_costs_the_same_queries_whatever_its_length(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        for i in range(12):
            group = "甲" if i < 2 else "乙"
            make_company(session, name=f"北京{group}辰{i}号科技有限公司", uscc=_valid_uscc(i))
        session.commit()
    few, few_items = _statements_of_search(client, "北京甲辰")
    many, many_items = _statements_of_search(client, "北京乙辰")
    assert len(few_items) >= 2 and len(many_items) >= 10
    assert all(item["uscc"] for item in few_items + many_items)  # identifiers were read
    assert many <= few  # not one identifiers query per hit
