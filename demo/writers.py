"""The feed files, written chunk by chunk in each department's layout and encoding: the
registry's CSV (UTF-8 with BOM), the tax JSON lines, the monthly GBK penalty CSVs, the customs
XLSX, the court's JSON lines for the HTTP simulator, the wage-arrears exchange SQLite table,
and ``ground_truth.csv`` naming the entity of every record.

Each chunk is shuffled before it is written and numbered here (registry ids, decision and case
numbers, customs codes, sequence ids), so neither file order nor numbers follow the order the
entities were generated in.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from openpyxl import Workbook

from demo.draws import Permutation
from demo.feeds import (
    AS_OF,
    CUSTOMS_COLUMNS,
    CUSTOMS_MONTH,
    FEED_COURT,
    FEED_CUSTOMS,
    FEED_HRSS,
    FEED_PENALTIES,
    FEED_REGISTRY,
    FEED_TAX,
    GROUND_TRUTH_COLUMNS,
    PENALTY_COLUMNS,
    PENALTY_MONTHS,
    REGISTRY_COLUMNS,
    TAX_YEARS,
)
from demo.records import Chunk

__all__ = ["FeedPaths", "FeedWriter"]

# The fixed timestamp put into the XLSX package, so that the file is reproducible.
_XLSX_STAMP = (2026, 3, 31, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")

_K = TypeVar("_K")


@dataclass(frozen=True)
class FeedPaths:
    """Where each feed's files go under the output folder."""

    registry: Path
    tax: dict[int, Path]
    penalties: dict[tuple[int, int], Path]
    customs: Path
    court: Path
    hrss: Path
    truth: Path

    @classmethod
    def under(cls, out: Path) -> FeedPaths:
        drops = out / "drops"
        customs_month = f"{CUSTOMS_MONTH[0]}{CUSTOMS_MONTH[1]:02d}"
        return cls(
            registry=drops / FEED_REGISTRY / f"registry_{AS_OF:%Y%m%d}.csv",
            tax={y: drops / FEED_TAX / f"grades_{y}.jsonl" for y in TAX_YEARS},
            penalties={
                m: drops / FEED_PENALTIES / f"penalties_{m[0]}{m[1]:02d}.csv"
                for m in PENALTY_MONTHS
            },
            customs=drops / FEED_CUSTOMS / f"customs_credit_{customs_month}.xlsx",
            court=out / "http" / f"{FEED_COURT}.jsonl",
            hrss=out / "exchange" / "hrss.sqlite3",
            truth=out / "ground_truth.csv",
        )

    def by_feed(self) -> dict[str, tuple[Path, ...]]:
        """The files of each feed, in the order of :data:`demo.feeds.FEEDS`."""
        return {
            FEED_REGISTRY: (self.registry,),
            FEED_TAX: tuple(self.tax.values()),
            FEED_PENALTIES: tuple(self.penalties.values()),
            FEED_CUSTOMS: (self.customs,),
            FEED_COURT: (self.court,),
            FEED_HRSS: (self.hrss,),
        }


@dataclass
class _OpenFiles:
    """The writers of one run's files while they are open."""

    registry: Any  # csv writer
    tax: dict[int, TextIO]
    penalties: dict[tuple[int, int], Any]  # csv writers
    sheet: Any  # openpyxl write-only worksheet
    court: TextIO
    hrss: sqlite3.Connection
    truth: Any  # csv writer


class FeedWriter:
    """Writes the chunks of one run into the files of :class:`FeedPaths`.

    ``rng`` is the records' RNG (shared with :class:`demo.records.RecordPlanner`): the chunks
    are shuffled and numbered with it in the order they are planned.
    """

    def __init__(self, out_dir: Path, rng: random.Random) -> None:
        self.paths = FeedPaths.under(out_dir)
        self.rng = rng
        self.records: Counter[str] = Counter()
        self._reg_serial = 0
        self._hrss_serial = 0
        self._customs_codes = Permutation(rng, 10**6)
        self._decision_serials: dict[int, int] = {}
        self._case_serials: dict[tuple[int, str], int] = {}
        self._files: _OpenFiles | None = None

    @contextmanager
    def open(self) -> Iterator[None]:
        """Create (overwrite) the files; on success commit the database, save the workbook
        and pin its timestamps. On an error the files are closed as they are."""
        paths = self.paths
        for path in (paths.registry, *paths.tax.values(), *paths.penalties.values()):
            path.parent.mkdir(parents=True, exist_ok=True)
        for path in (paths.customs, paths.court, paths.hrss):
            path.parent.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:

            def text(path: Path, encoding: str) -> TextIO:
                return stack.enter_context(path.open("w", encoding=encoding, newline=""))

            # Real Excel exports carry a BOM and CRLF line ends.
            registry = csv.writer(text(paths.registry, "utf-8-sig"))
            registry.writerow(REGISTRY_COLUMNS)
            tax = {y: text(p, "utf-8") for y, p in paths.tax.items()}
            penalties = {}
            for month, path in paths.penalties.items():
                penalties[month] = csv.writer(text(path, "gbk"))
                penalties[month].writerow(PENALTY_COLUMNS)
            court = text(paths.court, "utf-8")
            truth = csv.writer(text(paths.truth, "utf-8"), lineterminator="\n")
            truth.writerow(GROUND_TRUTH_COLUMNS)

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("海关企业信用等级")
            sheet.append(list(CUSTOMS_COLUMNS))

            paths.hrss.unlink(missing_ok=True)
            hrss = sqlite3.connect(paths.hrss)
            stack.callback(hrss.close)
            hrss.execute(
                "CREATE TABLE arrears_blacklist (seq_id INTEGER PRIMARY KEY, party_name TEXT, "
                "uscc TEXT, legal_rep TEXT, listed_on TEXT, reason TEXT, authority TEXT, "
                "updated_at TEXT)"
            )
            self._files = _OpenFiles(registry, tax, penalties, sheet, court, hrss, truth)
            try:
                yield
            finally:
                self._files = None
            hrss.commit()
            workbook.save(paths.customs)
        _normalise_xlsx(paths.customs)

    def write(self, chunk: Chunk) -> None:
        """Shuffle the chunk's records, number them and write them with their ground truth."""
        if self._files is None:
            raise RuntimeError("write() outside open()")
        rng = self.rng
        # Shuffle so that neither file order nor the numbers handed out here follow the order
        # entities were generated in.
        rng.shuffle(chunk.registry)
        rng.shuffle(chunk.tax)
        rng.shuffle(chunk.penalties)
        rng.shuffle(chunk.customs)
        rng.shuffle(chunk.court)
        rng.shuffle(chunk.hrss)
        # One feed after the other: the ground truth lists them in this order.
        self._write_registry(self._files, chunk)
        self._write_tax(self._files, chunk)
        self._write_penalties(self._files, chunk)
        self._write_customs(self._files, chunk)
        self._write_court(self._files, chunk)
        self._write_hrss(self._files, chunk)

    def _serial(self, serials: dict[_K, int], key: _K, first_max: int, step_max: int) -> int:
        """The next document number of a series: increasing, unique, with gaps.

        Other parties' documents are numbered in the same series, so a department's numbers
        neither start at 1 nor come without gaps.
        """
        serial = serials.get(key)
        serial = (
            self.rng.randint(1, first_max)
            if serial is None
            else serial + self.rng.randint(1, step_max)
        )
        serials[key] = serial
        return serial

    # ----------------------------------------------------------------- one feed each

    def _write_registry(self, files: _OpenFiles, chunk: Chunk) -> None:
        for entity_key, row in chunk.registry:
            self._reg_serial += 1
            row[0] = f"SAMR-{self._reg_serial:06d}"
            files.registry.writerow(row)
            files.truth.writerow((FEED_REGISTRY, row[0], entity_key))
        self.records[FEED_REGISTRY] += len(chunk.registry)

    def _write_tax(self, files: _OpenFiles, chunk: Chunk) -> None:
        for entity_key, record in chunk.tax:
            files.tax[record["year"]].write(json.dumps(record, ensure_ascii=False) + "\n")
            source_key = f"{record['taxpayer_id']}+{record['year']}"
            files.truth.writerow((FEED_TAX, source_key, entity_key))
        self.records[FEED_TAX] += len(chunk.tax)

    def _write_penalties(self, files: _OpenFiles, chunk: Chunk) -> None:
        for entity_key, row, decided in chunk.penalties:
            serial = self._serial(self._decision_serials, decided.year, 300, 9)
            row[7] = f"京环罚〔{decided.year}〕{serial}号"
            files.penalties[(decided.year, decided.month)].writerow(row)
            files.truth.writerow((FEED_PENALTIES, row[7], entity_key))
        self.records[FEED_PENALTIES] += len(chunk.penalties)

    def _write_customs(self, files: _OpenFiles, chunk: Chunk) -> None:
        for entity_key, values, prefix in chunk.customs:
            values[2] = f"{prefix}{self._customs_codes.next():06d}"
            # A datetime.date cell gets openpyxl's "yyyy-mm-dd" number format: a real date.
            files.sheet.append(values)
            files.truth.writerow((FEED_CUSTOMS, values[2], entity_key))
        self.records[FEED_CUSTOMS] += len(chunk.customs)

    def _write_court(self, files: _OpenFiles, chunk: Chunk) -> None:
        for entity_key, record, court_code, year in chunk.court:
            serial = self._serial(self._case_serials, (year, court_code), 20_000, 40)
            record["case_number"] = f"（{year}）{court_code}执{serial}号"
            files.court.write(json.dumps(record, ensure_ascii=False) + "\n")
            files.truth.writerow((FEED_COURT, record["case_number"], entity_key))
        self.records[FEED_COURT] += len(chunk.court)

    def _write_hrss(self, files: _OpenFiles, chunk: Chunk) -> None:
        rows = []
        for entity_key, row in chunk.hrss:
            self._hrss_serial += 1
            row[0] = self._hrss_serial
            rows.append(row)
            files.truth.writerow((FEED_HRSS, str(row[0]), entity_key))
        files.hrss.executemany(
            "INSERT INTO arrears_blacklist VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        self.records[FEED_HRSS] += len(rows)


def _normalise_xlsx(path: Path) -> None:
    """Pin the timestamps openpyxl puts into the package, so one seed gives one file."""
    stamp = datetime(*_XLSX_STAMP).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_XLSX_STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, data)
    path.write_bytes(buffer.getvalue())
