"""The ingest benchmark end to end at a tiny size: every phase runs on the same rows, the
storage floor copies exactly what CreditHub stored, and the last line is the JSON summary."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_ingest_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.ingest",
        *("--rows", "250", "--chunk-size", "100", "--out", str(tmp_path)),
    ]
    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=root, check=True)
    figures = json.loads(completed.stdout.strip().splitlines()[-1])

    assert figures["rows"] == 250
    for key in ("baseline_records_per_s", "credithub_records_per_s", "storage_floor_records_per_s"):
        assert figures[key] > 0, key
    assert figures["storage_floor_share_of_credithub"] > 0
    assert figures["meets_memory_target"] is True
    assert count(tmp_path / "baseline.db", "raw_rows") == 250
    for table in ("source_records", "credit_records", "match_links", "entities"):
        stored = count(tmp_path / "credithub.db", table)
        assert stored > 0, table
        assert count(tmp_path / "floor.db", table) == stored, table
    assert count(tmp_path / "credithub.db", "credit_records") == 250
