"""The query plans of the benchmark's requests on its own database (``benchmarks.api
--explain``): every SELECT that a profile and the searches by USCC, ID number and name send is
EXPLAINed as the planner chooses at this size (no setting forced), and the tables it reads
whole are listed. ``tests/app/test_query_plans.py`` checks the same at 20,000 rows with
sequential scans priced out; this is the sanity check at the benchmark's size."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

# Tables whose size grows with the data; the catalogue (feeds, departments) does not.
GROWING = ("entities", "entity_identifiers", "entity_attributes", "entity_name_grams",
           "credit_records", "source_records", "match_links", "audit_events",
           "record_match_views", "record_block_keys")  # fmt: skip


@contextmanager
def _captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
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


def _plan(session: Session, statement: str, parameters: Any) -> tuple[str, list[str]]:
    """The plan's text and the growing tables it reads whole."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        plan = "\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + statement,
                                                                   parameters))  # fmt: skip
        scanned = re.findall(r"Seq Scan on (\w+)", plan)
    else:
        plan = "\n".join(r[-1] for r in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters))  # fmt: skip
        # An FTS5 MATCH (before migration 0016) read its index as "SCAN ... VIRTUAL TABLE INDEX".
        scanned = re.findall(r"\bSCAN (\w+)(?! USING| VIRTUAL TABLE INDEX \d+:M)", plan)
    return plan, [t for t in scanned if t in GROWING]


def explain(url: str, built: dict[str, Any]) -> dict[str, Any]:
    """Per request kind: the statements sent, the growing tables read whole (none expected),
    and the in-process time of the call (ms); every plan in ``plans``."""
    from app.entities.services import SearchFilters, entity_profile, search_entities, viewer_for
    from core.db import make_engine, make_session_factory
    from core.models import ApiClient, Role
    from core.rules.settings import GradeRules

    engine = make_engine(url)
    _id, company_public, company_name, uscc = built["company"]
    _pid, _person_public, _person_name, resident_id = built["person"]
    results: dict[str, Any] = {}
    with make_session_factory(engine)() as session:
        client = session.query(ApiClient).filter(ApiClient.role == Role.REGULATOR).first()
        viewer = viewer_for(session=session, client=client, today=date.today())
        calls = {
            "profile": lambda: entity_profile(session=session, viewer=viewer,
                                              public_id=company_public, grade_rules=GradeRules()),
            **{kind: (lambda q=q: search_entities(session=session, viewer=viewer, q=q,
                                                  filters=SearchFilters(), page=1, page_size=20,
                                                  query_key=b"bench"))
               for kind, q in (("search_uscc", uscc), ("search_id_number", resident_id),
                               ("search_name", company_name))},
        }  # fmt: skip
        for kind, call in calls.items():
            with _captured(session) as sent:
                started = time.perf_counter()
                call()
                ms = (time.perf_counter() - started) * 1000
            plans = [_plan(session, statement, parameters) for statement, parameters in sent]
            results[kind] = {
                "statements": len(sent),
                "scans": sorted({t for _, scanned in plans for t in scanned}),
                "call_ms": ms,
                "plans": [plan for plan, _ in plans],
            }
        session.rollback()
    engine.dispose()
    return results
