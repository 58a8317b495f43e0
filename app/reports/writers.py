"""Streaming writers: a report's rows arrive in chunks and leave as bytes, chunk by chunk.

Each writer is a generator of ``bytes`` that holds at most one chunk of rows at a time:

* CSV: UTF-8 with a byte-order mark (Excel then reads Chinese correctly; pandas reads it with
  ``encoding="utf-8-sig"``), one header line, ``csv`` module quoting; a text cell a spreadsheet
  would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first) gets a
  leading ``'`` (``core.csv_cells``), numeric columns stay numbers.
* JSON: one object ``{"report", "generated_on", "filters", "columns", "rows": [...]}`` with
  ``rows`` written one chunk at a time; money as strings (exact, as the API sends it).
* Parquet: one row group per chunk (pyarrow ``ParquetWriter``), money as ``decimal128(18, 2)``.
* XLSX: xlsxwriter in ``constant_memory`` mode (rows go to a temporary file as they come),
  bold filled header, frozen header row, autofilter, column widths, a new sheet every
  1,048,575 rows, and the chart (if any) embedded on its own sheet. A workbook is a zip
  finished only at the end, so its bytes follow once the last row is written; the workbook
  itself sits in a temporary file, not in memory.

Cell values: strings are never turned into formulas (a party name starting with ``=`` stays
text in Excel, and in a spreadsheet opening the CSV).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from app.reports.registry import Column
from core.csv_cells import neutralise_rows

Row = Sequence[Any]
Chunk = Sequence[Row]

XLSX_MAX_ROWS = 1_048_576  # per sheet, header included
_COPY_BLOCK = 1 << 20


def iter_csv(columns: Sequence[Column], chunks: Iterable[Chunk]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    text_columns = [i for i, c in enumerate(columns) if c.kind == "text"]
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(neutralise_rows(chunk, text_columns))
        yield buffer.getvalue().encode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def iter_json(
    columns: Sequence[Column], chunks: Iterable[Chunk], *, head: dict[str, Any]
) -> Iterator[bytes]:
    names = [c.name for c in columns]
    opening = json.dumps({**head, "columns": names}, ensure_ascii=False, default=_json_value)
    yield (opening[:-1] + ', "rows": [').encode("utf-8")
    first = True
    for chunk in chunks:
        parts = []
        for row in chunk:
            item = json.dumps(
                dict(zip(names, row, strict=True)), ensure_ascii=False, default=_json_value
            )
            parts.append(item if first else ",\n" + item)
            first = False
        if parts:
            yield "".join(parts).encode("utf-8")
    yield b"]}\n"


class _Drain(io.RawIOBase):
    """A write-only sink whose bytes are taken out after each piece of work."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        piece = bytes(data)
        self._parts.append(piece)
        self._position += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _arrow_type(column: Column) -> Any:
    import pyarrow as pa

    return {
        "text": pa.string(),
        "int": pa.int64(),
        "money": pa.decimal128(18, 2),
        "float": pa.float64(),
        "percent": pa.float64(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "bool": pa.bool_(),
    }[column.kind]


def iter_parquet(columns: Sequence[Column], chunks: Iterable[Chunk]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c.name, _arrow_type(c)) for c in columns])
    sink = _Drain()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        wrote = False
        for chunk in chunks:
            if not chunk:
                continue
            arrays = [
                pa.array([row[i] for row in chunk], type=schema.field(i).type)
                for i in range(len(columns))
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            wrote = True
            yield sink.take()
        if not wrote:
            writer.write_table(schema.empty_table())
    finally:
        writer.close()
    yield sink.take()


_WIDTHS = {"date": 12, "datetime": 20, "money": 14, "int": 10, "percent": 10, "bool": 8}


def iter_xlsx(
    columns: Sequence[Column],
    chunks: Iterable[Chunk],
    *,
    sheet_title: str,
    chart_png: bytes | None = None,
    chart_title: str = "chart",
) -> Iterator[bytes]:
    """The workbook's bytes once it is complete (see the module docstring)."""
    with tempfile.TemporaryFile() as spool:
        write_xlsx(
            columns,
            chunks,
            spool,
            sheet_title=sheet_title,
            chart_png=chart_png,
            chart_title=chart_title,
        )
        spool.seek(0)
        while block := spool.read(_COPY_BLOCK):
            yield block


def write_xlsx(
    columns: Sequence[Column],
    chunks: Iterable[Chunk],
    target: IO[bytes],
    *,
    sheet_title: str,
    chart_png: bytes | None = None,
    chart_title: str = "chart",
    max_rows: int = XLSX_MAX_ROWS,
) -> int:
    """Write the workbook to ``target``; returns the number of data rows. A sheet holds at
    most ``max_rows`` rows, header included; more rows continue on a new sheet."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = {
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "percent": workbook.add_format({"num_format": "0.0%"}),
    }
    cell_writers = [_cell_writer(c, formats) for c in columns]
    sheet_name = _sheet_name(sheet_title)
    sheets = 0
    worksheet: Any = None
    row_index = max_rows  # forces the first sheet
    total = 0

    def new_sheet() -> Any:
        nonlocal sheets
        sheets += 1
        name = sheet_name if sheets == 1 else _sheet_name(f"{sheet_title} {sheets}")
        sheet = workbook.add_worksheet(name)
        # constant_memory writes row by row: widths and panes must be set before any row.
        for i, column in enumerate(columns):
            sheet.set_column(i, i, _WIDTHS.get(column.kind, max(12, min(len(column.name) + 2, 40))))
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, [c.name for c in columns], header)
        return sheet

    for chunk in chunks:
        for row in chunk:
            if row_index >= max_rows:
                worksheet = new_sheet()
                row_index = 1
            for col, (write, value) in enumerate(zip(cell_writers, row, strict=True)):
                if value is not None:
                    write(worksheet, row_index, col, value)
            row_index += 1
            total += 1
    if worksheet is None:
        worksheet = new_sheet()
    else:
        worksheet.autofilter(0, 0, row_index - 1, len(columns) - 1)
    if chart_png is not None:
        chart_sheet = workbook.add_worksheet(_sheet_name(chart_title))
        chart_sheet.insert_image(1, 1, "chart.png", {"image_data": io.BytesIO(chart_png)})
    workbook.close()
    return total


def _cell_writer(column: Column, formats: dict[str, Any]) -> Any:
    kind = column.kind
    if kind == "text":
        return lambda sheet, r, c, v: sheet.write_string(r, c, str(v))
    if kind in ("int", "float"):
        return lambda sheet, r, c, v: sheet.write_number(r, c, v)
    if kind in ("money", "percent"):
        fmt = formats[kind]
        return lambda sheet, r, c, v: sheet.write_number(r, c, float(v), fmt)
    if kind == "bool":
        return lambda sheet, r, c, v: sheet.write_boolean(r, c, bool(v))
    fmt = formats[kind]
    if kind == "datetime":
        # Excel has no time zones: UTC, written naive.
        return lambda sheet, r, c, v: _write_when(sheet, r, c, v.replace(tzinfo=None), fmt)
    return lambda sheet, r, c, v: _write_when(sheet, r, c, v, fmt)


# Excel's date serials (the 1900 date system) run from 1900-01-01 to 9999-12-31.
_FIRST_SERIAL_DATE = date(1900, 1, 1)


def _write_when(sheet: Any, row: int, col: int, value: date, fmt: Any) -> None:
    """A date or datetime as a date serial, or, outside the serials' range (a date stored
    before ingest refused year 1 or 9998), as ISO text: xlsxwriter would write a serial
    Excel shows as ##### or reads as another date."""
    day = value.date() if isinstance(value, datetime) else value
    if day < _FIRST_SERIAL_DATE:
        sheet.write_string(row, col, value.isoformat())
    else:
        sheet.write_datetime(row, col, value, fmt)


def _sheet_name(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31] or "report"
