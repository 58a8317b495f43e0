"""``credithub serve`` under gunicorn: several worker processes answer, and the scheduler runs
in exactly one of them, also after that worker dies."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cli.gunicorn_server import own_scheduler
from cli.serve import default_server
from core.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SCHEDULING = re.compile(r"scheduling \d+ feeds in process (\d+)")


def test_one_holder_of_the_scheduler_lock_at_a_time(tmp_path: Path) -> None:
    lock = tmp_path / "instance" / "scheduler.lock"
    first = own_scheduler(lock)
    assert first is not None
    assert own_scheduler(lock) is None  # flock: another open file is another holder
    first.close()  # as when the process holding it ends
    again = own_scheduler(lock)
    assert again is not None
    again.close()


def test_gunicorn_is_the_default_on_linux() -> None:
    assert default_server() == ("gunicorn" if sys.platform.startswith("linux") else "waitress")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scheduler_pids(log: Path) -> list[int]:
    return [int(pid) for pid in SCHEDULING.findall(log.read_text())]


def _wait_for(check: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn runs on Linux")
def test_workers_serve_and_exactly_one_runs_the_scheduler(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'credithub.sqlite3'}"
    upgrade(database)
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CREDITHUB_DATABASE_URL": database,
        "CREDITHUB_INSTANCE_PATH": str(tmp_path / "instance"),
        "CREDITHUB_SECRET_KEY": "test",
    }
    command = [
        *(sys.executable, "-c", "from cli.main import main; main()", "serve"),
        *("--server", "gunicorn", "--workers", "3", "--threads", "1"),
        *("--port", str(port), "--with-scheduler"),
    ]
    with log.open("w") as out:
        master = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return bool(r.status == 200)
            except OSError:
                return False

        _wait_for(healthy)
        _wait_for(lambda: len(re.findall(r"Booting worker with pid", log.read_text())) == 3)
        time.sleep(1)  # every worker has run its start-up hook
        owners = _scheduler_pids(log)
        assert len(owners) == 1, log.read_text()
        # the owner dies: its replacement (and only it) takes the scheduler over
        os.kill(owners[0], signal.SIGKILL)
        _wait_for(lambda: len(_scheduler_pids(log)) == 2)
        time.sleep(1)
        owners = _scheduler_pids(log)
        assert len(owners) == 2 and owners[1] != owners[0], log.read_text()
        assert healthy()
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=30)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn runs on Linux")
def test_metrics_add_up_across_gunicorn_workers_and_their_files_go_at_exit(
    tmp_path: Path,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from core.db import make_engine
    from tests.support.metrics import parse_samples, value

    database = f"sqlite:///{tmp_path / 'credithub.sqlite3'}"
    upgrade(database)
    engine = make_engine(database)
    pool_size = engine.pool.size()  # type: ignore[attr-defined]
    engine.dispose()
    port = _free_port()
    temp = tmp_path / "tmp"  # where serve makes its metrics directory (tempfile honours TMPDIR)
    temp.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(temp),
        "CREDITHUB_DATABASE_URL": database,
        "CREDITHUB_INSTANCE_PATH": str(tmp_path / "instance"),
        "CREDITHUB_SECRET_KEY": "test",
        "CREDITHUB_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [
        *(sys.executable, "-c", "from cli.main import main; main()", "serve"),
        *("--server", "gunicorn", "--workers", "2", "--threads", "1", "--port", str(port)),
    ]
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        master = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def get(path: str) -> str:
        with urllib.request.urlopen(base + path, timeout=5) as response:
            return str(response.read().decode())

    def counter_pids() -> set[str]:
        return {p.stem.rsplit("_", 1)[1] for d in temp.iterdir() for p in d.glob("counter_*.db")}

    try:

        def up() -> bool:
            try:
                return bool(get("/healthz"))
            except OSError:
                return False

        _wait_for(up)
        sent = 1
        with ThreadPoolExecutor(4) as pool:
            while len(counter_pids()) < 2 and sent < 2000:
                sent += len(list(pool.map(lambda _: get("/healthz"), range(20))))
        assert len(counter_pids()) == 2, log.read_text()  # both workers answered some
        samples = parse_samples(get("/metrics"))  # from loopback: allowed without a token
        request = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
        assert value(samples, "credithub_http_requests_total", **request) == sent
        # A pool in each worker, none in the master (it serves nothing).
        assert value(samples, "credithub_db_pool_size") == 2 * pool_size
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=30)
    assert list(temp.iterdir()) == [], "the metrics directory outlived the server"
