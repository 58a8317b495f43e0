"""No search or profile query scans a table that grows with the data: every statement they send
is EXPLAINed, on PostgreSQL with sequential scans priced out (``enable_seqscan = off``: a Seq
Scan left in the plan means no index can answer) over enough rows that the statistics are
real, and on SQLite (``EXPLAIN QUERY PLAN``: ``SCAN`` of a growing table)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.entities.present import Viewer
from app.entities.services import SearchFilters, entity_profile, search_entities
from core.models import IdentifierType, RecordCategory, Role
from core.rules.settings import GradeRules
from tests.support.builders import make_department
from tests.support.credit import (
    ID_ZHANG,
    USCC_XINGHE,
    add_identifier,
    make_company,
    make_credit_feed,
    make_person,
    make_record,
)

TODAY = date(2026, 6, 1)
FILLER = 20_000
MASKED_ZHANG = ID_ZHANG[:6] + "********" + ID_ZHANG[-4:]
# Tables whose size grows with the data; the catalogue (feeds, departments) does not.
GROWING = (
    "entities",
    "entity_identifiers",
    "entity_attributes",
    "entity_name_grams",
    "credit_records",
    "source_records",
    "match_links",
    "audit_events",
)


def _fill(session: Session) -> None:
    """``FILLER`` companies with a USCC-shaped code each, and ANALYZE."""
    session.execute(
        text(
            "INSERT INTO entities (public_id, kind, display_name, search_name, search_core,"
            " created_at, updated_at) "
            "SELECT 'CHL-F' || n, 'legal_entity', '测试' || n || '贸易有限公司',"
            " '测试' || n || '贸易有限公司', '测试' || n || '贸易', :now, :now "
            "FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :k)"
            " SELECT n FROM s) AS numbers"
        ),
        {"k": FILLER, "now": "2026-01-01 00:00:00+00:00"},
    )
    session.execute(
        text(
            "INSERT INTO entity_identifiers (entity_id, id_type, value, valid, created_at) "
            "SELECT id, 'uscc', '9111' || substr('000000000000' || id, -14, 14), true, :now "
            "FROM entities WHERE public_id LIKE 'CHL-F%'"
        ),
        {"now": "2026-01-01 00:00:00+00:00"},
    )
    session.execute(text("ANALYZE"))


@contextmanager
def captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _scans(session: Session, backend: str, statement: str, parameters: Any) -> list[str]:
    """The growing tables the plan of ``statement`` reads whole."""
    connection = session.connection()
    if backend == "postgresql":
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        scanned = re.findall(r"Seq Scan on (\w+)", plan)
    else:
        plan = "\n".join(
            row[-1]
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
        scanned = re.findall(r"\bSCAN (\w+)(?! USING)", plan)
    return [table for table in scanned if table in GROWING]


@pytest.fixture
def world(session: Session, backend: str) -> dict[str, Any]:
    samr = make_department(session, code="SAMR", name="市场监管")
    feed = make_credit_feed(
        session, code="penalties", department=samr, record_category=RecordCategory.PENALTY
    )
    company = make_company(session, name="北京星河科技有限公司", uscc=USCC_XINGHE)
    person = make_person(session, name="张三", resident_id=ID_ZHANG)
    add_identifier(
        session, person, IdentifierType.MASKED_ID, ID_ZHANG[:6] + "********" + ID_ZHANG[-4:]
    )
    feeds = [feed] + [
        make_credit_feed(
            session, code=f"penalties-{i}", department=samr, record_category=RecordCategory.PENALTY
        )
        for i in range(4)
    ]
    others = [make_company(session, name=f"其他{i}有限公司", uscc=f"X{i}") for i in range(40)]
    for n in range(400):  # records of many entities and feeds, as in real data
        entity = company if n % 20 == 0 else others[n % len(others)]
        make_record(
            session, entity=entity, feed=feeds[n % 5], decision_date=date(2025, 1, 1 + n % 28)
        )
    _fill(session)
    if backend == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))
    visible = frozenset(f.id for f in feeds)
    viewer = Viewer(client=None, role=Role.REGULATOR, feed_ids=visible, today=TODAY)
    return {"company": company, "viewer": viewer}


QUERIES = [
    "北京星河科技有限公司",  # exact name
    "北京星河科技",  # prefix and core name
    "北京星和科技有限公司",  # fuzzy (trigrams)
    "张三",  # shorter than a trigram
    "测试",  # a short core that 20,000 cores start with: bounded ranges of the b-trees
    "贸易",  # a common word of two characters: the first postings of its trigrams
    "有限公司",  # every trigram common (20,000 fillers): the first postings of one
    "贸易有限公司",  # a core of two characters and a common legal form
    "测试123贸易",  # some trigrams common, the rare ones read
    USCC_XINGHE,  # identifier
    "110000600037341",  # old taxpayer number: the org-code part of USCCs
    ID_ZHANG,  # a resident id, also against masked ids
    MASKED_ZHANG,  # a masked id
]


@pytest.mark.parametrize("q", QUERIES)
def test_search_reads_through_indexes(
    session: Session, backend: str, world: dict[str, Any], q: str
) -> None:
    with captured(session) as sent:
        items, _total, _kind = search_entities(
            session=session,
            viewer=world["viewer"],
            q=q,
            filters=SearchFilters(),
            page=1,
            page_size=20,
            query_key=b"plan-test-key",
        )
    assert items, q
    assert sent
    for statement, parameters in sent:
        assert _scans(session, backend, statement, parameters) == [], statement


def test_profile_reads_through_indexes(
    session: Session, backend: str, world: dict[str, Any]
) -> None:
    with captured(session) as sent:
        entity_profile(
            session=session,
            viewer=world["viewer"],
            public_id=world["company"].public_id,
            grade_rules=GradeRules(),
        )
    assert len(sent) >= 4
    for statement, parameters in sent:
        assert _scans(session, backend, statement, parameters) == [], statement
