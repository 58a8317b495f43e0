"""The service path of entity resolution: generated feeds ingested through the pipeline into a
database (file drops as ``make run`` reads them), and the entities the database then holds.

    python -m benchmarks.service_path [--entities 8873] [--seed 7] [--out DIR] [--profile]

alone ingests the generated feeds (made under ``--out`` unless there already) into a fresh
SQLite database with the service's training settings (``CREDITHUB_MATCHING_*``), as the
matching benchmark's ``service`` system does, and prints wall and CPU seconds; ``--profile``
runs it under cProfile timed in CPU seconds (other jobs on a shared machine do not count)
and prints the time by pipeline stage, linking-engine part and training step
(:mod:`benchmarks.ingest_stages`). 8,873 entities are the matching benchmark's 20k records.

Used by the matching benchmark (:mod:`benchmarks.matching`, the ``service`` system) and by
``tests/resolution/test_one_engine.py``, which checks that ingest and ``credithub resolve``
give the same clusters.

:func:`ingest_generated` syncs ``sample_data/catalogue.toml`` with every feed read from the
generated files: the file drops as they are, the court's HTTP feed as a file drop of the JSON
lines the simulator would serve, the HR exchange database from its SQLite file. No network.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

CATALOGUE = Path(__file__).resolve().parent.parent / "sample_data" / "catalogue.toml"

__all__ = [
    "generated_catalogue",
    "ingest_generated",
    "ingest_table",
    "record_entities",
    "stored_match_records",
]


def generated_catalogue(out_dir: Path) -> dict[str, Any]:
    """The demo catalogue with every feed reading the files generated under ``out_dir``."""
    raw = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    for feed in raw["feeds"]:
        adapter = feed["adapter"]
        if adapter["kind"] == "file_drop":
            adapter["path"] = str(out_dir / "drops" / feed["code"])
        elif adapter["kind"] == "http_pull":
            feed["format"] = "jsonl"
            feed["adapter"] = {"kind": "file_drop", "path": str(out_dir / "http")}
        elif adapter["kind"] == "exchange_db":
            adapter["sqlite_path"] = str(out_dir / "exchange" / "hrss.sqlite3")
    return raw


def ingest_generated(
    session_factory: sessionmaker[Session],
    out_dir: Path,
    *,
    reverse: bool = False,
    on_feed: Callable[[str, Any], None] | None = None,
    training: Any = None,
) -> list[str]:
    """Ingest every feed generated under ``out_dir`` (``demo.generator.generate_feeds``) in
    catalogue order (``reverse``: the other way round); returns the feed codes in the order
    run. ``on_feed(code, summary)`` after each feed. ``training``: the
    ``ingest.auto_training.TrainingPolicy`` each run checks at its end, as the CLI and the
    scheduler pass the config's (None: none). Raises RuntimeError when a run fails."""
    from ingest.catalogue import parse_catalogue, sync_catalogue
    from ingest.runner import run_feed

    out_dir = out_dir.resolve()  # the catalogue's relative paths are read from its folder
    catalogue = parse_catalogue(generated_catalogue(out_dir), base_dir=out_dir)
    with session_factory() as session:
        sync_catalogue(session=session, catalogue=catalogue)
        session.commit()
    codes = [feed["code"] for feed in catalogue.feeds]
    if reverse:
        codes.reverse()
    for code in codes:
        summary = run_feed(session_factory=session_factory, feed_code=code, training=training)
        if summary.error:
            raise RuntimeError(f"feed {code}: {summary.error}")
        if on_feed is not None:
            on_feed(code, summary)
    return codes


def record_entities(session: Session) -> dict[str, int]:
    """``feed:source_key`` of every record in force → the id of the entity it belongs to
    (the survivor of merges), read from the credit records."""
    from core.models import CreditRecord, Feed, SourceRecord
    from resolution.survivors import survivor_map

    survivors = survivor_map(session)
    rows = session.execute(
        select(Feed.code, SourceRecord.source_key, CreditRecord.entity_id)
        .join(SourceRecord, SourceRecord.id == CreditRecord.source_record_id)
        .join(Feed, Feed.id == SourceRecord.feed_id)
    )
    return {
        f"{code}:{key}": survivors.get(entity_id, entity_id)
        for code, key, entity_id in rows
        if entity_id is not None
    }


def stored_match_records(session: Session) -> tuple[list[Any], dict[str, int]]:
    """The records exactly as ingest's matcher saw them (their stored views, in the order they
    were linked) and the entity (survivor) each answers for now, by matcher record id."""
    from core.models import RecordMatchView
    from resolution.record_views import match_record_of
    from resolution.survivors import survivor_map

    survivors = survivor_map(session)
    records = []
    entities = {}
    for source_id, entity_id, view in session.execute(
        select(
            RecordMatchView.source_record_id, RecordMatchView.entity_id, RecordMatchView.view
        ).order_by(RecordMatchView.source_record_id)
    ):
        record = match_record_of(source_id, view)
        records.append(record)
        entities[record.record_id] = survivors.get(entity_id, entity_id)
    return records, entities


TABLE_FEED = "bench-records"
# A benchmark table's columns as the canonical fields of one registry feed: every field the
# `credithub` system (benchmarks.credithub_runner.match_records) gives the matcher.
_TABLE_FIELDS = (
    "party_name",
    "party_type",
    "uscc",
    "org_code",
    "registration_number",
    "id_number",
    "code",
    "legal_rep",
    "address",
    "postcode",
    "phone",
    "birth_date",
)
_PARTY_TYPES = {
    "natural_person": "01",
    "legal_entity": "02",
    "other_organization": "03",
    "individual_business": "04",
}


def table_catalogue(folder: Path) -> dict[str, Any]:
    """A catalogue of one department and one file-drop registry feed reading ``folder``."""
    raw = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    feed = dict(next(f for f in raw["feeds"] if f["code"] == "samr-registry"))
    feed.update(
        code=TABLE_FEED,
        name="benchmark records",
        format="csv",
        adapter={"kind": "file_drop", "path": str(folder), "encoding": "utf-8"},
        field_mapping={"source_key": "record_id", "fields": {f: f for f in _TABLE_FIELDS}},
    )
    return {"departments": [raw["departments"][0]], "feeds": [feed]}


def write_table_feed(table: Any, folder: Path) -> int:
    """Write a benchmark table (:mod:`benchmarks.datasets` columns) as the feed's CSV file;
    returns the number of rows. A birth date the service would refuse (FEBRL's 19751332) is
    left out, as ``credithub resolve`` ignores it, so the record is not quarantined."""
    from marshmallow import ValidationError

    from ingest.fields import BirthDate

    folder.mkdir(parents=True, exist_ok=True)
    reader = BirthDate()
    count = 0
    with (folder / "records.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", *_TABLE_FIELDS])
        for row in table.to_dict("records"):
            birth = row.get("birth_date") or ""
            if birth:
                try:
                    reader.deserialize(birth)
                except ValidationError:
                    birth = ""
            values = {
                "party_name": row.get("name") or "",
                "party_type": _PARTY_TYPES.get(row.get("kind") or "", ""),
                "birth_date": birth,
                **{f: row.get(f) or "" for f in _TABLE_FIELDS[2:11]},
            }
            writer.writerow([row["source_key"], *(values[f] for f in _TABLE_FIELDS)])
            count += 1
    return count


def ingest_table(
    session_factory: sessionmaker[Session], table: Any, folder: Path, *, training: Any = None
) -> None:
    """Ingest a benchmark table through one file-drop feed (the whole file as the feed's
    batches); ``training`` as for :func:`ingest_generated`. Raises RuntimeError when the run
    fails."""
    from ingest.catalogue import parse_catalogue, sync_catalogue
    from ingest.runner import run_feed

    folder = folder.resolve()
    write_table_feed(table, folder)
    catalogue = parse_catalogue(table_catalogue(folder), base_dir=folder)
    with session_factory() as session:
        sync_catalogue(session=session, catalogue=catalogue)
        session.commit()
    summary = run_feed(session_factory=session_factory, feed_code=TABLE_FEED, training=training)
    if summary.error:
        raise RuntimeError(f"feed {TABLE_FEED}: {summary.error}")


def main(argv: list[str] | None = None) -> dict[str, float]:
    """The command line above; returns the figures printed (seconds, CPU seconds, stages)."""
    import argparse
    import cProfile
    import tempfile
    import time

    from benchmarks.ingest_stages import print_engine_stages, print_stages, stage_seconds
    from core.config import Config
    from core.db import make_engine, make_session_factory
    from core.migrate import upgrade
    from demo.generator import generate_feeds
    from ingest.auto_training import policy_of

    parser = argparse.ArgumentParser(prog="python -m benchmarks.service_path")
    parser.add_argument("--entities", type=int, default=8873)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/matching"))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    folder = args.out / f"chinese-{args.entities}e-seed{args.seed}"
    if not (folder / "drops").is_dir():
        generate_feeds(entities=args.entities, out_dir=folder, seed=args.seed)
    training = policy_of(Config.from_env())
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/service.sqlite3"
        upgrade(url)
        engine = make_engine(url)
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        ingest_generated(make_session_factory(engine), folder, training=training)
        if profiler is not None:
            profiler.disable()
        figures = {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
        }
        engine.dispose()
        print(f"service path, {folder.name}: {figures['seconds']:.1f} s, "
              f"{figures['cpu_seconds']:.1f} CPU s")  # fmt: skip
        if profiler is not None:
            stats = Path(work) / "service.prof"
            profiler.dump_stats(stats)
            stages = stage_seconds(stats)
            # Feed runs: their batches and the training check after each.
            total = stages.get("store_batch (everything of a batch)", 0.0) + stages.get(
                "training check after a run", 0.0
            )
            print_stages(stages, figures["cpu_seconds"])
            print_engine_stages(stages, total or figures["cpu_seconds"])
            figures.update(stages)
    return figures


if __name__ == "__main__":
    main()
