"""Ingest benchmark: a CSV penalty feed end to end (parse, validate, store, link by identifier)
on SQLite and on PostgreSQL, each against the raw baseline (pandas ``read_csv`` + one bulk
insert of the same rows into the same kind of database), measured in the same run on the same
machine; then two feeds ingested at once by two processes into one database, against one.

    .venv/bin/python -m benchmarks.ingest [--rows 1000000] [--backend sqlite|postgresql|both]
                                          [--out DIR] [--outbox-cost] [--profile] [--no-parallel]

PostgreSQL runs on a throw-away server started here from the machine's binaries
(``tests.support.postgres``, as the API benchmark does), a new database for each phase.

For each backend it prints the baseline, CreditHub end to end, the storage floor (CreditHub's
stored rows written again by the raw driver: ``executemany`` on SQLite, ``COPY`` on
PostgreSQL), records/s and peak memory of each, and the ratio to the baseline. The parallel
run (``benchmarks.ingest_parallel``) ingests a second feed of as many rows, by another
department about the same companies, at the same time as the first, each in its own
process, and prints both feeds' records/s against the one-feed run and the scaling ratio;
it then checks the database: every record stored once, accepted + quarantined = delivered,
one credit record per accepted record, one entity per company.

``--outbox-cost`` also measures what the change events cost (issue 16: every new credit row
gets its ``record.created`` outbox row in the same transaction): the end-to-end run again with
the outbox hooks switched off, both runs twice, alternating, the fastest of each counting.
``--profile`` runs CreditHub's phase under cProfile and prints where its time goes by stage
(the profile itself is kept in ``--out``).

Every row in a hundred is dated in the future, so that ingest quarantines it (the counts must
balance). Each phase runs in its own process so its peak memory (max RSS) is its own. The last
line printed is one JSON object with the figures, by backend. Targets (issue 3): end to end at
least 25% of the baseline's records/s, peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HEADER = "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_XZCFJDSWH,CF_CFLB,CF_NR_FK,CF_JDRQ,CF_CFJG"


# Every BAD_EVERY-th row is dated in the future: ingest quarantines it (ingest/value_checks.py).
BAD_EVERY = 100


def write_feed(path: Path, rows: int, *, prefix: str = "京环罚") -> None:
    """``rows`` penalties about ``rows // 5`` companies; decision numbers start with
    ``prefix`` (a second feed about the same companies takes another)."""
    from benchmarks.export import _uscc

    # Decided in 2025: ingest quarantines a decision dated after today (ingest/value_checks.py),
    # and 2026 dates ran past it from December 2026 on; every BAD_EVERY-th row on purpose.
    entities = max(1, rows // 5)
    codes = [_uscc(n + 1) for n in range(entities)]
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            e = i % entities
            day = f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
            if i % BAD_EVERY == BAD_EVERY - 1:
                day = "2099-01-01"
            out.write(
                f"测试{e}科技有限公司,法人及非法人组织,{codes[e]},{prefix}〔2026〕{i}号,罚款,"
                f"{(i % 50) / 10:.1f},{day},北京市生态环境局\n"
            )


def phase_baseline(csv_path: Path, url: str) -> dict[str, float]:
    import pandas as pd
    from sqlalchemy import create_engine

    started, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    engine = create_engine(url)
    frame.to_sql("raw_rows", engine, index=False, chunksize=10_000)
    engine.dispose()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "rows": float(len(frame)),
    }


def _switch_off_outbox() -> None:
    """The service without its change events, for ``--outbox-cost`` only: the ORM listener
    and ingest's bulk hook (``core/outbox.py``) are the only two places events are written."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import ingest.pipeline.credits_and_links as credits_and_links
    from core import outbox

    event.remove(Session, "before_flush", outbox._record_changes)
    credits_and_links.emit_inserted = lambda session, rows: None  # type: ignore[assignment]


# The departments of the benchmark's feeds, by position: the first feed is EPB's.
_DEPARTMENTS = (("EPB", "生态环境局"), ("TAX", "税务局"))


def prepare_database(url: str, feeds: list[tuple[str, Path]], chunk_size: int) -> None:
    """Migrate ``url`` and put the feeds in its catalogue: ``(code, csv file)`` each, a file
    drop of its own department watching the file's folder for that file."""
    from core.db import make_engine, make_session_factory
    from core.migrate import upgrade
    from ingest.catalogue import parse_catalogue, sync_catalogue

    upgrade(url)
    entries = [
        {
            "code": code,
            "name": f"benchmark penalties {code}",
            "department": _DEPARTMENTS[n][0],
            "format": "csv",
            "record_category": "penalty",
            "sharing_type": "unconditional",
            "adapter": {
                "kind": "file_drop",
                "path": str(csv_path.parent),
                "pattern": csv_path.name,
                "encoding": "utf-8",
                "chunk_size": chunk_size,
            },
            "field_mapping": {"preset": "double_publicity_penalty"},
        }
        for n, (code, csv_path) in enumerate(feeds)
    ]
    departments = [{"code": c, "name": name} for c, name in _DEPARTMENTS[: len(feeds)]]
    catalogue = parse_catalogue(
        {"departments": departments, "feeds": entries}, base_dir=feeds[0][1].parent
    )
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        sync_catalogue(session=session, catalogue=catalogue)
        session.commit()
    engine.dispose()


def phase_credithub(
    csv_path: Path,
    url: str,
    chunk_size: int,
    *,
    outbox: bool = True,
    profile: Path | None = None,
) -> dict[str, Any]:
    """The feed run end to end on a migrated database; under cProfile with ``profile`` (the
    stats are written there, the time by stage returned)."""
    from sqlalchemy import text

    from core.db import make_engine, make_session_factory
    from ingest.runner import run_feed

    prepare_database(url, [("bench", csv_path)], chunk_size)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    if not outbox:
        _switch_off_outbox()
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_feed(session_factory=factory, feed_code="bench")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    with engine.connect() as conn:  # proof the switch did what it says
        events = conn.execute(text("SELECT count(*) FROM outbox_events")).scalar_one()
    engine.dispose()
    if summary.error:
        raise SystemExit(f"benchmark run failed: {summary.error}")
    result: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rows": float(summary.counts.fetched),
        "accepted": float(summary.counts.accepted),
        "quarantined": float(summary.counts.quarantined),
        "linked": float(summary.counts.linked),
        "new_entities": float(summary.counts.new_entities),
        "outbox_events": float(events),
    }
    if profiler is not None and profile is not None:
        from benchmarks.ingest_stages import stage_seconds

        profiler.disable()
        profiler.dump_stats(profile)
        result["stages"] = stage_seconds(profile)
    return result


# The tables an ingest run writes, parents first (foreign keys are on, as in the service).
_WRITTEN_TABLES = (
    "entities",
    "source_records",
    "entity_identifiers",
    "entity_attributes",
    "entity_reviews",
    "credit_records",
    "match_links",
    "record_match_views",
    "record_block_keys",
    "outbox_events",
)
# Parent rows the written tables point at (catalogue, runs): copied, not timed.
_PARENT_TABLES = ("departments", "feeds", "ingest_runs")


def phase_floor(source_url: str, url: str, chunk_size: int) -> dict[str, float]:
    """What the database alone needs to store the rows CreditHub wrote: the same rows, already
    in their stored form, written again through the raw driver into a fresh copy of the schema,
    indexes and constraints included (SQLite: one ``executemany`` per table and chunk, a commit
    per chunk; PostgreSQL: one ``COPY`` per table, its fastest way in). Only the writes are
    timed. No pipeline can store its records faster than this, so ``floor / baseline`` bounds
    the ratio any code could reach with this schema."""
    from core.migrate import upgrade

    upgrade(url)
    if url.startswith("sqlite"):
        return _sqlite_floor(source_url, url, chunk_size)
    return _postgres_floor(source_url, url)


def _sqlite_floor(source_url: str, url: str, chunk_size: int) -> dict[str, float]:
    import sqlite3

    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(url.removeprefix("sqlite:///"))
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        target.execute(f"PRAGMA {pragma}")
    for table in _PARENT_TABLES:
        _copy_rows(source, target, table, chunk_size)
    target.commit()
    started, cpu = time.perf_counter(), time.process_time()
    for table in _WRITTEN_TABLES:
        _copy_rows(source, target, table, chunk_size)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    records = source.execute("SELECT count(*) FROM source_records").fetchone()[0]
    source.close()
    target.close()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": float(records)}


def _copy_rows(source: Any, target: Any, table: str, chunk_size: int) -> None:
    cursor = source.execute(f"SELECT * FROM {table} ORDER BY rowid")
    width = len(cursor.description)
    insert_sql = f"INSERT INTO {table} VALUES ({', '.join('?' * width)})"
    while rows := cursor.fetchmany(chunk_size):
        target.executemany(insert_sql, rows)
        target.commit()


def _postgres_floor(source_url: str, url: str) -> dict[str, float]:
    """The stored rows streamed from one database's ``COPY ... TO`` into the other's
    ``COPY ... FROM``, in one transaction (as COPY is used in practice)."""
    import psycopg

    source, target = psycopg.connect(driver_url(source_url)), psycopg.connect(driver_url(url))

    def copy(table: str) -> None:
        with (
            source.cursor().copy(f"COPY (SELECT * FROM {table} ORDER BY 1) TO STDOUT") as out,
            target.cursor().copy(f"COPY {table} FROM STDIN") as into,
        ):
            for block in out:
                into.write(block)

    for table in _PARENT_TABLES:
        copy(table)
    target.commit()
    started, cpu = time.perf_counter(), time.process_time()
    for table in _WRITTEN_TABLES:
        copy(table)
    target.commit()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    row = source.execute("SELECT count(*) FROM source_records").fetchone()
    source.close()
    target.close()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": float(row[0] if row else 0)}


def driver_url(url: str) -> str:
    """``url`` (SQLAlchemy's, ``postgresql+psycopg://``) as psycopg's own connection string."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run_phase(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.ingest", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    args = _arguments().parse_args()
    if args.phase:
        print(json.dumps(_own_phase(args)))
        return

    workdir = args.out or Path(tempfile.mkdtemp(prefix="credithub-bench-"))
    feeds = [workdir / "feed" / "penalties.csv"]
    if not args.no_parallel:
        # The second feed: another department's penalties about the same companies.
        feeds.append(workdir / "feed2" / "penalties.csv")
    for n, csv_path in enumerate(feeds):
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing {args.rows:,} rows to {csv_path}")
        write_feed(csv_path, args.rows, prefix=("京环罚", "京税罚")[n])
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    summary: dict[str, Any] = {"rows": args.rows, "chunk_size": args.chunk_size}
    for backend in backends:
        with databases(backend, workdir) as url_for:
            summary[backend] = run_backend(backend, url_for, feeds, workdir, args)
    print(json.dumps(summary))
    failed = [
        f"{backend}: {name}"
        for backend in backends
        for name, ok in summary[backend].get("parallel", {}).get("checks", {}).items()
        if ok is False
    ]
    if failed:
        raise SystemExit(f"parallel ingest lost or doubled something: {', '.join(failed)}")


@contextmanager
def databases(backend: str, workdir: Path) -> Iterator[Callable[[str], str]]:
    """A function giving the URL of a new database by name: a file in ``workdir`` (SQLite) or
    a database on a throw-away server started here (PostgreSQL; stopped on the way out)."""
    if backend == "sqlite":
        yield lambda name: f"sqlite:///{workdir / name}.db"
        return
    from tests.support.postgres import PostgresServer

    server = PostgresServer.start()
    print(f"\n{server.version()} on port {server.port}")
    try:
        yield server.create_database
    finally:
        server.stop()


def run_backend(
    backend: str,
    url_for: Callable[[str], str],
    feeds: list[Path],
    workdir: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Every phase on one backend; prints as it goes, returns the figures."""
    print(f"\n== {backend}")
    chunk = ["--chunk-size", str(args.chunk_size)]
    baseline = run_phase(
        ["--phase", "baseline", "--csv", str(feeds[0]), "--url", url_for("baseline")]
    )
    rate = baseline["rows"] / baseline["seconds"]
    print(
        f"baseline  read_csv + to_sql: {baseline['seconds']:.1f} s, "
        f"{rate:,.0f} rec/s, peak {baseline['peak_rss_mb']:.0f} MB"
    )
    ours_url = url_for("credithub")
    ours = run_phase(["--phase", "credithub", "--csv", str(feeds[0]), "--url", ours_url, *chunk])
    print(
        f"credithub end to end:        {ours['seconds']:.1f} s, "
        f"{ours['rows'] / ours['seconds']:,.0f} rec/s, peak {ours['peak_rss_mb']:.0f} MB "
        f"({ours['accepted']:,.0f} accepted, {ours['quarantined']:,.0f} quarantined, "
        f"{ours['new_entities']:,.0f} entities)"
    )
    stages: dict[str, float] | None = None
    if args.profile:  # a run of its own: the profiler slows the run it watches
        from benchmarks.ingest_stages import print_stages

        profile = ["--profile", str(workdir / f"{backend}.prof")]
        command = ["--phase", "credithub", "--csv", str(feeds[0]), "--url", url_for("profiled")]
        stages = run_phase([*command, *chunk, *profile])["stages"]
        print_stages(stages, ours["seconds"])
    floor = run_phase(
        ["--phase", "floor", "--source-url", ours_url, "--url", url_for("floor"), *chunk]
    )
    floor_rate = floor["rows"] / floor["seconds"]
    how = "executemany" if backend == "sqlite" else "COPY"
    print(
        f"storage floor (CreditHub's rows, raw driver {how}): {floor['seconds']:.1f} s, "
        f"{floor_rate:,.0f} rec/s = {floor_rate / rate:.3f} of the baseline"
    )
    figures = _figures(args.rows, baseline, ours, floor)
    print(f"ratio to baseline: {figures['ratio_to_baseline']:.3f} (target 0.25)")
    if stages is not None:
        figures["stages_under_cprofile"] = {k.strip(): round(v, 2) for k, v in stages.items()}
    if args.outbox_cost:
        figures["outbox"] = _outbox_cost(feeds[0], url_for, args.chunk_size, ours)
    if len(feeds) > 1:
        from benchmarks.ingest_parallel import run_parallel

        figures["parallel"] = run_parallel(
            url_for("parallel"), feeds, chunk_size=args.chunk_size, one=ours, workdir=workdir
        )
    return figures


def _outbox_cost(
    csv_path: Path, url_for: Callable[[str], str], chunk_size: int, first: dict[str, float]
) -> dict[str, float]:
    """End to end with and without the outbox hooks (two runs each, alternating; ``first``
    is the main run, with them), the fastest of each; prints the cost."""
    runs: dict[bool, list[dict[str, float]]] = {True: [first], False: []}
    for n, on in enumerate((False, True, False)):
        extra = [] if on else ["--no-outbox"]
        command = ["--phase", "credithub", "--csv", str(csv_path), "--url", url_for(f"outbox{n}")]
        runs[on].append(run_phase([*command, "--chunk-size", str(chunk_size), *extra]))
    for on, found in runs.items():
        shown = ", ".join(f"{r['seconds']:.1f} s ({r['cpu_seconds']:.1f} s CPU)" for r in found)
        print(f"  {'with' if on else 'without'} the outbox: {shown}")
    best = {on: min(r["seconds"] for r in found) for on, found in runs.items()}
    best_cpu = {on: min(r["cpu_seconds"] for r in found) for on, found in runs.items()}
    rows = first["rows"]
    print(
        f"outbox cost: with events {rows / best[True]:,.0f} rec/s, without "
        f"{rows / best[False]:,.0f} rec/s: {best[True] / best[False] - 1:+.1%} wall time, "
        f"{best_cpu[True] / best_cpu[False] - 1:+.1%} CPU time "
        f"(peak {max(r['peak_rss_mb'] for r in runs[True]):.0f} MB vs "
        f"{max(r['peak_rss_mb'] for r in runs[False]):.0f} MB; outbox rows "
        f"{runs[True][-1]['outbox_events']:,.0f} vs {runs[False][-1]['outbox_events']:,.0f})"
    )
    return {
        "with_records_per_s": round(rows / best[True]),
        "without_records_per_s": round(rows / best[False]),
        "wall_cost": round(best[True] / best[False] - 1, 4),
        "cpu_cost": round(best_cpu[True] / best_cpu[False] - 1, 4),
    }


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--out", type=Path, default=None, help="Keep files here.")
    parser.add_argument(
        "--outbox-cost", action="store_true", help="Also measure without the outbox hooks."
    )
    parser.add_argument(
        "--profile", nargs="?", const=True, default=None,
        help="Also run CreditHub's phase under cProfile and print the time by stage.",
    )  # fmt: skip
    parser.add_argument(
        "--no-parallel", action="store_true", help="Skip the two-feed parallel run."
    )
    parser.add_argument("--no-outbox", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--phase", choices=["baseline", "credithub", "floor"], help=argparse.SUPPRESS
    )
    parser.add_argument("--source-url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser


def _own_phase(args: argparse.Namespace) -> dict[str, Any]:
    """The figures of the phase this process was started for, with its peak memory."""
    result: dict[str, Any]
    if args.phase == "baseline":
        result = phase_baseline(args.csv, args.url)
    elif args.phase == "floor":
        result = phase_floor(args.source_url, args.url, args.chunk_size)
    else:
        profile = Path(args.profile) if isinstance(args.profile, str) else None
        result = phase_credithub(
            args.csv, args.url, args.chunk_size, outbox=not args.no_outbox, profile=profile
        )
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """This process's peak memory so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _figures(
    rows: int, baseline: dict[str, float], ours: dict[str, float], floor: dict[str, float]
) -> dict[str, Any]:
    """The summary figures against issue 3's targets; prints the per-CPU-second rates."""
    baseline_rate = baseline["rows"] / baseline["seconds"]
    our_rate = ours["rows"] / ours["seconds"]
    floor_rate = floor["rows"] / floor["seconds"]
    # Wall-clock rates are the target's measure; on a shared machine the CPU-time rates say
    # how much of a difference is load rather than code.
    baseline_cpu_rate = baseline["rows"] / baseline["cpu_seconds"]
    our_cpu_rate = ours["rows"] / ours["cpu_seconds"]
    print(
        f"per CPU second: baseline {baseline_cpu_rate:,.0f} rec/s, credithub "
        f"{our_cpu_rate:,.0f} rec/s (ratio {our_cpu_rate / baseline_cpu_rate:.3f})"
    )
    return {
        "rows": rows,
        "baseline_records_per_s": round(baseline_rate),
        "credithub_records_per_s": round(our_rate),
        "ratio_to_baseline": round(our_rate / baseline_rate, 4),
        "target_ratio": 0.25,
        "baseline_peak_mb": round(baseline["peak_rss_mb"]),
        "credithub_peak_mb": round(ours["peak_rss_mb"]),
        "target_peak_mb": 2048,
        "baseline_cpu_records_per_s": round(baseline_cpu_rate),
        "credithub_cpu_records_per_s": round(our_cpu_rate),
        "cpu_ratio_to_baseline": round(our_cpu_rate / baseline_cpu_rate, 4),
        "storage_floor_records_per_s": round(floor_rate),
        "storage_floor_ratio_to_baseline": round(floor_rate / baseline_rate, 4),
        # How much of CreditHub's run the bare writes of its rows would take.
        "storage_floor_share_of_credithub": round(floor["seconds"] / ours["seconds"], 4),
        "meets_speed_target": our_rate / baseline_rate >= 0.25,
        "meets_memory_target": ours["peak_rss_mb"] < 2048,
    }


if __name__ == "__main__":
    main()
