"""The export benchmark end to end at a tiny size: every phase runs, the exports hold every
row, and the last line is the JSON summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd


def test_export_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.export",
        *("--rows", "300", "--repeat", "1", "--chunk-size", "64", "--out", str(tmp_path)),
    ]
    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=root, check=True)
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 300 and figures["baseline_rows"] == 300
    for key in ("csv_seconds", "csv_peak_mb", "xlsx_seconds", "csv_speed_ratio"):
        assert figures[key] > 0, key
    ours = pd.read_csv(tmp_path / "records.csv", encoding="utf-8-sig", dtype=str)
    baseline = pd.read_csv(tmp_path / "baseline.csv", dtype=str)
    assert len(ours) == len(baseline) == 300
    assert list(ours["record_id"]) == list(baseline["id"])
    # The product's path masks what an analyst may not see; the raw baseline does not.
    persons = ours[ours["entity_kind"] == "natural_person"]
    assert len(persons) > 0
    assert persons["entity_code"].str.contains(r"^\d{6}\*{8}", regex=True).all()
    assert persons["entity_name"].str.endswith("*").all()
    assert pd.read_excel(tmp_path / "records.xlsx", dtype=str).shape == ours.shape
