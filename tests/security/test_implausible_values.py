"""Issue 14, attacks 4 and 5: a year-9999 date failed a whole push with a 500 (``year 10000 is
out of range`` in ``add_months``), and implausible values were stored: a fine of 9*10^12
yuan, decisions in 9998 or 0001, ``valid_to`` before the decision, fines finer than a fen
rounded silently. Now each is quarantined with its reason, the rest of the batch is stored,
the caps come from the rules file, and no XLSX export holds an out-of-range date serial."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.reports.registry import Column
from app.reports.writers import write_xlsx
from core.clock import today
from core.config import Config
from core.models import (
    AdapterKind,
    CreditRecord,
    Feed,
    IngestRunStatus,
    RecordCategory,
    SourceRecord,
    SourceStatus,
)
from core.rules.publicity import add_months
from core.rules.settings import RulesError, ValueRules, load_rules
from ingest.runner import RunSummary, replay_feed
from tests.ingest.conftest import penalty_row, write_penalties
from tests.support.push import make_push_feed, penalty_item, push


def tomorrow() -> str:
    # Computed when a test runs, never at import: collection may happen before midnight in
    # China and the push after it.
    return (today() + timedelta(days=1)).isoformat()


def test_a_year_9999_date_is_quarantined_and_the_rest_of_the_push_stored(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    headers = make_push_feed(session_factory)
    response = push(
        client,
        headers,
        [penalty_item("1"), penalty_item("2", CF_JDRQ="9999-12-01"), penalty_item("3")],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.json["items"]
    assert [i["status"] for i in items] == ["accepted", "rejected", "accepted"]
    assert items[1]["errors"] == {
        "decision_date": [f"9999-12-01 is after today ({today().isoformat()})"]
    }
    with session_factory() as session:
        assert len(session.scalars(select(CreditRecord)).all()) == 2
        kept = session.scalars(
            select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
        ).one()
        assert kept.raw_payload["CF_JDRQ"] == "9999-12-01"  # kept as sent, with the reason


def test_implausible_values_are_quarantined_with_their_reason(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    # A feed in 万元, as the penalty standard states amounts: 900,000,000 万元 is 9*10^12 yuan.
    headers = make_push_feed(session_factory, fine_unit="wan_yuan")
    next_day = tomorrow()
    response = push(
        client,
        headers,
        [
            penalty_item("fine", CF_NR_FK="900000000"),
            penalty_item("9998", CF_JDRQ="9998-01-01"),
            penalty_item("0001", CF_JDRQ="0001-01-01"),
            penalty_item("1948", CF_JDRQ="1948-12-31"),
            penalty_item("tomorrow", CF_JDRQ=next_day),
            penalty_item("valid_to", CF_YXQ="2026-02-28"),
            penalty_item("fen", CF_NR_FK="1.0000001"),  # a tenth of a fen, in 万元
            penalty_item("good", CF_NR_FK="0.000001", CF_YXQ="2026-03-01"),  # one fen
        ],
    )
    assert response.status_code == 200
    outcome = {i["source_id"]: (i["status"], i["errors"]) for i in response.json["items"]}
    assert outcome == {
        "fine": (
            "rejected",
            {
                "fine_amount": [
                    "9,000,000,000,000 yuan is not below the cap of 1,000,000,000,000 yuan "
                    "(values.max_amount_yuan in the rules file)"
                ]
            },
        ),
        "9998": ("rejected", {"decision_date": [f"9998-01-01 is after today ({today()})"]}),
        "0001": ("rejected", {"decision_date": ["0001-01-01 is before 1949"]}),
        "1948": ("rejected", {"decision_date": ["1948-12-31 is before 1949"]}),
        "tomorrow": ("rejected", {"decision_date": [f"{next_day} is after today ({today()})"]}),
        "valid_to": (
            "rejected",
            {"valid_to": ["2026-02-28 is before the decision date 2026-03-01"]},
        ),
        "fen": ("rejected", {"fine_amount": ["Amount is finer than a fen: '1.0000001'."]}),
        "good": ("accepted", None),
    }
    with session_factory() as session:
        stored = session.scalars(select(CreditRecord)).one()
        assert str(stored.fine_amount) == "0.01"


def test_amounts_finer_than_a_fen_in_yuan_are_not_rounded(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    headers = make_push_feed(session_factory)
    items = [penalty_item("a", CF_NR_FK="1.234"), penalty_item("b", CF_NR_FK="1.23")]
    response = push(client, headers, items)
    assert [i["errors"] for i in response.json["items"]] == [
        {"fine_amount": ["1.234 yuan is finer than a fen; amounts are not rounded"]},
        None,
    ]


def test_the_caps_come_from_the_rules_file(
    config: Config,
    make_app: Callable[[Config], Flask],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[values]\nmax_amount_yuan = 10000\nearliest_decision_year = 2000\n", encoding="utf-8"
    )
    client = make_app(replace(config, rules_file=rules)).test_client()
    headers = make_push_feed(session_factory)
    response = push(
        client,
        headers,
        [
            penalty_item("1", CF_NR_FK="10000"),
            penalty_item("2", CF_NR_FK="9999.99"),
            penalty_item("3", CF_JDRQ="1999-12-31"),
        ],
    )
    assert [i["status"] for i in response.json["items"]] == ["rejected", "accepted", "rejected"]
    assert "cap of 10,000 yuan" in response.json["items"][0]["errors"]["fine_amount"][0]


def test_the_sample_rules_file_reads_and_bad_value_rules_are_refused(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_data" / "rules.toml"
    assert load_rules(sample).values == ValueRules()
    for text in (
        "[values]\nmax_amount_yuan = 0\n",
        "[values]\nmax_amount_yuan = 'a lot'\n",
        "[values]\nearliest_decision_year = 0\n",
        "[values]\nmax_fine = 1\n",
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(RulesError):
            load_rules(bad)


def test_file_drops_and_exchange_tables_get_the_same_checks(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Callable[[str], RunSummary],
    tmp_path: Path,
) -> None:
    penalty_feed()  # amounts in 万元, as the preset reads them
    write_penalties(
        tmp_path / "drop" / "p.csv",
        [
            penalty_row(CF_XZCFJDSWH="1"),
            penalty_row(CF_XZCFJDSWH="2", CF_JDRQ="9999-12-31"),
            penalty_row(CF_XZCFJDSWH="3", CF_NR_FK="900000000"),
        ],
    )
    summary = run("env")
    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 2)

    exchange = sqlite3.connect(tmp_path / "exchange.sqlite3")
    with exchange:
        exchange.execute(
            "CREATE TABLE t (seq_id INTEGER PRIMARY KEY, party_name TEXT, listed_on TEXT)"
        )
        exchange.executemany(
            "INSERT INTO t VALUES (?, ?, ?)",
            [(1, "甲公司", "2026-05-01"), (2, "乙公司", "0001-01-01"), (3, "丙公司", tomorrow())],
        )
    exchange.close()
    penalty_feed(
        code="court",
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.EXCHANGE_DB,
        adapter_settings={
            "sqlite_path": str(tmp_path / "exchange.sqlite3"),
            "table": "t",
            "watermark_column": "seq_id",
        },
        field_mapping={"source_key": "seq_id", "constants": {"list_name": "名单"}},
    )
    summary = run("court")
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 2)
    with session_factory() as session:
        errors = sorted(
            str(r.errors)
            for r in session.scalars(
                select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
            )
        )
    assert any("0001-01-01 is before 1949" in e for e in errors)
    assert any("9,000,000,000,000 yuan is not below the cap" in e for e in errors)
    # A replay applies them too: nothing implausible is let in afterwards.
    replayed = replay_feed(session_factory=session_factory, feed_code="court")
    assert (replayed.counts.accepted, replayed.counts.quarantined) == (0, 2)


def test_a_period_from_the_calendars_end_stops_there() -> None:
    assert add_months(date(9999, 12, 1), 36) == date.max
    assert add_months(date(1, 1, 31), -1) == date.min
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_xlsx_never_holds_an_out_of_range_date_serial() -> None:
    """Records stored before the checks (or dated by hand) still export: a date Excel's
    serials cannot hold is written as ISO text."""
    columns = [Column("day", "date"), Column("at", "datetime")]
    rows = [
        (date(1, 1, 1), datetime(1, 1, 1, 8, 0)),
        (date(1899, 12, 31), None),
        (date(2026, 3, 1), datetime(2026, 3, 1, 8, 0)),
        (date(9999, 12, 31), None),
    ]
    out = io.BytesIO()
    write_xlsx(columns, [rows], out, sheet_title="t")
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0] == ["0001-01-01", "0001-01-01T08:00:00"]
    assert values[1] == ["1899-12-31", None]
    assert values[2] == [datetime(2026, 3, 1), datetime(2026, 3, 1, 8, 0)]
    assert values[3] == [datetime(9999, 12, 31), None]


def test_http_pages_get_the_same_checks(
    httpserver: HTTPServer,
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Callable[[str], RunSummary],
) -> None:
    def debtor(case: str, listed_on: str) -> dict[str, str]:
        return {
            "case_number": case,
            "name": "某某公司",
            "court": "某法院",
            "listed_on": listed_on,
            "updated_at": f"2026-03-01T08:00:0{case}Z",
        }

    page = {
        "items": [debtor("1", "2026-03-01"), debtor("2", "9999-12-31"), debtor("3", "1900-01-01")]
    }
    httpserver.expect_request("/debtors").respond_with_json(page)
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.HTTP_PULL,
        adapter_settings={"url": httpserver.url_for("/debtors"), "max_retries": 0, "timeout": 5},
        field_mapping={
            "source_key": "case_number",
            "fields": {"party_name": "name", "authority_name": "court"},
            "constants": {"list_name": "失信被执行人名单"},
        },
    )
    summary = run("env")
    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 2)
    with session_factory() as session:
        errors = {
            r.source_key: r.errors
            for r in session.scalars(
                select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
            )
        }
    assert errors == {
        "2": {"listed_on": [f"9999-12-31 is after today ({today()})"]},
        "3": {"listed_on": ["1900-01-01 is before 1949"]},
    }
