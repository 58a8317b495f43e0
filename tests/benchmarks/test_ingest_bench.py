"""The ingest benchmark end to end at a tiny size: every phase runs on the same rows, the
storage floor copies exactly what CreditHub stored, the parallel run's checks pass, and the
last line is the JSON summary. On SQLite here; on PostgreSQL too when its binaries are there
(the benchmark starts its own server)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def bench(tmp_path: Path, *options: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.ingest", "--rows", "250", "--chunk-size", "100"]
    completed = subprocess.run(
        [*command, "--out", str(tmp_path), *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def assert_figures(figures: dict[str, Any]) -> None:
    assert figures["rows"] == 250
    for key in ("baseline_records_per_s", "credithub_records_per_s", "storage_floor_records_per_s"):
        assert figures[key] > 0, key
    assert figures["storage_floor_share_of_credithub"] > 0
    assert figures["meets_memory_target"] is True
    parallel = figures["parallel"]
    assert parallel["rows"] == 500 and parallel["scaling"] > 0
    failed = [name for name, ok in parallel["checks"].items() if ok is False]
    assert not failed, parallel["checks"]
    # 250 rows each, the 100th and 200th dated in the future.
    assert parallel["checks"]["quarantined"] == 4
    assert parallel["checks"]["credits"] == 496


def test_ingest_benchmark_runs_at_a_tiny_size_on_sqlite(tmp_path: Path) -> None:
    figures = bench(tmp_path, "--backend", "sqlite")

    assert_figures(figures["sqlite"])
    assert "postgresql" not in figures
    assert count(tmp_path / "baseline.db", "raw_rows") == 250
    for table in ("source_records", "credit_records", "match_links", "entities", "outbox_events"):
        stored = count(tmp_path / "credithub.db", table)
        assert stored > 0, table
        assert count(tmp_path / "floor.db", table) == stored, table
    assert count(tmp_path / "credithub.db", "credit_records") == 248
    assert count(tmp_path / "parallel.db", "source_records") == 500


def test_ingest_benchmark_runs_at_a_tiny_size_on_postgresql(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    # The suite's server is not used: the fixture skips (or fails, when PostgreSQL is
    # required) where there are no binaries; the benchmark starts a server of its own.
    figures = bench(tmp_path, "--backend", "postgresql", "--profile")

    assert_figures(figures["postgresql"])
    stages = figures["postgresql"]["stages_under_cprofile"]
    assert stages["store_batch (everything of a batch)"] > 0
    assert stages["database driver (all calls)"] > 0
