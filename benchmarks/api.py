"""API benchmark: ``credithub serve`` (gunicorn, a worker per core) under ``wrk`` against a bare
Flask "hello" under the same server, workers and threads, in the same run.

    .venv/bin/python -m benchmarks.api [--entities 1000000] [--backends sqlite,postgresql]
                                       [--seconds 15] [--connections 16]
                                       [--out DIR [--reuse]]

The database holds what ingest writes for ``--entities`` parties with two penalties each
(:mod:`benchmarks.api_build`; one in ten a natural person), built by the bulk path of
:mod:`benchmarks.api_bulk`: the pipeline's own functions, rows written with ``COPY`` on
PostgreSQL and ``executemany`` on SQLite, computed once for both backends. PostgreSQL runs on a
cluster kept in ``DIR/postgres``, SQLite on ``DIR/api.sqlite3`` (:mod:`benchmarks.api_store`):
with ``--reuse`` a database already built at this size is served again after
``credithub db upgrade`` (new migrations apply; their time is printed), so the build is paid
once. For each request kind it prints req/s, p50, p99 and the share of "hello" throughput; the
first answer of each kind on a server just started (cold caches); then peak memory per worker
(``VmHWM``), the build (or upgrade) time and the database's size; the last line is one JSON
object.

The rate limiter is on, as in production (counters in the database, or Redis with
``CREDITHUB_REDIS_URL``), with budgets (``--budget`` a minute, default 10,000,000, for every
request and for identifier look-ups) high enough that the load is never refused: what is
measured is the limiter's cost, not its refusals. The push is ``POST /api/v1/records`` of 100
new penalty records (unique ``source_id``s, about existing companies) by EPB's client.
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


def _push_lua(companies: list[tuple[str, str]], token: str, size: int = 100, run: str = "b") -> str:
    """wrk Lua defining ``push_request()``: ``size`` new penalties (``source_id`` unique per
    ``run``, thread and request) about ``companies``, POSTed by EPB's client to its feed
    ``epb-feed``. Each wrk run needs its own ``run``: wrk counts threads and requests from 1
    again, and a second run would otherwise re-send the first one's records."""
    rows = ", ".join(
        f"{{{json.dumps(name, ensure_ascii=False)}, {json.dumps(uscc)}}}"
        for name, uscc in companies
    )
    item = (
        '{"source_id": "%s", "CF_XDR_MC": "%s", "CF_XDR_SHXYM": "%s", '
        '"CF_XZCFJDSWH": "京环罚〔2026〕%s号", "CF_CFLB": "罚款", "CF_NR_FK": "5000", '
        '"CF_JDRQ": "2026-03-01", "CF_CFJG": "北京市生态环境局"}'
    )
    return f"""
local companies = {{{rows}}}
local pushes = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function push_request()
  pushes = pushes + 1
  local items = {{}}
  for k = 1, {size} do
    local c = companies[(pushes * 7 + k) % #companies + 1]
    local sid = string.format("{run}%s-%d-%d", tostring(tid), pushes, k)
    items[k] = string.format({json.dumps(item, ensure_ascii=False)}, sid, c[1], c[2], sid)
  end
  local body = '{{"feed": "epb-feed", "records": [' .. table.concat(items, ",") .. "]}}"
  return wrk.format("POST", "/api/v1/records", {{
    ["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}"}}, body)
end
"""


def _budgets(per_minute: int) -> dict[str, str]:
    """The limiter stays on; its budgets are high enough that the load is never refused."""
    return {
        "CREDITHUB_RATE_LIMIT_PER_MINUTE": str(per_minute),
        "CREDITHUB_IDENTIFIER_LOOKUPS_PER_MINUTE": str(per_minute),
        "CREDITHUB_IDENTIFIER_LOOKUPS_PER_HOUR": str(60 * per_minute),
    }


def _serve(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
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
    # wrk's default timeout (2 s) drops slower answers from its latencies: p99 would be capped.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "60s"]
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
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", output)
    return {
        "rps": rate,
        "p50_ms": latency.get("50", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "timeouts": float(timeouts.group(1)) if timeouts else 0.0,
    }


def _push_script(push_lua: str, folder: Path) -> Path:
    script = folder / "push.lua"
    script.write_text(push_lua + "request = push_request\n")
    return script


def _mix_script(paths: list[str], push_lua: str, folder: Path, push_every: int) -> Path:
    """Round robin over ``paths`` (the regulator's GETs), every ``push_every``-th request a
    100-record push (0: no pushes)."""
    script = folder / f"mix-{push_every}.lua"
    listed = ", ".join(json.dumps(p) for p in paths)
    script.write_text(
        f"{push_lua}\nlocal paths = {{{listed}}}\nlocal i = 0\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        f"  if {push_every} > 0 and n % {push_every} == 0 then return push_request() end\n"
        "  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n"
    )
    return script


def _two_free_ports() -> tuple[int, int]:
    """Ports for hello and the app. Free ones, not fixed: two runs on one machine (or any
    other server on a fixed port) would clash, and one run would drive the other's server."""
    from tests.support.postgres import _free_port

    first = _free_port()
    second = _free_port()
    while second == first:
        second = _free_port()
    return first, second


def _cold(port: int, paths: dict[str, str], auth: dict[str, str]) -> dict[str, float]:
    """The first answer (ms) of each kind on a server just started: its caches (and the
    database's, after a build or a restart) are cold."""
    timings = {}
    for kind, path in paths.items():
        started = time.perf_counter()
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=auth)
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()
        timings[kind] = (time.perf_counter() - started) * 1000
    return timings


def run_backend(
    url: str, built: dict[str, Any], args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """The load against the database at ``url`` (``built``: what
    :func:`benchmarks.api_build.describe` read from it)."""
    from urllib.parse import quote

    workers, threads = args.workers, args.threads
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CREDITHUB_DATABASE_URL": url,
           "CREDITHUB_INSTANCE_PATH": str(folder / "instance"), "CREDITHUB_SECRET_KEY": "bench",
           "CREDITHUB_LOG_LEVEL": "WARNING", **_budgets(args.budget)}  # fmt: skip
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
    results: dict[str, Any] = {}
    hello_port, port = _two_free_ports()
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
        push_lua = _push_lua(built["push_companies"], built["push_token"], run="p")
        mix_lua = _push_lua(built["push_companies"], built["push_token"], run="m")
        results["cold_ms"] = _cold(port, paths, auth)
        script = _mix_script(list(paths.values()), push_lua, folder, push_every=0)
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
        for kind, script in (
            ("push_100", _push_script(push_lua, folder)),
            ("mix", _mix_script(list(paths.values()), mix_lua, folder, args.push_every)),
        ):
            results[kind] = wrk(
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
    for kind in (*paths, "push_100", "mix"):
        results[kind]["share_of_hello"] = results[kind]["rps"] / base if base else 0.0
    return results


def _print(backend: str, results: dict[str, Any]) -> None:
    database = results["database"]
    how = (f"upgraded (reused) in {database['upgrade_seconds']:.0f} s" if database["reused"]
           else f"built in {database['build_seconds']:.0f} s")  # fmt: skip
    print(f"\n{backend}: {how}; {database['size_mib']:,.0f} MiB")
    print(f"{'request':<18}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'share':>8}{'non-2xx':>9}"
          f"{'timeouts':>9}")  # fmt: skip
    for kind in ("hello", "profile", "search_uscc", "search_id_number", "search_name",
                 "public_lookup", "push_100", "mix"):  # fmt: skip
        r = results[kind]
        share = r.get("share_of_hello", 1.0)
        print(f"{kind:<18}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
              f"{share:>8.3f}{r['non_2xx']:>9.0f}{r['timeouts']:>9.0f}")  # fmt: skip
    memory = results["memory"]
    print(f"peak memory per worker: {memory['peak_mib_max']:.0f} MiB ({memory['workers']} workers;"
          f" hello {results['hello_memory']['peak_mib_max']:.0f} MiB)")  # fmt: skip
    plans = "; ".join(f"{k}: {v['statements']} statements, {v['call_ms']:.0f} ms, tables read "
                      f"whole: {', '.join(v['scans']) or 'none'}"
                      for k, v in results["plans"].items())  # fmt: skip
    print(f"query plans (in process, before the load): {plans}")
    cold = ", ".join(f"{k} {v:.0f}" for k, v in results["cold_ms"].items())
    print(f"first answers after start (ms): {cold}")


def _explain(url: str, built: dict[str, Any], prefix: Path) -> dict[str, Any]:
    """The requests' query plans at this size (:mod:`benchmarks.api_plans`), written to
    ``<prefix>-plans.txt``; per kind the statements sent, tables read whole, in-process ms."""
    from benchmarks.api_plans import explain

    found = explain(url, built)
    with Path(f"{prefix}-plans.txt").open("w") as out:
        for kind, result in found.items():
            for plan in result.pop("plans"):
                out.write(f"-- {kind}\n{plan}\n\n")
    return found


def _prepare(
    folder: Path, backends: list[str], args: argparse.Namespace
) -> tuple[dict[str, str], dict[str, dict[str, Any]], Any]:
    """The databases of ``backends`` in ``folder``, built unless ``--reuse`` finds them built
    at this size (then upgraded to the code's migrations); their URLs, what was done to each,
    and the PostgreSQL server (None without PostgreSQL), to be stopped by the caller."""
    from benchmarks import api_bulk, api_store

    previous = api_store.read_build(folder) if args.reuse else {}
    server = None
    urls: dict[str, str] = {}
    for backend in backends:
        if backend == "sqlite":
            urls[backend] = api_store.sqlite_url(folder)
        else:
            server, _exists = api_store.start_postgres(folder)
            urls[backend] = server.url_for(api_store.DATABASE)
    fresh = [b for b in backends if previous.get(b, {}).get("entities") != args.entities]
    done: dict[str, dict[str, Any]] = {}
    for backend in backends:
        if backend not in fresh:
            seconds = api_store.upgrade(urls[backend], ROOT, folder)
            done[backend] = {**previous[backend], "reused": True, "upgrade_seconds": seconds}
    if fresh:
        started = time.perf_counter()
        starts = {b: _resume_from(b, urls[b], server, folder, args) for b in fresh}
        print(f"building {args.entities:,} entities for {', '.join(fresh)} "
              f"(from {', '.join(f'{b} {starts[b]:,}' for b in fresh)})", flush=True)  # fmt: skip
        saved = folder / "postgresql-dropped-indexes.json"
        for start in sorted(set(starts.values())):
            together = [urls[b] for b in fresh if starts[b] == start]
            api_bulk.bulk_ingest(together, args.entities, first=start, saved_indexes=saved,
                                 workers=args.build_workers, progress=True)  # fmt: skip
        for backend in fresh:
            _analyze(urls[backend])
        seconds = time.perf_counter() - started
        for backend in fresh:
            done[backend] = {"entities": args.entities, "build_seconds": seconds,
                             "built_together": fresh, "resumed_from": starts[backend],
                             "reused": False}  # fmt: skip
        # Read again: a build of the other backend may have run meanwhile.
        api_store.write_build(folder, {**api_store.read_build(folder), **done})
    for backend in backends:
        done[backend]["size_mib"] = api_store.size_mib(urls[backend])
    return urls, done, server


def _resume_from(
    backend: str, url: str, server: Any, folder: Path, args: argparse.Namespace
) -> int:
    """The first entity to build: 1 in an emptied database, or with ``--resume`` the one after
    the last chunk a stopped build committed (the database is upgraded first)."""
    from benchmarks import api_build, api_store

    if args.resume:
        from sqlalchemy import text

        from core.db import make_engine

        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                last = conn.execute(text("SELECT max(id) FROM entities")).scalar()
        except Exception:  # no database or no schema yet: build from the start
            last = None
        finally:
            engine.dispose()
        if last:
            api_store.upgrade(url, ROOT, folder)
            return int(last) + 1
    _empty(backend, url, server)
    api_build.create_catalogue(url)
    return 1


def _empty(backend: str, url: str, server: Any) -> None:
    """A migrated database with nothing in it at ``url``."""
    from core.migrate import upgrade

    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine, text

        from benchmarks.api_store import DATABASE

        admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()
    upgrade(url)


def _analyze(url: str) -> None:
    """Planner statistics (and on PostgreSQL the visibility map, for index-only scans), as a
    database that has been running a while has them."""
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--budget",
        type=int,
        default=10_000_000,
        help="rate-limit budgets a minute (requests, identifier look-ups)",
    )
    parser.add_argument(
        "--push-every",
        type=int,
        default=20,
        help="in the mix, every n-th request is a 100-record push",
    )
    parser.add_argument("--out", help="keep the databases, server logs and wrk output here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="serve the databases in --out again if built at this size (after db upgrade)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="a build stopped half way goes on from its last committed chunk (with --out)",
    )
    parser.add_argument(
        "--build-workers", type=int, default=2, help="processes computing the build's rows"
    )
    parser.add_argument("--load", action=argparse.BooleanOptionalAction, default=True,
                        help="--no-load: build (or upgrade) only")  # fmt: skip
    args = parser.parse_args()
    if (args.reuse or args.resume) and not args.out:
        parser.error("--reuse and --resume need --out")
    summary: dict[str, Any] = {"entities": args.entities, "connections": args.connections,
                               "seconds": args.seconds, "workers": args.workers,
                               "threads": args.threads, "rate_limit_budget": args.budget,
                               "mix_push_every": args.push_every}  # fmt: skip
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory(prefix="credithub-bench-api-") as tmp:
        folder = Path(args.out or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        server = None
        try:
            urls, databases, server = _prepare(folder, backends, args)
            for backend in backends:
                summary[backend] = {"database": databases[backend]}
                if not args.load:
                    continue
                from benchmarks.api_build import describe

                built = describe(urls[backend], args.entities)
                summary[backend]["plans"] = _explain(urls[backend], built, folder / backend)
                summary[backend].update(run_backend(urls[backend], built, args, folder))
                _print(backend, summary[backend])
        finally:
            if server is not None:
                from benchmarks.api_store import stop_postgres

                stop_postgres(server)
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
