"""Bad and hostile input through whole runs, on SQLite and PostgreSQL: every run ends (no
traceback, never left 'running'), balances, and keeps every bad record in quarantine with
its reason, or fails with a clear error and stores nothing of the bad file."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import (
    AdapterKind,
    Feed,
    IngestedFile,
    IngestRunStatus,
    RecordCategory,
    SourceRecord,
    SourceStatus,
)
from ingest.runner import RunSummary
from tests.ingest.conftest import PENALTY_HEADER, PENALTY_VALUES, penalty_row, write_penalties

Run = Callable[[str], RunSummary]

PENALTY = {k: v for k, v in PENALTY_VALUES.items() if k != "CF_XDR_LB"}


def quarantined(session_factory: sessionmaker[Session]) -> dict[str, SourceRecord]:
    """Quarantined records by origin."""
    with session_factory() as session:
        records = session.scalars(
            select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
        )
        return {r.origin or "": r for r in records}


def test_json_lines_no_database_could_store_are_quarantined_and_the_rest_stored(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    """Each of these crashed the run (PostgreSQL refusing NUL, UTF-8 refusing a lone
    surrogate, a RecursionError) and failed every later run on the same file."""
    penalty_feed(format="jsonl")
    good = json.dumps(PENALTY, ensure_ascii=False)
    lines = [
        good,
        r'{"CF_XDR_MC": "北京\u0000星河", "CF_XZCFJDSWH": "2"}',
        r'{"CF_XDR_MC": "\ud800", "CF_XZCFJDSWH": "3"}',
        '{"CF_XZCFJDSWH": "4", "CF_NR_FK": 1e999}',
        '{"CF_XZCFJDSWH": "5", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"CF_XZCFJDSWH": "6", "CF_XDR_MC": "a\x00"}',
    ]
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "p.jsonl").write_text("\n".join(lines), encoding="utf-8")

    summary = run("env")

    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 5)
    kept = quarantined(session_factory)
    assert set(kept) == {f"p.jsonl:line {n}" for n in range(2, 7)}
    line2 = kept["p.jsonl:line 2"]
    assert line2.raw_payload == {"_raw": lines[1]}
    assert line2.errors == {"_record": ["line 2 holds a NUL character (\\u0000) at CF_XDR_MC"]}
    assert kept["p.jsonl:line 6"].raw_payload == {"_raw": lines[5].replace("\x00", "\\u0000")}
    assert "lone surrogate" in str(kept["p.jsonl:line 3"].errors)
    assert "beyond the range of a double" in str(kept["p.jsonl:line 4"].errors)
    assert "deeper than 64 levels" in str(kept["p.jsonl:line 5"].errors)


def test_values_longer_than_their_columns_are_quarantined_on_every_database(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    """PostgreSQL refused each of these rows (value too long for its column, numeric field
    overflow), and with it the batch: the run crashed, on every later run too."""
    penalty_feed()
    header = PENALTY_HEADER + ",CF_CFJGDM"
    rows = [
        penalty_row(CF_XZCFJDSWH="1") + ",11110000000134210A",
        penalty_row(CF_XZCFJDSWH="2", CF_CFJG="局" * 301) + ",",
        penalty_row(CF_XZCFJDSWH="3") + "," + "9" * 19,
        penalty_row(CF_XZCFJDSWH="4", CF_CFLB="罚款" * 33) + ",",
        penalty_row(CF_XZCFJDSWH="5", CF_XDR_SHXYM="9" * 65) + ",",
        # 10^12 万元 is 10^16 yuan, beyond NUMERIC(18, 2)
        penalty_row(CF_XZCFJDSWH="6", CF_NR_FK="1000000000000") + ",",
        penalty_row(CF_XZCFJDSWH="7", CF_NR_FK="1e-20000") + ",",
    ]
    drop = tmp_path / "drop" / "p.csv"
    write_penalties(drop, rows)
    drop.write_text(drop.read_text(encoding="utf-8").replace(PENALTY_HEADER, header, 1))

    summary = run("env")

    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 6)
    errors = {origin: record.errors for origin, record in quarantined(session_factory).items()}
    assert errors == {
        "p.csv:line 3": {"authority_name": ["Longer than maximum length 300."]},
        "p.csv:line 4": {"authority_uscc": ["Longer than maximum length 18."]},
        "p.csv:line 5": {"penalty_category": ["Longer than maximum length 64."]},
        "p.csv:line 6": {"uscc": ["Longer than maximum length 64."]},
        "p.csv:line 7": {
            "fine_amount": ["Amount must be less than 1,000,000,000,000: '1000000000000'."]
        },
        # Finer than a fen: refused, not rounded to 0 (nor stored with an exponent
        # PostgreSQL refuses).
        "p.csv:line 8": {"fine_amount": ["Amount is finer than a fen: '1e-20000'."]},
    }


def test_a_csv_row_with_nul_is_quarantined_on_every_database(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed()
    write_penalties(
        tmp_path / "drop" / "p.csv",
        [penalty_row(CF_XZCFJDSWH="1"), penalty_row(CF_XZCFJDSWH="2", CF_XDR_MC="北京\x00星河")],
    )

    summary = run("env")

    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 1)
    kept = quarantined(session_factory)["p.csv:line 3"]
    assert "北京\\u0000星河" in kept.raw_payload["_raw"]


def test_a_file_whose_name_is_not_utf8_is_stored_under_an_escaped_name(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    """It failed every run ("surrogates not allowed") and so blocked the files after it."""
    penalty_feed()
    name = os.fsdecode(b"\xb4\xa6\xb7\xa3.csv")
    write_penalties(tmp_path / "drop" / name, [penalty_row()])

    summary = run("env")

    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert summary.counts.accepted == 1
    with session_factory() as session:
        assert session.scalars(select(IngestedFile.name)).one() == "\\xb4\\xa6\\xb7\\xa3.csv"


def test_an_exchange_row_with_nul_is_quarantined_on_every_database(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    """A department's SQLite table may hold NUL; PostgreSQL, storing it, refused the batch."""
    exchange = sqlite3.connect(tmp_path / "exchange.sqlite3")
    with exchange:
        exchange.execute(
            "CREATE TABLE t (seq_id INTEGER PRIMARY KEY, party_name TEXT, listed_on TEXT)"
        )
        exchange.executemany(
            "INSERT INTO t VALUES (?, ?, ?)",
            [(1, "甲公司", "2026-05-01"), (2, "乙\x00公司", "2026-05-01")],
        )
    exchange.close()
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.EXCHANGE_DB,
        adapter_settings={
            "sqlite_path": str(tmp_path / "exchange.sqlite3"),
            "table": "t",
            "watermark_column": "seq_id",
        },
        field_mapping={"source_key": "seq_id", "constants": {"list_name": "名单"}},
    )

    summary = run("env")

    assert summary.status is IngestRunStatus.SUCCEEDED, summary.error
    assert (summary.counts.accepted, summary.counts.quarantined) == (1, 1)
    kept = quarantined(session_factory)["t:seq_id=2"]
    assert kept.raw_payload == {
        "seq_id": 2,
        "party_name": "乙\\u0000公司",
        "listed_on": "2026-05-01",
    }
    assert kept.errors == {"_record": ["the row holds NUL characters (shown as \\u0000)"]}
