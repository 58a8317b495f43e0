"""The file-drop adapter against real files on disk (no database)."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from openpyxl import Workbook

from ingest.adapters.base import Batch, FetchError
from ingest.adapters.file_drop import FileDropSettings, fetch_batches

HEADER = "CF_XDR_MC,CF_XZCFJDSWH,CF_JDRQ"
ROWS = [
    "北京星河科技有限公司,京环罚〔2026〕1号,2026-03-01",
    "張三貿易有限公司,京环罚〔2026〕2号,2026-03-02",
]


def make_settings(folder: Path, fmt: str = "csv", **overrides: object) -> FileDropSettings:
    return FileDropSettings.from_settings({"path": str(folder), **overrides}, format=fmt)


def read_all(settings: FileDropSettings, done: set[tuple[str, str]] | None = None) -> list[Batch]:
    """Every batch; a file set aside raises its reason as the FetchError it was caught as
    (these tests pin the reasons; tests/security/test_bad_files.py pins setting aside)."""
    processed = done or set()
    batches = list(
        fetch_batches(settings=settings, already_processed=lambda n, s: (n, s) in processed)
    )
    for batch in batches:
        if batch.set_aside is not None:
            raise FetchError(batch.set_aside)
    return batches


def write_csv(path: Path, encoding: str, rows: list[str] = ROWS, bom: bool = False) -> None:
    data = ("\r\n".join([HEADER, *rows]) + "\r\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


@pytest.mark.parametrize(
    ("encoding", "bom", "declared"),
    [
        ("utf-8", False, None),
        ("utf-8", True, None),
        ("utf-8", True, "utf-8"),
        ("gbk", False, "gbk"),
        ("gbk", False, None),
        ("gb18030", False, "gb18030"),
        ("utf-16", False, None),  # Python writes a BOM
        ("utf-16-le", False, None),
        ("utf-16-be", False, None),
        ("utf-32", False, None),
        # A byte-order mark wins over the declaration: an export switched to UTF-8 with BOM
        # was read as GB18030 mojibake.
        ("utf-8", True, "gbk"),
    ],
)
def test_csv_in_every_encoding_reads_the_same(
    tmp_path: Path, encoding: str, bom: bool, declared: str | None
) -> None:
    write_csv(tmp_path / "a.csv", encoding, bom=bom)
    extra = {"encoding": declared} if declared else {}
    batches = read_all(make_settings(tmp_path, **extra))
    records = [r for b in batches for r in b.records]
    assert [r.payload["CF_XDR_MC"] for r in records] == ["北京星河科技有限公司", "張三貿易有限公司"]
    assert list(records[0].payload) == ["CF_XDR_MC", "CF_XZCFJDSWH", "CF_JDRQ"]
    assert records[1].origin == "a.csv:line 3"


def test_wrong_declared_encoding_fails_with_the_file_named(tmp_path: Path) -> None:
    write_csv(tmp_path / "gbk.csv", "gbk")
    with pytest.raises(FetchError, match=r"gbk.csv is not valid utf-8"):
        read_all(make_settings(tmp_path, encoding="utf-8"))


def test_a_file_that_stops_decoding_names_the_line_and_bytes(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", "gbk", rows=[*ROWS, "\u6cb3\u5317,x,y"])
    data = (tmp_path / "a.csv").read_bytes()
    (tmp_path / "a.csv").write_bytes(data.replace("河北".encode("gbk"), b"\xff\xfe", 1))
    with pytest.raises(FetchError, match=r"a\.csv is not valid gb18030 at line 4 \(bytes ff"):
        read_all(make_settings(tmp_path, encoding="gbk"))


def test_a_gbk_file_with_one_bad_byte_is_an_error_not_mojibake(tmp_path: Path) -> None:
    """Neither UTF-8 nor GB18030, it was read as whatever charset detection liked best (here
    cp932: half-width katakana), and every record stored as such. Detection is now asked only
    about the encodings it can tell apart from these two (UTF-16/32 without a BOM, Big5)."""
    rows = [f"北京星河科技有限公司{i},京环罚〔2026〕{i}号,2026-03-01" for i in range(50)]
    write_csv(tmp_path / "a.csv", "gbk", rows=rows)
    with (tmp_path / "a.csv").open("ab") as handle:
        handle.write(b"\xff\xfe,x,y\r\n")
    with pytest.raises(FetchError) as caught:
        read_all(make_settings(tmp_path))
    assert str(caught.value) == (
        "a.csv is neither UTF-8 (invalid at line 2 (bytes b1)) nor GB18030 (invalid at line 52 "
        "(bytes ff)); declare the feed's encoding in the catalogue"
    )


def test_latin_text_in_utf16_without_a_byte_order_mark_is_recognised(tmp_path: Path) -> None:
    """It decodes as UTF-8 too, with a NUL after every letter: NUL bytes send the file to
    detection first."""
    (tmp_path / "a.csv").write_bytes("name,doc\r\nBeijing,1\r\n".encode("utf-16-le"))
    (batch,) = read_all(make_settings(tmp_path))
    assert [r.payload for r in batch.records] == [{"name": "Beijing", "doc": "1"}]


def test_unknown_declared_encoding_is_a_clear_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", "utf-8")
    with pytest.raises(FetchError, match="unknown encoding"):
        read_all(make_settings(tmp_path, encoding="klingon"))


def test_rows_with_the_wrong_number_of_fields_are_handed_over_as_unreadable(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path / "a.csv", "utf-8", rows=[ROWS[0], "只有一列", "", ROWS[1]])
    (batch,) = read_all(make_settings(tmp_path))
    assert len(batch.records) == 2
    ((record, reason),) = batch.unreadable
    assert "has 1 fields, the header has 3" in reason
    assert record.payload == {"_raw": "只有一列"}


def test_a_row_with_nul_characters_is_unreadable_and_keeps_its_text(tmp_path: Path) -> None:
    """PostgreSQL stores no NUL (it failed the whole batch): the row is quarantined with its
    text, NUL written as \\u0000."""
    write_csv(tmp_path / "a.csv", "utf-8", rows=[ROWS[0], "北京\x00星河,文号,2026-01-01", ROWS[1]])
    (batch,) = read_all(make_settings(tmp_path))
    assert [r.origin for r in batch.records] == ["a.csv:line 2", "a.csv:line 4"]
    ((record, reason),) = batch.unreadable
    assert record.payload == {"_raw": "北京\\u0000星河,文号,2026-01-01"}
    assert record.origin == "a.csv:line 3"
    assert reason.startswith("line 3 holds NUL characters")


def test_utf16_without_a_byte_order_mark_is_named_not_read_as_nul_riddled_text(
    tmp_path: Path,
) -> None:
    """Latin text in UTF-16 decodes as UTF-8 with a NUL after every letter."""
    (tmp_path / "a.csv").write_bytes("name,doc\r\nBeijing,1\r\n".encode("utf-16-le"))
    with pytest.raises(FetchError, match="UTF-16 without a byte-order mark"):
        read_all(make_settings(tmp_path, encoding="utf-8"))


def test_a_column_named_twice_fails_the_file_rather_than_losing_one(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("name,doc,name\n甲,1,乙\n", encoding="utf-8")
    with pytest.raises(FetchError, match=r"names column 'name' twice \(columns 1 and 3\)"):
        read_all(make_settings(tmp_path))


def test_repeated_blank_column_names_are_told_apart_by_position(tmp_path: Path) -> None:
    """Trailing delimiters make blank names; the first keeps the name "" (as before), so
    payloads, and their hashes, do not change."""
    (tmp_path / "a.csv").write_text("name,,doc,\n甲,x,1,y\n", encoding="utf-8")
    (batch,) = read_all(make_settings(tmp_path))
    assert batch.records[0].payload == {"name": "甲", "": "x", "doc": "1", "column_4": "y"}


def test_an_overlong_line_is_unreadable_without_being_held_whole(tmp_path: Path) -> None:
    """A line of 20 MB (one cell) is read on in blocks and quarantined with its first 10,000
    characters; the lines after it keep their numbers."""
    import tracemalloc

    with (tmp_path / "a.csv").open("w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n" + ROWS[0] + "\n")
        for _ in range(20):
            handle.write("星" * (1 << 20))
        handle.write(",2,3\n" + ROWS[1] + "\n")
    tracemalloc.start()
    try:
        (batch,) = read_all(make_settings(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
    assert [r.origin for r in batch.records] == ["a.csv:line 2", "a.csv:line 4"]
    ((record, reason),) = batch.unreadable
    assert record.payload == {"_raw": "星" * 10000}
    assert reason == "line 3 is longer than 1,048,576 characters"


def test_an_overlong_json_line_is_unreadable_too(tmp_path: Path) -> None:
    lines = ['{"a": "' + "x" * (2 << 20) + '"}', json.dumps({"name": "甲公司"}, ensure_ascii=False)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (batch,) = read_all(make_settings(tmp_path, "jsonl"))
    assert [(r.payload, r.origin) for r in batch.records] == [
        ({"name": "甲公司"}, "a.jsonl:line 2")
    ]
    ((record, reason),) = batch.unreadable
    assert reason == "line 1 is longer than 1,048,576 characters"
    assert record.payload == {"_raw": lines[0][:10000]}


def test_a_cell_beyond_the_csv_field_limit_keeps_the_start_of_its_line(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", "utf-8", rows=["x" * 200_000 + ",1,2", ROWS[1]])
    (batch,) = read_all(make_settings(tmp_path))
    assert len(batch.records) == 1
    ((record, reason),) = batch.unreadable
    assert record.payload == {"_raw": "x" * 10000}
    assert "line 2 is not valid CSV: field larger than field limit" in reason


def test_files_are_chunked_and_only_the_last_batch_carries_the_receipt(tmp_path: Path) -> None:
    rows = [f"公司{i},文号{i},2026-01-01" for i in range(5)]
    write_csv(tmp_path / "a.csv", "utf-8", rows=rows)
    batches = read_all(make_settings(tmp_path, chunk_size=2))
    assert [len(b.records) for b in batches] == [2, 2, 1]
    assert [b.receipt is not None for b in batches] == [False, False, True]
    receipt = batches[-1].receipt
    assert receipt is not None and receipt.name == "a.csv"
    assert receipt.size == (tmp_path / "a.csv").stat().st_size


def test_processed_files_are_skipped_and_changed_files_are_not(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", "utf-8")
    (first,) = read_all(make_settings(tmp_path))
    assert first.receipt is not None
    done = {(first.receipt.name, first.receipt.sha256)}
    assert read_all(make_settings(tmp_path), done) == []
    write_csv(tmp_path / "a.csv", "utf-8", rows=[*ROWS, "新公司,文号9,2026-04-01"])
    (changed,) = read_all(make_settings(tmp_path), done)
    assert len(changed.records) == 3


def test_files_being_written_and_hidden_files_are_left_alone(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv.part", "utf-8")
    write_csv(tmp_path / ".hidden.csv", "utf-8")
    write_csv(tmp_path / "b.csv.tmp", "utf-8")
    assert read_all(make_settings(tmp_path, pattern="*")) == []


def test_a_link_to_a_file_outside_the_drop_folder_is_not_read(tmp_path: Path) -> None:
    """It was read like any file: a link to /etc/passwd put the server's accounts in the
    quarantine, readable through the API by the department that dropped the link."""
    secret = tmp_path / "secret.csv"
    write_csv(secret, "utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    write_csv(drop / "a.csv", "utf-8")
    (drop / "b.csv").symlink_to(secret)
    (drop / "sub").mkdir()
    write_csv(drop / "sub" / "kept.csv", "utf-8")
    (drop / "c.csv").symlink_to(drop / "sub" / "kept.csv")  # inside the folder: read
    batches = fetch_batches(settings=make_settings(drop), already_processed=lambda n, s: False)
    first = next(batches)
    assert first.receipt is not None and first.receipt.name == "a.csv"
    # Set aside unread (its receipt hashes where it points, not what it points at), and the
    # files after it are read.
    link = next(batches)
    assert link.records == [] and link.receipt is not None and link.receipt.size == 0
    assert link.set_aside == "b.csv links to a file outside the drop folder; it is not read"
    rest = list(batches)
    assert [b.receipt.name for b in rest if b.receipt] == ["c.csv"]


def test_a_file_gone_between_listing_and_reading_is_skipped(tmp_path: Path) -> None:
    """Moved away by the department's job: nothing of it to read, nothing lost."""
    write_csv(tmp_path / "a.csv", "utf-8")
    write_csv(tmp_path / "b.csv", "utf-8")
    write_csv(tmp_path / "c.csv", "utf-8")
    batches = fetch_batches(settings=make_settings(tmp_path), already_processed=lambda n, s: False)
    first = next(batches)
    (tmp_path / "b.csv").unlink()
    names = [b.receipt.name for b in [first, *batches] if b.receipt is not None]
    assert names == ["a.csv", "c.csv"]


def test_a_file_that_changes_while_it_is_read_is_read_again_next_time(tmp_path: Path) -> None:
    """Written in place (not under a .part name): its last batch, which would mark it done,
    is not handed over, so the next run reads it again, whole."""
    write_csv(tmp_path / "a.csv", "utf-8")
    batches = fetch_batches(
        settings=make_settings(tmp_path, chunk_size=1), already_processed=lambda n, s: False
    )
    first = next(batches)
    assert first.receipt is None
    with (tmp_path / "a.csv").open("a", encoding="utf-8") as handle:
        handle.write("新公司,文号9,2026-04-01\r\n")
    with pytest.raises(FetchError, match=r"a\.csv changed while it was read"):
        list(batches)
    again = read_all(make_settings(tmp_path))
    assert sum(len(b.records) for b in again) == 3 and again[-1].receipt is not None


def test_file_names_that_are_not_utf8_are_shown_escaped(tmp_path: Path) -> None:
    """A name in GBK (a folder unpacked from a Windows zip) reached the database as text no
    encoder writes; it is named with its bytes escaped."""
    name = os.fsdecode(b"\xb4\xa6\xb7\xa3.csv")
    write_csv(tmp_path / name, "utf-8")
    (batch,) = read_all(make_settings(tmp_path))
    assert batch.receipt is not None and batch.receipt.name == "\\xb4\\xa6\\xb7\\xa3.csv"
    assert batch.records[0].origin == "\\xb4\\xa6\\xb7\\xa3.csv:line 2"


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="does not exist"):
        read_all(make_settings(tmp_path / "nope"))


def test_empty_file_is_recorded_as_processed(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (batch,) = read_all(make_settings(tmp_path))
    assert batch.records == [] and batch.receipt is not None


def test_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    lines = [json.dumps({"name": "甲公司"}, ensure_ascii=False), "{not json", "[1, 2]", ""]
    (tmp_path / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (batch,) = read_all(make_settings(tmp_path, "jsonl"))
    assert [r.payload for r in batch.records] == [{"name": "甲公司"}]
    reasons = [reason for _, reason in batch.unreadable]
    assert "line 2 is not valid JSON" in reasons[0] and "line 3 is not a JSON object" in reasons[1]


UNSTORABLE_LINES = {
    "lone surrogate": (r'{"name": "a\ud800"}', "holds a lone surrogate (\\ud800) at name"),
    "NUL escape": (r'{"name": "a\u0000"}', "holds a NUL character (\\u0000) at name"),
    "NUL byte": ('{"name": "a\x00"}', "is not valid JSON: Invalid control character"),
    "1e999": ('{"fine": 1e999}', "the number 1e999, beyond the range of a double"),
    "NaN": ('{"fine": NaN}', "holds NaN"),
    "integer too long": ('{"fine": ' + "9" * 5000 + "}", "an integer of 5000 digits"),
    "past the recursion limit": ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "deeper than 64"),
    "deeper than 64 levels": ('{"a": ' + "[" * 70 + "]" * 70 + "}", "deeper than 64 levels"),
}


@pytest.mark.parametrize(("line", "reason"), UNSTORABLE_LINES.values(), ids=UNSTORABLE_LINES.keys())
def test_json_lines_python_reads_but_no_database_stores_are_unreadable(
    tmp_path: Path, line: str, reason: str
) -> None:
    """Quarantined with the line's text (NUL written as \\u0000), and the file goes on."""
    lines = [line, json.dumps({"name": "甲公司"}, ensure_ascii=False)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (batch,) = read_all(make_settings(tmp_path, "jsonl"))
    assert [r.payload for r in batch.records] == [{"name": "甲公司"}]
    ((record, found),) = batch.unreadable
    assert found.startswith("line 1 ") and reason in found
    assert record.payload["_raw"] == line.replace("\x00", "\\u0000")[:10000]


def test_json_document_python_reads_but_no_database_stores_is_a_clear_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.json").write_text('[{"fine": ' + "9" * 5000 + "}]", encoding="utf-8")
    with pytest.raises(FetchError, match=r"a\.json holds an integer of 5000 digits"):
        read_all(make_settings(tmp_path, "json"))
    (tmp_path / "a.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(FetchError, match=r"a\.json is nested deeper than 64 levels"):
        read_all(make_settings(tmp_path, "json"))


def test_a_json_document_too_big_to_read_whole_is_refused_unread(tmp_path: Path) -> None:
    """A document is parsed whole, at six or seven times its size in memory: one over 128 MB
    has to come as JSON lines. (A sparse file: its size is all that is looked at.)"""
    with (tmp_path / "a.json").open("wb") as handle:
        handle.truncate((128 << 20) + 1)
    with pytest.raises(FetchError, match=r"a\.json is 128 MB; a JSON document is read whole"):
        read_all(make_settings(tmp_path, "json"))


def test_json_document_with_items(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"items": [{"a": 1}, 5]}), encoding="utf-8")
    (batch,) = read_all(make_settings(tmp_path, "json"))
    assert [r.payload for r in batch.records] == [{"a": 1}]
    assert batch.unreadable[0][1] == "item is not an object"
    (tmp_path / "a.json").write_text("{", encoding="utf-8")
    with pytest.raises(FetchError, match="not valid JSON"):
        read_all(make_settings(tmp_path, "json"))


def test_xlsx_with_dates_and_blank_rows(tmp_path: Path) -> None:
    from datetime import datetime

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["企业名称", "统一社会信用代码", "认定日期"])
    sheet.append(["北京星河科技有限公司", "91110000600037341L", datetime(2026, 1, 20)])
    sheet.append([None, None, None])
    sheet.append(["乙公司", None, datetime(2026, 2, 1)])
    workbook.save(tmp_path / "c.xlsx")
    (batch,) = read_all(make_settings(tmp_path, "xlsx"))
    assert [r.payload["企业名称"] for r in batch.records] == ["北京星河科技有限公司", "乙公司"]
    assert batch.records[0].payload["认定日期"] == datetime(2026, 1, 20)
    assert batch.records[1].origin == "c.xlsx:row 4"


def test_xlsx_with_a_column_named_twice_fails_rather_than_losing_one(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["企业名称", "文号", "企业名称"])
    sheet.append(["甲", "1", "乙"])
    workbook.save(tmp_path / "c.xlsx")
    with pytest.raises(FetchError, match=r"c\.xlsx: the header names column '企业名称' twice"):
        read_all(make_settings(tmp_path, "xlsx"))


def test_xlsx_with_data_on_another_sheet_asks_which_sheet_to_read(tmp_path: Path) -> None:
    """Only the first sheet was read: the second one's records were dropped without a word."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = "一月"
    first.append(["企业名称", "文号"])
    first.append(["甲", "1"])
    second = workbook.create_sheet("二月")
    second.append(["企业名称", "文号"])
    second.append(["乙", "2"])
    workbook.create_sheet("空白")
    workbook.save(tmp_path / "c.xlsx")
    with pytest.raises(FetchError, match=r"c\.xlsx has data on sheets '一月', '二月'; set the"):
        read_all(make_settings(tmp_path, "xlsx"))
    (batch,) = read_all(make_settings(tmp_path, "xlsx", sheet="二月"))
    assert [r.payload for r in batch.records] == [{"企业名称": "乙", "文号": "2"}]


def test_an_empty_second_sheet_is_no_reason_to_ask(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["企业名称"])
    sheet.append(["甲"])
    workbook.create_sheet("Sheet2")
    workbook.save(tmp_path / "c.xlsx")
    (batch,) = read_all(make_settings(tmp_path, "xlsx"))
    assert [r.payload for r in batch.records] == [{"企业名称": "甲"}]


def workbook_with_sheet(
    path: Path, write_sheet: Callable[[bytes, IO[bytes]], None], compression: int
) -> None:
    """A one-column workbook saved by openpyxl at ``path``, its sheet's XML part then written
    by ``write_sheet(original_xml, part)``: how a broken or hostile workbook is made."""
    plain = path.with_name("plain.xlsx")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["企业名称"])
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", compression) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, data)
                continue
            with target.open(info.filename, "w") as part:
                write_sheet(data, part)
    plain.unlink()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    """A 100 KB workbook whose one cell unpacks to 80 MB: openpyxl holds a cell's text whole
    (400 MB took 1.6 GB), and the record would have been stored."""

    def bomb(_original: bytes, part: IO[bytes]) -> None:
        part.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml')
        part.write(b'/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
        for _ in range(80):
            part.write(b"A" * (1 << 20))
        part.write(b"</t></is></c></row></sheetData></worksheet>")

    workbook_with_sheet(tmp_path / "drop.xlsx", bomb, zipfile.ZIP_DEFLATED)
    assert (tmp_path / "drop.xlsx").stat().st_size < 200_000
    with pytest.raises(FetchError, match=r"drop\.xlsx would unpack to 80 MB"):
        read_all(make_settings(tmp_path, "xlsx"))


@pytest.mark.parametrize(
    "row",
    [
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>cut short',
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>a&#0;b</t></is></c></row>',
        b'<row r="2"><c r="A2" t="n"><v>not a number</v></c></row>',
    ],
    ids=["truncated XML", "a character XML does not allow", "a number cell holding text"],
)
def test_a_workbook_whose_sheet_is_broken_is_a_clear_error(tmp_path: Path, row: bytes) -> None:
    """The sheet is parsed as it is read: the XML parser's error escaped as an unexpected
    one (a traceback, and the same on every run), a bad number as a ValueError naming no
    file."""

    def broken(original: bytes, part: IO[bytes]) -> None:
        data = original.replace(b"</sheetData>", row + b"</sheetData>")
        if b"cut short" in row:
            data = data[: data.index(b"cut short") + 9]
        part.write(data)

    workbook_with_sheet(tmp_path / "broken.xlsx", broken, zipfile.ZIP_STORED)
    with pytest.raises(FetchError, match=r"broken\.xlsx is not a readable XLSX workbook \(sheet"):
        read_all(make_settings(tmp_path, "xlsx"))


def test_a_file_that_is_not_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c.xlsx").write_bytes(b"this is not a zip file")
    with pytest.raises(FetchError, match="not a readable XLSX"):
        read_all(make_settings(tmp_path, "xlsx"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [({}, "path"), ({"path": "x", "chunk_size": 0}, "chunk_size")],
)
def test_bad_settings_name_the_key(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FileDropSettings.from_settings(settings, format="csv")
