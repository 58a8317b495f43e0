"""Credit-check benchmark (issue 16): a batch check of N identifiers through the product's path
(``app.credit_checks.batch.csv_stream``: look-up, visible records, grade, measures, one stored
and audited check per row, commits every 200 rows) beside the baseline measured in the same
run on the same database: profile look-ups (``app.entities.services.entity_profile``) of the
same parties by public id. Then the webhook delivery lag: change events committed at a fixed
rate (``--rate``, a tenth of a second's changes per transaction) for ``--seconds`` while the
product's worker runs as deployed, ``credithub deliver --every POLL`` in its own process,
posting to a local HTTP receiver; lag = arrival - the commit of the event's transaction,
p50 / p99 / max. ``--postgres`` measures the lag again on a throw-away local PostgreSQL.

    .venv/bin/python -m benchmarks.credit_checks [--identifiers 10000] [--rate 100]
        [--seconds 20] [--poll 0.5] [--postgres] [--webhooks-only]

The database (SQLite, a temporary folder) is built with ``benchmarks.export.phase_build``
(entities with valid codes, penalties and dishonest-debtor list entries). The last line
printed is one JSON object. Target (issue 16): webhook lag p99 under 5 s at 100 events/s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.export import TODAY, _resident_id, _uscc, phase_build

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MEASURES = ROOT / "sample_data" / "measures.toml"


def _regulator() -> Any:
    from core.models import ApiClient, Role

    return ApiClient(id=None, name="bench", role=Role.REGULATOR)


def batch_rate(factory: Any, n: int) -> dict[str, float]:
    from app.credit_checks.batch import csv_stream, read_items
    from app.entities.services import viewer_for
    from benchmarks.export import PERSON_SHARE
    from core.rules.measures import load_measures
    from core.rules.settings import GradeRules

    lines = ["identifier"] + [
        _resident_id(i) if i % PERSON_SHARE == 0 else _uscc(i) for i in range(1, n + 1)
    ]
    book = load_measures(SAMPLE_MEASURES)
    with factory() as session:
        viewer = viewer_for(session=session, client=_regulator(), today=TODAY)
        started = time.perf_counter()
        out = b"".join(
            csv_stream(
                session=session,
                viewer=viewer,
                book=book,
                grade_rules=GradeRules(),
                matter="government_procurement",
                reference="bench",
                items=read_items(io.StringIO("\n".join(lines))),
                commit=session.commit,
            )
        )
        seconds = time.perf_counter() - started
    rows = out.decode("utf-8-sig").splitlines()[1:]
    matched = sum(1 for r in rows if ",matched," in r)
    with_measures = sum(1 for r in rows if "dishonest_debtor_procurement" in r)
    return {
        "rows": float(len(rows)),
        "matched": float(matched),
        "with_measures": float(with_measures),
        "seconds": seconds,
        "per_second": len(rows) / seconds,
    }


def profile_rate(factory: Any, n: int) -> dict[str, float]:
    from sqlalchemy import select

    from app.entities.services import entity_profile, viewer_for
    from core.models import Entity
    from core.rules.settings import GradeRules

    with factory() as session:
        ids = list(session.scalars(select(Entity.public_id).order_by(Entity.id).limit(n)))
        viewer = viewer_for(session=session, client=_regulator(), today=TODAY)
        started = time.perf_counter()
        for public_id in ids:
            entity_profile(
                session=session, viewer=viewer, public_id=public_id, grade_rules=GradeRules()
            )
        session.commit()
        seconds = time.perf_counter() - started
    return {"lookups": float(len(ids)), "seconds": seconds, "per_second": len(ids) / seconds}


def _subscribe(factory: Any, url: str) -> list[int]:
    """A regulator's subscription to ``record.updated`` of the parties of the first 200
    records; returns those records' ids (the generator changes them in turn)."""
    from sqlalchemy import select

    from core.models import ApiClient, CreditRecord, Role, Subscription

    with factory() as session:
        first = session.scalars(select(CreditRecord).order_by(CreditRecord.id).limit(200)).all()
        client = ApiClient(name="bench-sub", role=Role.REGULATOR, token_hash="x", token_prefix="x")
        session.add(client)
        session.flush()
        session.add(
            Subscription(
                client_id=client.id,
                url=url,
                secret="s" * 64,
                kinds=["record.updated"],
                entity_ids=sorted({r.entity_id for r in first if r.entity_id is not None}),
            )
        )
        session.commit()
        return [r.id for r in first]


def _generate(factory: Any, record_ids: list[int], *, rate: float, seconds: float) -> Any:
    """Change records at ``rate`` a second for ``seconds`` through the ORM (so the outbox
    listener writes the events), a tenth of a second's changes per transaction, as ingest
    stores them; returns ({event id: commit time}, events/s achieved). Each transaction loads
    its records with one query: the generator must not be the bottleneck it measures."""
    from sqlalchemy import func, select

    from core.models import CreditRecord, OutboxEvent

    committed: dict[int, float] = {}
    with factory() as session:
        last = session.scalar(select(func.max(OutboxEvent.id))) or 0
    total = int(rate * seconds)
    per_commit = max(1, int(rate / 10))
    started = time.perf_counter()
    for first in range(0, total, per_commit):
        time.sleep(max(0.0, started + first / rate - time.perf_counter()))
        wanted = {
            record_ids[i % len(record_ids)]: i for i in range(first, min(first + per_commit, total))
        }
        with factory() as session:
            records = session.scalars(select(CreditRecord).where(CreditRecord.id.in_(wanted)))
            for record in records:
                record.content = f"bench change {started} {wanted[record.id]}"  # always new
            session.flush()
            # This transaction's events: nothing else writes events meanwhile.
            ids = list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > last)))
            session.commit()
        last = max(ids, default=last)
        at = time.time()
        committed.update((i, at) for i in ids)
    return committed, len(committed) / max(time.perf_counter() - started, 1e-9)


def _worker(url: str, workdir: Path, poll: float) -> subprocess.Popen[bytes]:
    """The product's worker as deployed: ``credithub deliver --every POLL`` in its own process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CREDITHUB_DATABASE_URL": url,
        "CREDITHUB_INSTANCE_PATH": str(workdir),
        "CREDITHUB_TODAY": TODAY.isoformat(),
        "CREDITHUB_WEBHOOK_ALLOW_PRIVATE": "true",
        "CREDITHUB_WEBHOOK_BACKOFF_SECONDS": "1",
        "CREDITHUB_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-c", "from cli.main import main; main()", "deliver"]
    command += ["--every", str(poll)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def webhook_lag(
    factory: Any, url: str, workdir: Path, *, rate: float, seconds: float, poll: float
) -> dict[str, float]:
    """Events committed at ``rate`` a second for ``seconds`` while ``credithub deliver
    --every POLL`` runs beside; lag = arrival at a local receiver - the event's commit."""
    from tests.support.receiver import run_receiver

    with run_receiver() as receiver:
        record_ids = _subscribe(factory, receiver.url)
        worker = _worker(url, workdir, poll)
        try:
            # The worker's start-up (imports, app) is not lag: one event through first.
            _generate(factory, record_ids, rate=10, seconds=0.1)
            deadline = time.time() + 120
            while not receiver.received and time.time() < deadline:
                time.sleep(0.1)
            receiver.received.clear()
            committed, achieved = _generate(factory, record_ids, rate=rate, seconds=seconds)
            deadline = time.time() + 60
            while len(receiver.received) < len(committed) and time.time() < deadline:
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    lags = []
    for got in receiver.received:
        event_id = int(json.loads(got.body)["id"].split("-")[1])  # "evt-<event>-sub-<sub>"
        if event_id in committed:
            lags.append(got.at - committed[event_id])
    lags.sort()
    return {
        "events": float(len(committed)),
        "delivered": float(len({json.loads(r.body)["id"] for r in receiver.received})),
        "achieved_rate": achieved,
        "lag_p50": statistics.median(lags) if lags else float("nan"),
        "lag_p99": lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else float("nan"),
        "lag_max": lags[-1] if lags else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiers", type=int, default=10_000)
    parser.add_argument("--profiles", type=int, default=1_000)
    parser.add_argument("--webhooks-only", action="store_true", help="Skip the check rates.")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--poll", type=float, default=0.5, help="The worker's idle poll (s).")
    parser.add_argument(
        "--postgres", action="store_true", help="Also measure the lag on a local PostgreSQL."
    )
    args = parser.parse_args()

    from core.db import make_engine, make_session_factory

    results: dict[str, Any] = {"today": date.isoformat(TODAY)}
    with tempfile.TemporaryDirectory(prefix="credithub-checks-") as workdir:
        db = Path(workdir) / "bench.sqlite3"
        url = f"sqlite:///{db}"
        # Five records per entity: 2 x identifiers entities, so every identifier exists.
        built = phase_build(db, rows=args.identifiers * 10)
        print(f"built {int(built['rows']):,} records in {built['seconds']:.1f} s")
        engine = make_engine(url)
        factory = make_session_factory(engine)
        if not args.webhooks_only:
            results.update(_check_rates(factory, args.identifiers, args.profiles))
        lag = webhook_lag(
            factory, url, Path(workdir), rate=args.rate, seconds=args.seconds, poll=args.poll
        )
        _print_lag("sqlite", lag)
        results["webhooks"] = lag
        engine.dispose()
        if args.postgres:
            results["webhooks_postgresql"] = _postgres_lag(args, Path(workdir))
    print(json.dumps(results))


def _check_rates(factory: Any, identifiers: int, profiles_n: int) -> dict[str, Any]:
    profiles = profile_rate(factory, profiles_n)
    print(f"profile look-ups: {profiles['per_second']:.0f}/s ({int(profiles['lookups'])})")
    batch = batch_rate(factory, identifiers)
    ratio = batch["per_second"] / profiles["per_second"]
    print(
        f"batch check: {batch['per_second']:.0f} identifiers/s "
        f"({int(batch['rows']):,} rows, {int(batch['matched']):,} matched, "
        f"{int(batch['with_measures']):,} with the procurement restriction) = "
        f"{ratio:.2f} x the profile rate"
    )
    return {"profiles": profiles, "batch": batch, "ratio_batch_to_profile": ratio}


def _postgres_lag(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """The same lag measurement on a throw-away local PostgreSQL (the test suite's server
    helper; needs the server binaries, ``make postgres-binaries``)."""
    from sqlalchemy import create_engine, text

    from core.db import make_engine, make_session_factory
    from tests.support.postgres import PostgresServer

    server = PostgresServer.start()
    try:
        admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench_checks"))
        admin.dispose()
        url = server.url_for("bench_checks")
        phase_build(workdir / "unused", rows=args.identifiers * 10, url=url)
        engine = make_engine(url)
        lag = webhook_lag(
            make_session_factory(engine),
            url,
            workdir,
            rate=args.rate,
            seconds=args.seconds,
            poll=args.poll,
        )
        engine.dispose()
    finally:
        server.stop()
    _print_lag("postgresql", lag)
    return lag


def _print_lag(backend: str, lag: dict[str, float]) -> None:
    print(
        f"webhooks ({backend}): {int(lag['delivered'])}/{int(lag['events'])} delivered at "
        f"{lag['achieved_rate']:.0f} events/s; lag p50 {lag['lag_p50']:.2f} s, "
        f"p99 {lag['lag_p99']:.2f} s, max {lag['lag_max']:.2f} s (target p99 < 5 s)"
    )


if __name__ == "__main__":
    main()
