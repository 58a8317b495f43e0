"""Export benchmark: the ``records`` report of N credit records to CSV and XLSX through the
product's export path (``app.reports.services.export_report`` as the CLI calls it: an
analyst's view, visibility, masking, audit), against the baseline ``pandas.read_sql`` of the
same SELECT + ``DataFrame.to_csv``, in the same run on the same SQLite database.

    .venv/bin/python -m benchmarks.export [--rows 1000000] [--out DIR]

The database is built first with Core bulk inserts (departments, feeds, entities with their
codes, one source record per credit record), migrated with ``app.migrate.upgrade``. Each
measured phase runs in its own process, so its peak memory (max RSS) is its own. The last
line printed is one JSON object. Target (issue 6): CreditHub's CSV at least as fast as the
baseline with at most a quarter of its peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

TODAY = date(2026, 6, 1)
_INSERT_BATCH = 20_000
PERSON_SHARE = 10  # one entity in ten is a natural person
_DEPARTMENTS = [
    ("EPB", "北京市生态环境局"),
    ("SAMR", "北京市市场监督管理局"),
    ("COURT", "北京市高级人民法院"),
    ("TAX", "国家税务总局北京市税务局"),
]


def _uscc(n: int) -> str:
    from stdnum.cn import uscc

    from matching.org_codes import org_code_check_char

    body = f"{n:08d}"
    base = f"91110000{body}{org_code_check_char(body)}"
    return base + uscc.calc_check_digit(base)


def _resident_id(n: int) -> str:
    from stdnum.cn import ric

    born = date(1960, 1, 1) + timedelta(days=n % 15000)
    body = f"110105{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def phase_build(db_path: Path, rows: int, url: str | None = None) -> dict[str, float]:
    """A fresh migrated database with ``rows`` credit records (penalties, list entries):
    the SQLite file ``db_path``, or the empty database at ``url`` (``credit_checks`` builds
    a PostgreSQL one this way)."""
    from sqlalchemy import insert

    from core.db import make_engine
    from core.migrate import upgrade
    from core.models import Department, Feed

    started = time.perf_counter()
    url = url or f"sqlite:///{db_path}"
    upgrade(url)
    engine = make_engine(url)
    departments = [
        {"id": i + 1, "code": code, "name": name} for i, (code, name) in enumerate(_DEPARTMENTS)
    ]
    feeds = [_feed(d) for d in departments]
    n_entities = max(1, rows // 5)
    with engine.begin() as conn:
        conn.execute(insert(Department), departments)
        conn.execute(insert(Feed), feeds)
        _insert_entities(conn, n_entities)
        _insert_records(conn, rows, n_entities, feeds, departments)
    engine.dispose()
    return {"seconds": time.perf_counter() - started, "rows": float(rows)}


def _feed(department: dict[str, Any]) -> dict[str, Any]:
    """The department's one feed: the court lists dishonest debtors, the others penalise."""
    return {
        "id": department["id"],
        "code": f"{department['code'].lower()}-feed",
        "name": f"{department['name']}数据",
        "department_id": department["id"],
        "format": "csv",
        "record_category": "list_entry" if department["code"] == "COURT" else "penalty",
        "data_items": [],
        "sharing_type": "unconditional",
        "sharing_conditions": {},
        "adapter": "push",
        "adapter_settings": {},
        "field_mapping": {},
    }


def _insert_entities(conn: Connection, n_entities: int) -> None:
    """Entities 1..n_entities, each with its valid code (one in ten a natural person)."""
    from sqlalchemy import insert

    from core.models import Entity, EntityIdentifier, new_public_id, search_key_values
    from core.models.enums import EntityKind

    for start in range(0, n_entities, _INSERT_BATCH):
        entities, identifiers = [], []
        for n in range(start + 1, min(start + _INSERT_BATCH, n_entities) + 1):
            person = n % PERSON_SHARE == 0
            kind = EntityKind.NATURAL_PERSON if person else EntityKind.LEGAL_ENTITY
            code = _resident_id(n) if person else _uscc(n)
            entities.append(
                {
                    "id": n,
                    "public_id": new_public_id(kind),
                    "kind": kind.value,
                    "display_name": f"张伟{n}" if person else f"北京测试{n}科技有限公司",
                    "region_code": code[:6] if person else code[2:8],
                }
            )
            identifiers.append(
                {
                    "entity_id": n,
                    "id_type": "resident_id" if person else "uscc",
                    "value": code,
                    "valid": True,
                }
            )
        for row in entities:
            row.update(search_key_values(row["display_name"]))
        conn.execute(insert(Entity), entities)
        conn.execute(insert(EntityIdentifier), identifiers)


def _insert_records(
    conn: Connection,
    rows: int,
    n_entities: int,
    feeds: list[dict[str, Any]],
    departments: list[dict[str, Any]],
) -> None:
    """Credit records 1..rows, each with the source record it came from, round robin over
    the feeds and the entities."""
    from sqlalchemy import insert

    from core.models import CreditRecord, SourceRecord

    for start in range(0, rows, _INSERT_BATCH):
        sources, credits = [], []
        for i in range(start + 1, min(start + _INSERT_BATCH, rows) + 1):
            feed = feeds[i % len(feeds)]
            sources.append(
                {
                    "id": i,
                    "feed_id": feed["id"],
                    "source_key": f"k{i}",
                    "version": 1,
                    "raw_payload": {},
                    "payload_hash": f"{i:064x}",
                    "status": "accepted",
                }
            )
            credits.append(_credit_record(i, feed, i % n_entities + 1, departments))
        conn.execute(insert(SourceRecord), sources)
        conn.execute(insert(CreditRecord), credits)


def _credit_record(
    i: int, feed: dict[str, Any], entity: int, departments: list[dict[str, Any]]
) -> dict[str, Any]:
    person = entity % PERSON_SHARE == 0
    listed = feed["record_category"] == "list_entry"
    decided = date(2024, 1, 1) + timedelta(days=i % 880)
    title = None
    if person:
        # Free text naming an id number: masking has real work to do.
        title = f"张伟{entity}（身份证 {_resident_id(entity)}）拒不履行"
    return {
        "id": i,
        "source_record_id": i,
        "feed_id": feed["id"],
        "department_id": feed["department_id"],
        "entity_id": entity,
        "link_confidence": 1.0,
        "category": feed["record_category"],
        "subtype": None if listed else "罚款",
        "severity": None if listed else ("general", "serious", "minor")[i % 3],
        "status": "active",
        "party_name": f"张伟{entity}" if person else f"北京测试{entity}科技有限公司",
        "decision_number": f"京罚〔2026〕{i}号",
        "title": title,
        "decision_date": decided,
        "publicity_end": decided + timedelta(days=365),
        "authority_name": departments[feed["department_id"] - 1]["name"],
        "fine_amount": None if listed else (i % 500) * 100 + 0.5,
        "list_name": "失信被执行人名单" if listed else None,
        "extra": {},
    }


def _cpu() -> float:
    """CPU seconds of this process (user + system): what the work cost, whatever else the
    shared machine was running at the time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _analyst() -> Any:
    from core.models import ApiClient, Role

    return ApiClient(name="bench-analyst", role=Role.ANALYST)


def phase_baseline(db_path: Path, out_path: Path) -> dict[str, float]:
    """``pandas.read_sql`` of the records report's own SELECT (same rows, same columns, no
    masking) and ``to_csv``."""
    import pandas as pd

    from app.entities.services import viewer_for
    from app.reports.filters import ReportFilters
    from app.reports.rows.context import ReportContext
    from app.reports.rows.records import records_statement
    from core.db import make_engine, make_session_factory
    from core.rules.settings import GradeRules

    engine = make_engine(f"sqlite:///{db_path}")
    with make_session_factory(engine)() as session:
        ctx = ReportContext(
            session=session,
            viewer=viewer_for(session=session, client=_analyst(), today=TODAY),
            filters=ReportFilters(),
            grade_rules=GradeRules(),
        )
        sql = str(records_statement(ctx).compile(engine, compile_kwargs={"literal_binds": True}))
    started, cpu_started = time.perf_counter(), _cpu()
    with engine.connect() as conn:
        frame = pd.read_sql(sql, conn)
    frame.to_csv(out_path, index=False)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
    engine.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": float(len(frame)),
        "bytes": float(out_path.stat().st_size),
    }


def phase_credithub(db_path: Path, out_path: Path, fmt: str, chunk_size: int) -> dict[str, float]:
    """The export as ``credithub report records --as-role analyst --format FMT`` runs it."""
    from app.reports.services import export_report, parse_filters
    from core.db import UnitOfWork, make_engine, make_session_factory
    from core.rules.settings import GradeRules

    engine = make_engine(f"sqlite:///{db_path}")
    started, cpu_started = time.perf_counter(), _cpu()
    with UnitOfWork(make_session_factory(engine)) as uow:
        filters, fmt = parse_filters("records", {"format": fmt})
        export = export_report(
            session=uow.session,
            client=_analyst(),
            name="records",
            filters=filters,
            fmt=fmt,
            today=TODAY,
            grade_rules=GradeRules(),
            chunk_size=chunk_size,
        )
        uow.commit()
        with out_path.open("wb") as out:
            for piece in export.chunks:
                out.write(piece)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
    engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "bytes": float(out_path.stat().st_size)}


def run_phase(args: list[str]) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.export", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=None, help="Keep the database and files here.")
    parser.add_argument("--skip-xlsx", action="store_true", help="Measure CSV only.")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="Measure on the database an earlier run left in --out (same --rows).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="Runs of baseline and CSV, interleaved; the fastest of each counts (the machine "
        "is shared: the minimum is the least disturbed run).",
    )
    parser.add_argument(
        "--phase", choices=["build", "baseline", "csv", "xlsx"], help=argparse.SUPPRESS
    )
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "build":
            result = phase_build(args.db, args.rows)
        elif args.phase == "baseline":
            result = phase_baseline(args.db, args.file)
        else:
            result = phase_credithub(args.db, args.file, args.phase, args.chunk_size)
        # ru_maxrss is in KiB on Linux.
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    keep = args.out is not None
    workdir = args.out or Path(tempfile.mkdtemp(prefix="credithub-export-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "export.db"
    if not (args.reuse_db and db.exists()):
        for stale in workdir.glob("export.db*"):
            stale.unlink()
    try:
        figures = _measure(args, workdir, db)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures))


def _measure(args: argparse.Namespace, workdir: Path, db: Path) -> dict[str, Any]:
    if db.exists():
        print(f"reusing {db}")
    else:
        built = run_phase(["--phase", "build", "--db", str(db), "--rows", str(args.rows)])
        print(f"built {args.rows:,} credit records in {built['seconds']:.1f} s ({db})")
    chunk = ["--chunk-size", str(args.chunk_size)]
    baselines, csvs = [], []
    for run in range(1, max(args.repeat, 1) + 1):
        baseline = run_phase(
            ["--phase", "baseline", "--db", str(db), "--file", str(workdir / "baseline.csv")]
        )
        print(
            f"run {run} baseline  read_sql + to_csv: {baseline['seconds']:.1f} s "
            f"(cpu {baseline['cpu_seconds']:.1f} s), "
            f"peak {baseline['peak_rss_mb']:.0f} MB, {baseline['rows']:,.0f} rows"
        )
        csv = run_phase(
            ["--phase", "csv", "--db", str(db), "--file", str(workdir / "records.csv"), *chunk]
        )
        print(
            f"run {run} credithub CSV export:        {csv['seconds']:.1f} s "
            f"(cpu {csv['cpu_seconds']:.1f} s), "
            f"peak {csv['peak_rss_mb']:.0f} MB"
        )
        baselines.append(baseline)
        csvs.append(csv)
    baseline = min(baselines, key=lambda r: r["seconds"])
    csv = min(csvs, key=lambda r: r["seconds"])
    # Peak memory does not depend on load: the largest seen is reported.
    baseline["peak_rss_mb"] = max(r["peak_rss_mb"] for r in baselines)
    csv["peak_rss_mb"] = max(r["peak_rss_mb"] for r in csvs)
    baseline["cpu_seconds"] = min(r["cpu_seconds"] for r in baselines)
    csv["cpu_seconds"] = min(r["cpu_seconds"] for r in csvs)
    figures: dict[str, Any] = {
        "rows": args.rows,
        "repeat": max(args.repeat, 1),
        "baseline_seconds": round(baseline["seconds"], 2),
        "baseline_peak_mb": round(baseline["peak_rss_mb"]),
        "baseline_rows": int(baseline["rows"]),
        "csv_seconds": round(csv["seconds"], 2),
        "csv_peak_mb": round(csv["peak_rss_mb"]),
        "csv_speed_ratio": round(baseline["seconds"] / csv["seconds"], 3),
        "baseline_cpu_seconds": round(baseline["cpu_seconds"], 2),
        "csv_cpu_seconds": round(csv["cpu_seconds"], 2),
        "csv_cpu_ratio": round(baseline["cpu_seconds"] / csv["cpu_seconds"], 3),
        "csv_memory_ratio": round(csv["peak_rss_mb"] / baseline["peak_rss_mb"], 3),
        "target_speed_ratio_min": 1.0,
        "target_memory_ratio_max": 0.25,
    }
    if not args.skip_xlsx:
        xlsx = run_phase(
            ["--phase", "xlsx", "--db", str(db), "--file", str(workdir / "records.xlsx"), *chunk]
        )
        print(
            f"credithub XLSX export:       {xlsx['seconds']:.1f} s, "
            f"peak {xlsx['peak_rss_mb']:.0f} MB, {xlsx['bytes'] / 2**20:.0f} MiB"
        )
        figures.update(
            xlsx_seconds=round(xlsx["seconds"], 2),
            xlsx_peak_mb=round(xlsx["peak_rss_mb"]),
            xlsx_speed_ratio=round(baseline["seconds"] / xlsx["seconds"], 3),
            xlsx_cpu_seconds=round(xlsx["cpu_seconds"], 2),
            xlsx_memory_ratio=round(xlsx["peak_rss_mb"] / baseline["peak_rss_mb"], 3),
        )
    print(
        f"CSV vs baseline: {figures['csv_speed_ratio']:.2f}x as fast (target >= 1), "
        f"{figures['csv_memory_ratio']:.2f} of its peak memory (target <= 0.25); "
        f"CPU time {figures['csv_cpu_ratio']:.2f}x less"
    )
    figures["meets_target"] = (
        figures["csv_speed_ratio"] >= 1.0 and figures["csv_memory_ratio"] <= 0.25
    )
    return figures


if __name__ == "__main__":
    main()
