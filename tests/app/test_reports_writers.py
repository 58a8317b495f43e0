"""The streaming writers on their own: lazy (one chunk in, its bytes out), typed, and readable
back by pandas, pyarrow and openpyxl."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pyarrow.parquet as pq

from app.reports.registry import Column
from app.reports.writers import iter_csv, iter_json, iter_parquet, write_xlsx

COLUMNS = (
    Column("id", "int"),
    Column("name"),
    Column("decided", "date"),
    Column("fine", "money"),
    Column("rate", "percent"),
    Column("at", "datetime"),
    Column("ok", "bool"),
)


def rows(n: int) -> list[tuple[object, ...]]:
    return [
        (
            i,
            f"=公司{i}" if i == 0 else f"公司{i}",
            date(2026, 1, 1 + i % 28),
            Decimal(f"{i}.50"),
            0.25,
            datetime(2026, 5, 31, 10, tzinfo=UTC),
            i % 2 == 0,
        )
        for i in range(n)
    ]


class CountingChunks:
    """Chunks handed out one at a time, counting how many were taken."""

    def __init__(self, chunks: int, size: int) -> None:
        self.data = rows(chunks * size)
        self.size = size
        self.taken = 0

    def __iter__(self) -> Iterator[list[tuple[object, ...]]]:
        for start in range(0, len(self.data), self.size):
            self.taken += 1
            yield self.data[start : start + self.size]


def test_csv_and_json_write_each_chunk_before_reading_the_next() -> None:
    for writer in (
        lambda c: iter_csv(COLUMNS, c),
        lambda c: iter_json(COLUMNS, c, head={"report": "t"}),
        lambda c: iter_parquet(COLUMNS, c),
    ):
        source = CountingChunks(chunks=5, size=3)
        pieces = writer(source)
        next(pieces)  # the header / opening / nothing yet
        assert source.taken <= 1
        next(pieces)
        assert source.taken <= 2
        list(pieces)
        assert source.taken == 5


def test_csv_reads_back() -> None:
    body = b"".join(iter_csv(COLUMNS, [rows(3)]))
    assert body.startswith("\ufeffid,name".encode())
    table = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str)
    assert list(table["fine"]) == ["0.50", "1.50", "2.50"]
    assert list(table["decided"]) == ["2026-01-01", "2026-01-02", "2026-01-03"]


def test_empty_reports_still_have_their_columns() -> None:
    assert pd.read_csv(io.BytesIO(b"".join(iter_csv(COLUMNS, []))), encoding="utf-8-sig").empty
    assert json.loads(b"".join(iter_json(COLUMNS, [], head={})))["rows"] == []
    table = pq.read_table(io.BytesIO(b"".join(iter_parquet(COLUMNS, []))))
    assert table.num_rows == 0 and table.column_names == [c.name for c in COLUMNS]


def test_json_and_parquet_keep_types() -> None:
    document = json.loads(b"".join(iter_json(COLUMNS, [rows(2)], head={"report": "t"})))
    assert document["columns"][0] == "id"
    assert document["rows"][1] == {
        "id": 1,
        "name": "公司1",
        "decided": "2026-01-02",
        "fine": "1.50",
        "rate": 0.25,
        "at": "2026-05-31T10:00:00+00:00",
        "ok": False,
    }
    table = pq.read_table(io.BytesIO(b"".join(iter_parquet(COLUMNS, [rows(2), rows(1)]))))
    assert table.num_rows == 3
    assert table.column("fine").to_pylist() == [Decimal("0.50"), Decimal("1.50"), Decimal("0.50")]
    assert table.column("decided").to_pylist()[1] == date(2026, 1, 2)


def test_xlsx_types_header_panes_and_sheet_overflow() -> None:
    out = io.BytesIO()
    written = write_xlsx(COLUMNS, [rows(4), rows(3)], out, sheet_title="t", max_rows=4)
    assert written == 7
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    # Three data rows per sheet (plus the header): 7 rows make three sheets.
    assert book.sheetnames == ["t", "t 2", "t 3"]
    sheet = book["t"]
    assert [c.value for c in sheet[1]] == [c.name for c in COLUMNS]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].value == "=公司0" and sheet["B2"].data_type == "s"  # never a formula
    assert sheet["C2"].value == datetime(2026, 1, 1)
    assert sheet["D3"].value == 1.5 and sheet["D3"].number_format == "#,##0.00"
    assert sheet["E2"].number_format == "0.0%"
    assert sheet["G2"].value is True
    assert book["t 3"]["A2"].value == 2
