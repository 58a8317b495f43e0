"""Credit-check benchmark (issue 16): a batch check of N identifiers through the product's path
(``app.credit_checks.batch.csv_stream``: look-up, visible records, grade, measures, one stored
and audited check per row, commits every 200 rows) beside the baseline measured in the same
run on the same database: profile look-ups (``app.entities.services.entity_profile``) of the
same parties by public id. Then the webhook delivery lag: change events committed at a fixed
rate for some seconds while the delivery worker runs every ``--tick`` seconds, posting to a
local HTTP receiver; lag = received - committed, p50 / p99 / max.

    .venv/bin/python -m benchmarks.credit_checks [--identifiers 10000] [--rate 100] [--seconds 20]

The database (SQLite, a temporary folder) is built with ``benchmarks.export.phase_build``
(entities with valid codes, penalties and dishonest-debtor list entries). The last line
printed is one JSON object. Target (issue 16): webhook lag p99 under 5 s at 100 events/s.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.export import TODAY, _resident_id, _uscc, phase_build

SAMPLE_MEASURES = Path(__file__).resolve().parents[1] / "sample_data" / "measures.toml"


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


def webhook_lag(factory: Any, *, rate: float, seconds: float, tick: float) -> dict[str, float]:
    """Events committed at ``rate`` a second for ``seconds`` (one changed record each, through
    the ORM, so the outbox listener writes the event), the worker running every ``tick``."""
    from sqlalchemy import select

    from app.subscriptions.worker import DeliveryPolicy, run_once
    from core.models import CreditRecord, Subscription
    from core.rules.settings import GradeRules
    from tests.support.receiver import run_receiver

    with factory() as session:
        first = session.scalars(select(CreditRecord).order_by(CreditRecord.id).limit(200)).all()
        entity_ids = sorted({r.entity_id for r in first if r.entity_id is not None})
        record_ids = [r.id for r in first]
        from core.models import ApiClient, Role

        client = ApiClient(name="bench-sub", role=Role.REGULATOR, token_hash="x", token_prefix="x")
        session.add(client)
        session.flush()
        session.add(
            Subscription(
                client_id=client.id,
                url="",
                secret="s" * 64,
                kinds=["record.updated"],
                entity_ids=entity_ids,
            )
        )
        session.commit()
    policy = DeliveryPolicy(allow_private=True, base_seconds=1)
    with run_receiver() as receiver:
        with factory() as session:
            subscription = session.scalars(select(Subscription)).one()
            subscription.url = receiver.url
            session.commit()
        stop = threading.Event()

        def worker() -> None:
            while not stop.is_set():
                run_once(
                    session_factory=factory, policy=policy, today=TODAY, grade_rules=GradeRules()
                )
                stop.wait(tick)

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        # Changes arrive as ingest stores them: a few per transaction (one commit a tenth of a
        # second, holding the events of that tenth), not one commit per event.
        total = int(rate * seconds)
        per_commit = max(1, int(rate / 10))
        started = time.perf_counter()
        for first_event in range(0, total, per_commit):
            due = started + first_event / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            with factory() as session:
                for i in range(first_event, min(first_event + per_commit, total)):
                    record = session.get_one(CreditRecord, record_ids[i % len(record_ids)])
                    record.content = f"bench change {i}"
                    session.flush()
                session.commit()
        deadline = time.time() + 60
        while len(receiver.received) < total and time.time() < deadline:
            time.sleep(0.2)
        stop.set()
        thread.join()
    lags = []
    for got in receiver.received:
        occurred = datetime.fromisoformat(json.loads(got.body)["occurred_at"])
        lags.append(got.at - occurred.astimezone(UTC).timestamp())
    lags.sort()
    return {
        "events": float(total),
        "delivered": float(len(receiver.received)),
        "achieved_rate": total / max(time.perf_counter() - started, 1e-9),
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
    parser.add_argument("--tick", type=float, default=0.5)
    args = parser.parse_args()

    from core.db import make_engine, make_session_factory

    with tempfile.TemporaryDirectory(prefix="credithub-checks-") as workdir:
        db = Path(workdir) / "bench.sqlite3"
        # Five records per entity: 2 x identifiers entities, so every identifier exists.
        built = phase_build(db, rows=args.identifiers * 10)
        print(f"built {int(built['rows']):,} records in {built['seconds']:.1f} s")
        engine = make_engine(f"sqlite:///{db}")
        factory = make_session_factory(engine)
        profiles: dict[str, float] = {"per_second": float("nan")}
        batch: dict[str, float] = {"per_second": float("nan")}
        if not args.webhooks_only:
            profiles = profile_rate(factory, args.profiles)
            print(f"profile look-ups: {profiles['per_second']:.0f}/s ({int(profiles['lookups'])})")
            batch = batch_rate(factory, args.identifiers)
            print(
                f"batch check: {batch['per_second']:.0f} identifiers/s "
                f"({int(batch['rows']):,} rows, {int(batch['matched']):,} matched, "
                f"{int(batch['with_measures']):,} with the procurement restriction) = "
                f"{batch['per_second'] / profiles['per_second']:.2f} x the profile rate"
            )
        lag = webhook_lag(factory, rate=args.rate, seconds=args.seconds, tick=args.tick)
        print(
            f"webhooks: {int(lag['delivered'])}/{int(lag['events'])} delivered at "
            f"{lag['achieved_rate']:.0f} events/s; lag p50 {lag['lag_p50']:.2f} s, "
            f"p99 {lag['lag_p99']:.2f} s, max {lag['lag_max']:.2f} s (target p99 < 5 s)"
        )
        engine.dispose()
    print(
        json.dumps(
            {
                "profiles": profiles,
                "batch": batch,
                "ratio_batch_to_profile": batch["per_second"] / profiles["per_second"],
                "webhooks": lag,
                "today": date.isoformat(TODAY),
            }
        )
    )


if __name__ == "__main__":
    main()
