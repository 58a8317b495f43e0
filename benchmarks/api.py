"""API benchmark: ``credithub serve`` (gunicorn, a worker per core) under ``wrk`` against a bare
Flask "hello" under the same server, workers and threads, in the same run.

    .venv/bin/python -m benchmarks.api [--entities 1000000] [--backends sqlite,postgresql]
                                       [--seconds 15] [--connections 16]

The database is built with the export benchmark's Core bulk path (``benchmarks.export``:
entities with their codes, two credit records each), migrated first; PostgreSQL runs on a
server started here (``tests.support.postgres``), SQLite on a file. For each request kind it
prints req/s, p50, p99 and the share of "hello" throughput; then peak memory per worker
(``VmHWM``); the last line is one JSON object.

Not measured yet: the 100-record push (it needs a push feed and a department client).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def make_hello() -> Any:
    """The anchor: a bare Flask app answering "hello" (gunicorn ``benchmarks.api:make_hello()``)."""
    from flask import Flask

    hello = Flask("hello")
    hello.add_url_rule("/", "hello", lambda: "hello")
    return hello


def build(url: str, n_entities: int) -> dict[str, Any]:
    """A migrated database with ``n_entities`` entities and two records each; a regulator's
    token and sample queries."""
    from sqlalchemy import insert, text

    from app.auth.services import create_client
    from benchmarks import export
    from core.db import make_engine, make_session_factory
    from core.migrate import upgrade
    from core.models import Department, Feed, Role

    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    departments = [
        {"id": i + 1, "code": code, "name": name}
        for i, (code, name) in enumerate(export._DEPARTMENTS)
    ]
    feeds = [export._feed(d) for d in departments]
    with engine.begin() as conn:
        conn.execute(insert(Department), departments)
        conn.execute(insert(Feed), feeds)
        export._insert_entities(conn, n_entities)
        export._insert_records(conn, 2 * n_entities, n_entities, feeds, departments)
        if engine.dialect.name == "postgresql":
            for table in ("departments", "feeds", "entities", "entity_identifiers",
                          "source_records", "credit_records"):  # fmt: skip
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        conn.execute(text("ANALYZE"))
    with make_session_factory(engine)() as session:
        _client, token = create_client(session=session, name="bench", role=Role.REGULATOR)
        session.commit()
        probe = n_entities // 2 + 1
        company = probe if probe % export.PERSON_SHARE else probe + 1
        person = (probe // export.PERSON_SHARE + 1) * export.PERSON_SHARE
        rows = session.execute(
            text("SELECT e.id, e.public_id, e.display_name, i.value FROM entities e "
                 "JOIN entity_identifiers i ON i.entity_id = e.id WHERE e.id IN (:a, :b)"),
            {"a": company, "b": person},
        ).all()  # fmt: skip
    engine.dispose()
    found = {row[0]: row for row in rows}
    return {
        "seconds": time.perf_counter() - started,
        "token": token,
        "company": found[company],
        "person": found[person],
    }


def _serve(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return process
        except urllib.error.HTTPError:
            return process  # it answers
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> dict[str, float]:
    """Stop the server; peak memory (MiB) of each worker first."""
    peaks = []
    children = subprocess.run(["ps", "--ppid", str(process.pid), "-o", "pid="],
                              capture_output=True, text=True).stdout.split()  # fmt: skip
    for pid in children:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            if match:
                peaks.append(int(match.group(1)) / 1024)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return {"workers": len(peaks), "peak_mib_max": max(peaks, default=0.0)}


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    script: Path | None = None,
    log: Path | None = None,
) -> dict[str, float]:
    """``wrk`` against ``url``: req/s, p50 and p99 (ms), non-2xx/3xx answers; its output is
    appended to ``log``."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if log is not None:
        with log.open("a") as out:
            out.write(f"$ {' '.join(command)} {url}\n{output}\n")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rate,
        "p50_ms": latency.get("50", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def _mix_script(paths: list[str], folder: Path) -> Path:
    script = folder / "mix.lua"
    listed = ", ".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{listed}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\nend\n"
    )
    return script


def run_backend(url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from urllib.parse import quote

    built = build(url, args.entities)
    workers, threads = args.workers, args.threads
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CREDITHUB_DATABASE_URL": url,
           "CREDITHUB_INSTANCE_PATH": str(folder / "instance"), "CREDITHUB_SECRET_KEY": "bench",
           "CREDITHUB_RATE_LIMIT_PER_MINUTE": "0", "CREDITHUB_LOG_LEVEL": "WARNING"}  # fmt: skip
    _id, company_public, company_name, uscc = built["company"]
    _pid, _person_public, _person_name, resident_id = built["person"]
    auth = {"Authorization": f"Bearer {built['token']}"}
    paths = {
        "profile": f"/api/v1/entities/{company_public}",
        "search_uscc": f"/api/v1/entities?q={uscc}",
        "search_id_number": f"/api/v1/entities?q={resident_id}",
        "search_name": f"/api/v1/entities?q={quote(company_name)}",
        "public_lookup": f"/api/v1/public/entities/{company_public}",
    }
    results: dict[str, Any] = {"build_seconds": built["seconds"]}
    hello_port, port = 18080, 18081
    hello = _serve(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{hello_port}", "benchmarks.api:make_hello()"],
        env, hello_port, folder / "hello.log",
    )  # fmt: skip
    try:
        results["hello"] = wrk(
            f"http://127.0.0.1:{hello_port}/",
            seconds=args.seconds,
            connections=args.connections,
            headers={},
            log=folder / "wrk.log",
        )
    finally:
        results["hello_memory"] = _stop(hello)
    server = _serve(
        [sys.executable, "-c", "from cli.main import main; main()", "serve", "--server",
         "gunicorn", "--workers", str(workers), "--threads", str(threads), "--port", str(port)],
        env, port, folder / "serve.log",
    )  # fmt: skip
    try:
        script = _mix_script(list(paths.values()), folder)
        # Warm every worker up (OpenCC's and the division table's first loads) before measuring.
        wrk(f"http://127.0.0.1:{port}/", seconds=max(5, args.seconds), connections=args.connections,
            headers=auth, script=script, log=folder / "warmup.log")  # fmt: skip
        for kind, path in paths.items():
            results[kind] = wrk(
                f"http://127.0.0.1:{port}{path}",
                seconds=args.seconds,
                connections=args.connections,
                headers=auth,
                log=folder / "wrk.log",
            )
        results["mix"] = wrk(
            f"http://127.0.0.1:{port}/",
            seconds=args.seconds,
            connections=args.connections,
            headers=auth,
            script=script,
            log=folder / "wrk.log",
        )
    finally:
        results["memory"] = _stop(server)
    base = results["hello"]["rps"]
    for kind in (*paths, "mix"):
        results[kind]["share_of_hello"] = results[kind]["rps"] / base if base else 0.0
    return results


def _print(backend: str, results: dict[str, Any]) -> None:
    print(f"\n{backend}: built in {results['build_seconds']:.0f} s")
    print(f"{'request':<18}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'share':>8}{'non-2xx':>9}")
    for kind in ("hello", "profile", "search_uscc", "search_id_number", "search_name",
                 "public_lookup", "mix"):  # fmt: skip
        r = results[kind]
        share = r.get("share_of_hello", 1.0)
        print(f"{kind:<18}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
              f"{share:>8.3f}{r['non_2xx']:>9.0f}")  # fmt: skip
    memory = results["memory"]
    print(f"peak memory per worker: {memory['peak_mib_max']:.0f} MiB ({memory['workers']} workers;"
          f" hello {results['hello_memory']['peak_mib_max']:.0f} MiB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--out", help="keep the database, server logs and wrk output here")
    args = parser.parse_args()
    summary: dict[str, Any] = {"entities": args.entities, "connections": args.connections,
                               "seconds": args.seconds, "workers": args.workers}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="credithub-bench-api-") as tmp:
        folder = Path(args.out or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'api.sqlite3'}"
                summary[backend] = run_backend(url, args, folder)
            else:
                from sqlalchemy import create_engine, text

                from tests.support.postgres import PostgresServer

                pg = PostgresServer.start()
                try:
                    admin = create_engine(pg.admin_url, isolation_level="AUTOCOMMIT")
                    with admin.connect() as conn:
                        conn.execute(text("CREATE DATABASE bench_api"))
                    admin.dispose()
                    summary[backend] = run_backend(pg.url_for("bench_api"), args, folder)
                finally:
                    pg.stop()
            _print(backend, summary[backend])
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
