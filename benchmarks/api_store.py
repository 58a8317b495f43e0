"""Where the API benchmark keeps its databases between runs (``benchmarks.api --out DIR``):
the SQLite file ``DIR/api.sqlite3`` and a PostgreSQL cluster in ``DIR/postgres`` that each run
starts and stops again, with ``DIR/build.json`` saying what was built. A million entities are
built once (minutes) and served by every later run with ``--reuse``, which first brings each
database to the code's migrations (``credithub db upgrade``, as a deployment would), so a
branch that adds a migration is measured on its own schema.

The cluster runs as the test suite's throwaway servers do (``tests.support.postgres``: its
binaries, the ``postgres`` user when run as root, fsync off), but is stopped cleanly
(``pg_ctl -m fast``) so its data survives: with fsync off, only a crash of the machine, not of
the benchmark, can lose it (then delete ``DIR`` and build again).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.postgres import PostgresServer, PostgresUnavailable, _free_port, find_bin_dir

DATABASE = "bench_api"


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'api.sqlite3'}"


def start_postgres(folder: Path) -> tuple[PostgresServer, bool]:
    """The cluster in ``folder/postgres`` started (made first when missing); returns the server
    and whether it holds the benchmark's database already."""
    root = folder / "postgres"
    run_as = None
    if os.geteuid() == 0:
        pwd.getpwnam("postgres")
        run_as = "postgres"
    fresh = not (root / "data").exists()
    root.mkdir(parents=True, exist_ok=True)
    if run_as:
        shutil.chown(root, user=run_as)
    server = PostgresServer(bin_dir=find_bin_dir(), root=root, port=_free_port(), run_as=run_as)
    if fresh:
        init = server._run("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust",
                           "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()}")
    options = (
        f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    started = server._run("pg_ctl", "-D", str(root / "data"), "-o", options,
                          "-l", str(root / "log"), "-w", "-t", "300", "start")  # fmt: skip
    if started.returncode != 0:
        raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()}")
    server._wait_ready()
    if fresh:
        server.create_database(DATABASE)
    return server, not fresh


def stop_postgres(server: PostgresServer) -> None:
    """A clean stop: the data stays for the next run."""
    server._run("pg_ctl", "-D", str(server.root / "data"), "-m", "fast", "-w", "-t", "300", "stop")


def read_build(folder: Path) -> dict[str, Any]:
    path = folder / "build.json"
    return json.loads(path.read_text()) if path.exists() else {}


def write_build(folder: Path, build: dict[str, Any]) -> None:
    (folder / "build.json").write_text(json.dumps(build, indent=1))


def upgrade(url: str, root: Path, folder: Path) -> float:
    """``credithub db upgrade`` (the code in ``root``) on the database at ``url``; returns its
    seconds."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(root), "CREDITHUB_DATABASE_URL": url,
           "CREDITHUB_LOG_LEVEL": "WARNING", "CREDITHUB_SECRET_KEY": "bench",
           "CREDITHUB_INSTANCE_PATH": str(folder / "instance")}  # fmt: skip
    command = [sys.executable, "-c", "from cli.main import main; main()", "db", "upgrade"]
    subprocess.run(command, cwd=root, env=env, check=True)
    return time.perf_counter() - started


def size_mib(url: str) -> float:
    """The database's size on disk (SQLite: the file and its WAL; PostgreSQL:
    ``pg_database_size``)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return float(size) / 2**20
