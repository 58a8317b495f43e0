"""File-drop adapter: a folder per feed holding CSV, XLSX, JSON-lines or JSON files.

Encodings: a byte-order mark (UTF-8, -16, -32) decides; otherwise a declared encoding is used
strictly (``gbk`` and ``gb2312`` read as their superset GB18030); ``auto`` (the default) takes
UTF-8 if the whole file decodes as UTF-8, else GB18030 if it decodes as that, else UTF-16 or
UTF-32 without a mark if charset-normalizer finds one of those in the first 8 MiB (a file with
NUL bytes is asked about those first). Anything else is not guessed: a file that does not
decode fails its batch with the file, line and bytes named, and stays unprocessed, so fixing
the file or the catalogue and running again loses nothing.

A file that cannot be read (a header naming a column twice, bytes of no encoding it may be in,
a broken workbook or JSON document, a link out of the folder) is *set aside*: its last batch
carries the reason with its receipt, the run goes on with the next file, and the file is not
tried again until its content (hash) changes. Records read before the problem are stored as
usual (a fixed file brings them again as duplicates).

A row that cannot be read (wrong number of CSV fields, a JSON line that is not an object or
that ``core.json_input`` refuses: NUL, a lone surrogate, 1e999, nesting deeper than 64 levels) is
handed over as *unreadable* and quarantined with the reason and its text; it never stops the
file. A JSON document is read whole, so the same problems anywhere in it fail the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from core.json_input import JsonRefused, loads
from ingest.adapters.base import Batch, FetchError, FileReceipt, RawRecord, storable_text

_DEFAULT_PATTERNS = {
    "csv": ("*.csv", "*.CSV", "*.txt"),
    "xlsx": ("*.xlsx", "*.XLSX"),
    "jsonl": ("*.jsonl", "*.ndjson"),
    "json": ("*.json",),
}
_ENCODING_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "utf8": "utf-8"}
# Files still being written by the department's copy job.
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")
_CHUNK = 1 << 20
# A CSV or JSON line longer than this is not read (a record is a few KB; the csv module's own
# limit is 128K characters a cell): held whole, a hostile line costs its size several times
# over in memory.
MAX_LINE_CHARS = 1 << 20
# What an unreadable row keeps of its text.
_RAW_CHARS = 10_000
# A JSON document is parsed whole, at six or seven times its size in memory (67 MB of records:
# 438 MB): a bigger one comes as JSON lines, read line by line.
MAX_JSON_DOCUMENT_BYTES = 128 << 20


@dataclass(frozen=True)
class FileDropSettings:
    path: Path
    format: str
    encoding: str = "auto"
    patterns: tuple[str, ...] = ()
    delimiter: str = ","
    sheet: str | None = None
    chunk_size: int = 2000

    @classmethod
    def from_settings(cls, settings: dict[str, Any], *, format: str) -> FileDropSettings:
        """Raises ``ValueError`` naming the bad key."""
        if format not in _DEFAULT_PATTERNS:
            raise ValueError(f"format: file drops read {sorted(_DEFAULT_PATTERNS)}, not {format!r}")
        if not settings.get("path"):
            raise ValueError("path: a file-drop feed needs the folder to watch")
        pattern = settings.get("pattern")
        patterns = (pattern,) if isinstance(pattern, str) else tuple(pattern or ())
        chunk_size = int(settings.get("chunk_size", 2000))
        if chunk_size < 1:
            raise ValueError("chunk_size: must be at least 1")
        return cls(
            path=Path(settings["path"]),
            format=format,
            encoding=str(settings.get("encoding", "auto")).lower(),
            patterns=patterns or _DEFAULT_PATTERNS[format],
            delimiter=str(settings.get("delimiter", ",")),
            sheet=settings.get("sheet"),
            chunk_size=chunk_size,
        )


def list_files(settings: FileDropSettings) -> list[Path]:
    if not settings.path.is_dir():
        raise FetchError(f"drop folder {settings.path} does not exist")
    found = {p for pattern in settings.patterns for p in settings.path.glob(pattern)}
    return sorted(
        p
        for p in found
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_IN_PROGRESS_SUFFIXES)
    )


def display_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, as text a database can store: a name that is not UTF-8
    (GBK, from a zip made on Windows) has those bytes escaped (``\\xb4``). Python hands such a
    name over with lone surrogates, which no encoder writes: the run failed on every try."""
    return os.fsencode(path.relative_to(root)).decode("utf-8", "backslashreplace")


def file_receipt(path: Path, root: Path) -> FileReceipt:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return FileReceipt(display_name(path, root), path.stat().st_size, digest.hexdigest())


def fetch_batches(
    *, settings: FileDropSettings, already_processed: Callable[[str, str], bool]
) -> Iterator[Batch]:
    """Batches of at most ``chunk_size`` records per new or changed file, in name order; the
    last batch of each file carries its receipt (so the file counts as done only once all of
    it is stored), and for a file that cannot be read the reason it is set aside. A file gone
    since the folder was listed is skipped. Raises :class:`FetchError` for a missing folder
    or a file that changed while it was read (its last batch is then not handed over, so the
    next run reads it again)."""
    root = settings.path.resolve()
    for path in list_files(settings):
        name = display_name(path, settings.path)
        if not path.resolve().is_relative_to(root):
            # A department may write the folder, not read the server: a link to /etc/passwd
            # would put it in the quarantine, which the department reads through the API.
            # Its receipt hashes where it points, never what it points at.
            target = hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
            if not already_processed(name, target):
                reason = f"{name} links to a file outside the drop folder; it is not read"
                yield Batch(records=[], receipt=FileReceipt(name, 0, target), set_aside=reason)
            continue
        try:
            before = _identity(path)
            receipt = file_receipt(path, settings.path)
        except FileNotFoundError:
            continue  # moved away since the folder was listed: nothing of it to read
        if already_processed(receipt.name, receipt.sha256):
            continue
        records: list[RawRecord] = []
        unreadable: list[tuple[RawRecord, str]] = []
        try:
            for record, problem in _read(path, settings, receipt.name):
                if problem is None:
                    records.append(record)
                else:
                    unreadable.append((record, problem))
                if len(records) + len(unreadable) >= settings.chunk_size:
                    yield Batch(records=records, unreadable=unreadable)
                    records, unreadable = [], []
        except FetchError as exc:
            # This file, not the feed: the next files are read, and this one again only
            # once it changes.
            yield Batch(records=records, unreadable=unreadable, receipt=receipt, set_aside=str(exc))
            continue
        if _identity(path) not in (before, None):
            # Written in place rather than under a .part name: what was read may end in a
            # line cut short, and is not what the receipt's hash describes.
            raise FetchError(
                f"{name} changed while it was read (still being written?); it is read again, "
                "whole, on the next run"
            )
        yield Batch(records=records, unreadable=unreadable, receipt=receipt)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Inode, size and modification time; None once the file is gone (moved away after it
    was read: what was read came through the open file, whole)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


Row = tuple[RawRecord, str | None]


def _read(path: Path, settings: FileDropSettings, name: str) -> Iterator[Row]:
    if settings.format == "xlsx":
        yield from _read_xlsx(path, settings, name)
        return
    size = path.stat().st_size
    if settings.format == "json" and size > MAX_JSON_DOCUMENT_BYTES:
        raise FetchError(
            f"{name} is {size >> 20:,} MB; a JSON document is read whole, so one over "
            f"{MAX_JSON_DOCUMENT_BYTES >> 20} MB must come as JSON lines (format jsonl)"
        )
    encoding = choose_encoding(path, settings.encoding, name)
    with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
        try:
            if settings.format == "csv":
                yield from _read_csv(handle, settings, name)
            elif settings.format == "jsonl":
                yield from _read_jsonl(handle, name)
            else:
                yield from _read_json(handle, name)
        except UnicodeDecodeError as exc:
            where = _undecodable(path, encoding) or f"byte {exc.start} of a block"
            raise FetchError(
                f"{name} is not valid {encoding} at {where}; declare the feed's encoding in "
                "the catalogue"
            ) from exc


# Byte-order marks, UTF-32's first: its little-endian mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# What charset detection is asked about: UTF-16 and UTF-32 without a byte-order mark, which it
# tells apart reliably. Asked about every charset, it took a GBK file with one bad byte for
# cp932 and a cp1252 file for cp1250, silently storing mojibake. (Big5 never gets this far:
# it decodes as GB18030, wrongly, so a Big5 feed declares its encoding.)
_DETECTABLE = ["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
# Detection reads a sample, not the whole file.
_SAMPLE = 8 * _CHUNK


def choose_encoding(path: Path, declared: str, name: str | None = None) -> str:
    """The encoding to read ``path`` with (see the module docstring); ``name`` is how errors
    name the file (``credithub resolve`` calls this with its own path). Raises FetchError."""
    name = path.name if name is None else name
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    for bom, encoding in _BOMS:
        # A mark wins over the declaration: an export switched to UTF-8 with BOM would
        # otherwise be read as GB18030 mojibake.
        if head.startswith(bom):
            return encoding
    declared = _ENCODING_ALIASES.get(declared, declared)
    if declared != "auto":
        try:
            codecs.lookup(declared)
        except LookupError as exc:
            raise FetchError(f"unknown encoding {declared!r} declared for {name}") from exc
        if declared == "utf-8":
            return "utf-8-sig"  # a BOM is not part of the first column's name
        return declared
    from charset_normalizer import from_bytes

    if len(head) == _SAMPLE:
        # Whole lines, and whole UTF-16/32 code units: a character cut short at the end of the
        # sample would rule its encoding out.
        cut = head.rfind(b"\n") + 1
        head = head[: cut + -cut % 4] if cut else head
    # UTF-8 and GB18030 text holds no NUL, UTF-16 many; and Latin text in UTF-16 decodes as
    # UTF-8 too, with a NUL after every letter: such a file goes to detection first.
    if b"\x00" in head:
        best = from_bytes(head, cp_isolation=_DETECTABLE).best()
        if best is not None:
            return str(best.encoding)
    failures = {}
    for candidate in ("utf-8", "gb18030"):
        failures[candidate] = _undecodable(path, candidate)
        if failures[candidate] is None:
            return candidate
    best = from_bytes(head, cp_isolation=_DETECTABLE).best()
    if best is not None:
        return str(best.encoding)
    raise FetchError(
        f"{name} is neither UTF-8 (invalid at {failures['utf-8']}) nor GB18030 (invalid "
        f"at {failures['gb18030']}); declare the feed's encoding in the catalogue"
    )


def _undecodable(path: Path, encoding: str) -> str | None:
    """Where ``path`` stops being ``encoding`` ("line 52 (bytes ff fe)"), or None when all of
    it is: read in blocks, counting lines, so the department can find the place."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 0
    with path.open("rb") as handle:
        for block in itertools.chain(iter(lambda: handle.read(_CHUNK), b""), [b""]):
            try:
                lines += decoder.decode(block, final=not block).count("\n")
            except UnicodeDecodeError as exc:
                # exc.object is what this call decoded: bytes held over from the last
                # block, then this one; all before exc.start decoded.
                before = exc.object[: exc.start].decode(encoding, "replace").count("\n")
                found = exc.object[exc.start : exc.end].hex(" ")
                return f"line {lines + before + 1} (bytes {found})"
    return None


class _LineTooLong(Exception):
    def __init__(self, head: str) -> None:
        super().__init__(f"longer than {MAX_LINE_CHARS:,} characters")
        self.head = head

    def row(self, name: str, number: int) -> Row:
        """The line as a record to quarantine: its start, and why."""
        payload = {"_raw": storable_text(self.head)}
        return RawRecord(payload, f"{name}:line {number}"), f"line {number} is {self}"


class _Lines:
    """A text file's lines, for the csv reader or one by one, each at most
    :data:`MAX_LINE_CHARS` long: a longer line is read on in blocks, never held whole, and
    raises :class:`_LineTooLong` with its start. Counts lines (``number``, the last one
    given), keeps the last line given (the text of a row the csv module refuses) and notes a
    NUL in any line given since ``nul`` was last cleared."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self._handle = handle
        self.number = 0
        self.last = ""
        self.nul = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_LINE_CHARS:
            head = line[:_RAW_CHARS]
            while line and not line.endswith(("\n", "\r")):
                line = self._handle.readline(_CHUNK)
            raise _LineTooLong(head)
        if "\x00" in line:
            self.nul = True
        self.last = line
        return line


def _column_names(cells: list[str], name: str) -> list[str]:
    """The header's cells as column names. A name given twice fails the file: which of the
    two columns a mapping would read is a guess, and a row can keep only one of them. Blank
    names (trailing delimiters) are told apart by position, ``column_N``, from the second on:
    the first keeps the name "" it always had, so payloads and their hashes do not change."""
    names: list[str] = []
    first: dict[str, int] = {}
    for position, cell in enumerate(cells, start=1):
        if cell in first:
            if cell:
                raise FetchError(
                    f"{name}: the header names column {cell!r} twice (columns {first[cell]} "
                    f"and {position}); each column needs its own name"
                )
            cell = f"column_{position}"
        first.setdefault(cell, position)
        names.append(cell)
    return names


def _read_csv(handle: io.TextIOBase, settings: FileDropSettings, name: str) -> Iterator[Row]:
    lines = _Lines(handle)
    reader = csv.reader(lines, delimiter=settings.delimiter)
    try:
        cells = next(reader)
    except StopIteration:
        return
    except (csv.Error, _LineTooLong) as exc:
        raise FetchError(f"{name}: header line is not valid CSV: {exc}") from exc
    if lines.nul:
        # Latin text in UTF-16 decodes as UTF-8 with a NUL after every letter.
        raise FetchError(
            f"{name}: the header holds NUL characters: UTF-16 without a byte-order mark? "
            "Declare the feed's encoding (utf-16-le or utf-16-be)"
        )
    header = _column_names([h.strip() for h in cells], name)
    while True:
        lines.nul = False
        try:
            row = next(reader)
        except StopIteration:
            return
        except _LineTooLong as exc:
            yield exc.row(name, lines.number)
            continue
        except csv.Error as exc:
            origin = f"{name}:line {lines.number}"
            payload = {"_raw": storable_text(lines.last[:_RAW_CHARS])}
            yield RawRecord(payload, origin), f"line {lines.number} is not valid CSV: {exc}"
            continue
        origin = f"{name}:line {lines.number}"
        if not any(cell.strip() for cell in row):
            continue
        if lines.nul:
            # PostgreSQL stores no NUL, in text or JSON: the row is kept as text, shown.
            payload = {"_raw": storable_text(settings.delimiter.join(row))}
            reason = f"line {lines.number} holds NUL characters (shown as \\u0000)"
            yield RawRecord(payload, origin), reason
            continue
        if len(row) != len(header):
            payload = {"_raw": settings.delimiter.join(row)}
            reason = f"line {lines.number} has {len(row)} fields, the header has {len(header)}"
            yield RawRecord(payload, origin), reason
            continue
        yield RawRecord(dict(zip(header, row, strict=True)), origin), None


def _read_jsonl(handle: io.TextIOBase, name: str) -> Iterator[Row]:
    lines = _Lines(handle)
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except _LineTooLong as exc:
            yield exc.row(name, lines.number)
            continue
        number = lines.number
        text = line.strip()
        if not text:
            continue
        origin = f"{name}:line {number}"
        raw = {"_raw": storable_text(text[:_RAW_CHARS])}
        try:
            value = loads(text)
        except JsonRefused as exc:
            yield RawRecord(raw, origin), f"line {number} {exc}"
            continue
        if not isinstance(value, dict):
            yield RawRecord(raw, origin), f"line {number} is not a JSON object"
            continue
        yield RawRecord(value, origin), None


def _read_json(handle: io.TextIOBase, name: str) -> Iterator[Row]:
    try:
        document = loads(handle.read())
    except JsonRefused as exc:
        raise FetchError(f"{name} {exc}") from exc
    items = document
    if isinstance(document, dict):
        items = document.get("items", document.get("records"))
    if not isinstance(items, list):
        raise FetchError(f"{name}: expected a JSON array or an object with 'items'")
    for number, value in enumerate(items, start=1):
        origin = f"{name}:item {number}"
        if isinstance(value, dict):
            yield RawRecord(value, origin), None
        else:
            yield RawRecord({"_raw": json.dumps(value)[:10000]}, origin), "item is not an object"


# An XLSX file is a zip of XML parts, and openpyxl holds some whole (the shared strings, each
# cell's text): what the parts would unpack to is checked before it opens them (zipfile never
# unpacks a part beyond the size the zip declares for it). Workbooks unpack to 5-20 times their
# size; a zip bomb, to thousands.
_MAX_UNPACKED_RATIO = 100
_UNPACKED_FLOOR = 64 << 20


def _check_unpacked_size(path: Path, name: str) -> None:
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    size = path.stat().st_size
    if unpacked > max(_UNPACKED_FLOOR, _MAX_UNPACKED_RATIO * size):
        raise FetchError(
            f"{name} would unpack to {unpacked >> 20:,} MB, {unpacked // max(size, 1):,} times "
            "its size: refused as a zip bomb"
        )


def _read_xlsx(path: Path, settings: FileDropSettings, name: str) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        _check_unpacked_size(path, name)
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FetchError(f"{name} is not a readable XLSX workbook: {exc}") from exc
    # Where reading is, for the message should a sheet turn out to be broken.
    reading, number = "", 0
    try:
        if settings.sheet and settings.sheet not in workbook.sheetnames:
            raise FetchError(f"{name} has no sheet {settings.sheet!r} ({workbook.sheetnames})")
        if not settings.sheet:
            # Reading the first sheet alone silently dropped the records of the others.
            filled = []
            for candidate in workbook.worksheets:
                reading = candidate.title
                if _has_values(candidate):
                    filled.append(candidate.title)
            if len(filled) > 1:
                raise FetchError(
                    f"{name} has data on sheets {', '.join(map(repr, filled))}; set the feed's "
                    "sheet to the one to read"
                )
        sheet = workbook[settings.sheet] if settings.sheet else workbook.worksheets[0]
        reading = sheet.title
        header: list[str] | None = None
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if not any(c not in (None, "") for c in cells):
                continue
            if header is None:
                header = _column_names(
                    [
                        str(c).strip() if c is not None else f"column_{i + 1}"
                        for i, c in enumerate(cells)
                    ],
                    name,
                )
                continue
            values = list(cells) + [None] * (len(header) - len(cells))
            if len(values) > len(header) and any(
                v not in (None, "") for v in values[len(header) :]
            ):
                payload = {"_raw": [str(v) for v in values]}
                reason = f"row {number} has values beyond the header's {len(header)} columns"
                yield RawRecord(payload, f"{name}:row {number}"), reason
                continue
            yield (
                RawRecord(
                    dict(zip(header, values[: len(header)], strict=True)), f"{name}:row {number}"
                ),
                None,
            )
    except (ParseError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        # Sheets are parsed as they are read: truncated XML, a character XML does not allow or
        # text in a number cell surfaced as the parser's own error (a traceback, every run).
        raise FetchError(
            f"{name} is not a readable XLSX workbook (sheet {reading!r}, after row {number}): {exc}"
        ) from exc
    finally:
        workbook.close()


def _has_values(sheet: Any) -> bool:
    # Stops at the first value: an empty sheet has no rows to walk, a full one is not read.
    return any(c not in (None, "") for row in sheet.iter_rows(values_only=True) for c in row)
