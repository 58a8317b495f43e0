"""Two feeds ingested at once, each by its own process, into one database: throughput against
one feed alone (``benchmarks.ingest``'s CreditHub phase, same rows, same machine, same run),
and the checks that parallel ingest lost or doubled nothing.

Each process imports, connects and waits; both start on one signal (a file appearing), so the
wall time from that signal to the last one's end is the ingest alone. Throughput with two is
all records of both feeds over that wall time; the scaling ratio is that over the one-feed
throughput (2.0 would be perfect on a machine with two idle cores).

    .venv/bin/python -m benchmarks.ingest_parallel --url URL --feed CODE --ready F --go G

is one of the processes (started by :func:`run_parallel`; prints its figures as JSON).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_CODES = ("bench", "bench2")


def run_parallel(
    url: str, feeds: list[Path], *, chunk_size: int, one: dict[str, Any], workdir: Path
) -> dict[str, Any]:
    """Ingest ``feeds`` (CSV files of as many rows each) at once into ``url``, one process
    each; prints and returns the figures against ``one`` (the one-feed run) and the checks."""
    from benchmarks.ingest import prepare_database

    prepare_database(url, list(zip(_CODES, feeds, strict=False)), chunk_size)
    go = workdir / "parallel.go"
    go.unlink(missing_ok=True)
    processes, ready = [], []
    for code in _CODES[: len(feeds)]:
        ready.append(workdir / f"parallel.{code}.ready")
        ready[-1].unlink(missing_ok=True)
        command = [sys.executable, "-m", "benchmarks.ingest_parallel", "--url", url,
                   "--feed", code, "--ready", str(ready[-1]), "--go", str(go)]  # fmt: skip
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
    while not all(r.exists() for r in ready):
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a parallel ingest process ended before it started")
        time.sleep(0.05)
    started = time.time()
    go.touch()
    runs = []
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a parallel ingest process failed ({process.returncode})")
        runs.append(json.loads(output.strip().splitlines()[-1]))
    wall = max(r["finished_at"] for r in runs) - started
    rows = sum(r["counts"]["fetched"] for r in runs)
    one_rate = one["rows"] / one["seconds"]
    figures: dict[str, Any] = {
        "feeds": len(runs),
        "rows": rows,
        "wall_seconds": round(wall, 2),
        "one_feed_records_per_s": round(one_rate),
        "records_per_s": round(rows / wall),
        "scaling": round(rows / wall / one_rate, 3),
        "per_feed": [
            {
                "feed": r["feed"],
                "seconds": round(r["seconds"], 2),
                "records_per_s": round(r["counts"]["fetched"] / r["seconds"]),
                "peak_rss_mb": round(r["peak_rss_mb"]),
            }
            for r in runs
        ],
        "checks": check_database(url, runs),
    }
    _print(figures, one)
    return figures


def _print(figures: dict[str, Any], one: dict[str, Any]) -> None:
    print(
        f"one feed, one process:        {one['seconds']:.1f} s, "
        f"{figures['one_feed_records_per_s']:,.0f} rec/s"
    )
    for run in figures["per_feed"]:
        print(
            f"  {run['feed']} (of two at once): {run['seconds']:.1f} s, "
            f"{run['records_per_s']:,.0f} rec/s, peak {run['peak_rss_mb']} MB"
        )
    print(
        f"two feeds, two processes:     {figures['wall_seconds']:.1f} s for "
        f"{figures['rows']:,} rows, {figures['records_per_s']:,.0f} rec/s: "
        f"{figures['scaling']:.2f}x one feed"
    )
    checks = figures["checks"]
    failed = [name for name, ok in checks.items() if ok is False]
    print(
        f"checks after the parallel run: {'all passed' if not failed else 'FAILED ' + str(failed)}"
    )


def check_database(url: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """What a parallel run must leave: each run's counts balance, every delivered record is
    stored once (accepted or quarantined, as counted), one credit record and one
    ``record.created`` event per accepted record, one entity per company, no entity made
    twice and merged back. Each entry is True or False (numbers are given alongside)."""
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(url)
    scalar = {
        "stored": "SELECT count(*) FROM source_records",
        "stored_keys": "SELECT count(DISTINCT (feed_id, source_key)) FROM source_records",
        "quarantined": "SELECT count(*) FROM source_records WHERE status = 'quarantined'",
        "credits": "SELECT count(*) FROM credit_records",
        "events": "SELECT count(*) FROM outbox_events WHERE kind = 'record.created'",
        "entities": "SELECT count(*) FROM entities",
        "companies": "SELECT count(DISTINCT value) FROM entity_identifiers WHERE id_type = 'uscc'",
        "codes_on_two_survivors": (
            "SELECT count(*) FROM (SELECT i.value FROM entity_identifiers i JOIN entities e "
            "ON e.id = i.entity_id WHERE i.id_type = 'uscc' AND e.merged_into_id IS NULL "
            "GROUP BY i.value HAVING count(DISTINCT e.id) > 1) AS doubled"
        ),
    }
    if url.startswith("sqlite"):  # no row values in count(DISTINCT ...)
        scalar["stored_keys"] = (
            "SELECT count(*) FROM (SELECT DISTINCT feed_id, source_key FROM source_records)"
        )
    with engine.connect() as conn:
        found = {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in scalar.items()}
    engine.dispose()
    delivered = sum(r["counts"]["fetched"] for r in runs)
    accepted = sum(r["counts"]["accepted"] for r in runs)
    quarantined = sum(r["counts"]["quarantined"] for r in runs)
    return {
        **found,
        "runs_succeeded": all(r["status"] == "succeeded" for r in runs),
        "counts_balance": all(
            c["fetched"] == c["accepted"] + c["duplicate"] + c["updated"] + c["quarantined"]
            for c in (r["counts"] for r in runs)
        ),
        "every_record_stored_once": found["stored"] == found["stored_keys"] == delivered,
        "accepted_plus_quarantined_is_delivered": accepted + quarantined == delivered
        and found["quarantined"] == quarantined,
        "one_credit_and_event_per_accepted": found["credits"] == found["events"] == accepted,
        "one_entity_per_company": found["codes_on_two_survivors"] == 0
        and found["entities"] == found["companies"],
    }


def _one_process(args: argparse.Namespace) -> dict[str, Any]:
    """One feed's run, started when ``args.go`` appears."""
    from benchmarks.ingest import peak_rss_mb
    from core.db import make_engine, make_session_factory
    from ingest.runner import run_feed

    engine = make_engine(args.url)
    factory = make_session_factory(engine)
    with engine.connect():  # connected before the start
        pass
    args.ready.touch()
    while not args.go.exists():
        time.sleep(0.01)
    started = time.perf_counter()
    summary = run_feed(session_factory=factory, feed_code=args.feed)
    seconds = time.perf_counter() - started
    finished_at = time.time()
    engine.dispose()
    if summary.error:
        print(f"feed {args.feed} failed: {summary.error}", file=sys.stderr)
    return {
        "feed": args.feed,
        "seconds": seconds,
        "finished_at": finished_at,
        "status": summary.status.value,
        "counts": summary.counts.as_dict(),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--feed", required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--go", type=Path, required=True)
    print(json.dumps(_one_process(parser.parse_args())))


if __name__ == "__main__":
    main()
