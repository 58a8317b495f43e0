"""core.metrics in multiprocess mode (as under gunicorn): figures recorded by separate
processes into one directory are summed by one scrape, and a dead process's live gauges
leave the sum. Each process is a real one: multiprocess mode is chosen per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.metrics import parse_samples, value

ROOT = Path(__file__).resolve().parents[2]

RECORD = """
import sys
from pathlib import Path
from core.metrics import instruments, observe_ingest_run, observe_request, use_multiprocess_dir
use_multiprocess_dir(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    observe_request(endpoint="health.healthz", method="GET", status=200, seconds=0.02)
observe_ingest_run(feed="env", trigger="schedule", status="succeeded",
                   counts={"accepted": 5, "quarantined": 2}, seconds=1.5)
instruments().pool_size.set(5)
"""

SCRAPE = """
import sys
from pathlib import Path
from core.metrics import exposition, mark_process_dead, use_multiprocess_dir
use_multiprocess_dir(Path(sys.argv[1]))
for pid in sys.argv[2:]:
    mark_process_dead(int(pid))
sys.stdout.write(exposition().decode())
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    )


def test_two_processes_add_up_in_one_scrape(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    first = subprocess.Popen(
        [sys.executable, "-c", RECORD, str(directory), "3"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    _python(RECORD, str(directory), "4")
    assert first.wait(timeout=60) == 0

    samples = parse_samples(_python(SCRAPE, str(directory)).stdout)
    request = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    assert value(samples, "credithub_http_requests_total", **request) == 7
    assert value(samples, "credithub_http_request_duration_seconds_count", **request) == 7
    assert value(samples, "credithub_ingest_records_total", feed="env", outcome="quarantined") == 4
    run = {"feed": "env", "trigger": "schedule", "status": "succeeded"}
    assert value(samples, "credithub_ingest_runs_total", **run) == 2
    assert value(samples, "credithub_db_pool_size") == 10


def test_a_dead_process_leaves_the_live_gauges_but_not_the_counters(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    _python(RECORD, str(directory), "2")
    pid = next(p.stem.rsplit("_", 1)[1] for p in directory.glob("gauge_livesum_*.db"))

    samples = parse_samples(_python(SCRAPE, str(directory), pid).stdout)
    request = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    assert value(samples, "credithub_http_requests_total", **request) == 2
    assert value(samples, "credithub_db_pool_size") == 0  # the scraping process's own 0
