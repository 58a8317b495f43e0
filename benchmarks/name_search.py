"""Name search in one process: the search service's wall time per query, against a search by
USCC (the baseline) in the same run, on the API benchmark's database.

    .venv/bin/python -m benchmarks.name_search [--entities 300000] [--backends sqlite,postgresql]
        [--repeat 30] [--sqlite-file PATH]

Builds the entities with ``benchmarks.api.build`` (its template names 北京测试N科技有限公司 and
张伟N make every trigram of the template common: the hard case for a trigram index), or reuses
an SQLite file already built (``--sqlite-file``, e.g. ``make bench-api``'s ``--out``). For each
query kind it times ``app.entities.services.search_entities`` as a regulator (the API's service:
the search, a page of 20, the audit event, rolled back) and prints p50, p99 and max in ms and
the ratio of p50 to the USCC search's; the last line is one JSON object. Wall time: on
PostgreSQL the server's work is in it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any


def _queries(n_entities: int) -> dict[str, str]:
    probe = n_entities // 2 + 1
    company = probe if probe % 10 else probe + 1
    return {
        "uscc (baseline)": "",  # filled from the database
        "exact full name": f"北京测试{company}科技有限公司",
        "typo in the name": f"北京测试{company}科技有限工司",
        "core name only": f"测试{company}科技",
        "name prefix": f"北京测试{company}",
        "person 张伟N": f"张伟{probe // 10 * 10 or 10}",
        "common word 科技": "科技",
        "common word 有限公司": "有限公司",
    }


def time_backend(url: str, n_entities: int, repeat: int) -> dict[str, Any]:
    from sqlalchemy import text

    from app.entities.present import Viewer
    from app.entities.services import SearchFilters, search_entities
    from core.db import make_engine, make_session_factory
    from core.models import Role

    engine = make_engine(url)
    queries = _queries(n_entities)
    results: dict[str, Any] = {}
    with make_session_factory(engine)() as session:
        queries["uscc (baseline)"] = session.scalar(
            text("SELECT value FROM entity_identifiers WHERE id_type = 'uscc' LIMIT 1")
        )
        feed_ids = frozenset(session.scalars(text("SELECT id FROM feeds")))
        viewer = Viewer(client=None, role=Role.REGULATOR, feed_ids=feed_ids, today=date.today())
        for kind, q in queries.items():
            times, total = [], 0
            for _i in range(repeat + 3):
                started = time.perf_counter()
                _items, total, _kind = search_entities(
                    session=session,
                    viewer=viewer,
                    q=q,
                    filters=SearchFilters(),
                    page=1,
                    page_size=20,
                    query_key=b"bench",
                )
                times.append((time.perf_counter() - started) * 1000)
                session.rollback()
            times = sorted(times[3:])
            results[kind] = {
                "p50_ms": round(statistics.median(times), 2),
                "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 2),
                "max_ms": round(times[-1], 2),
                "hits": total,
            }
    engine.dispose()
    base = results["uscc (baseline)"]["p50_ms"]
    for row in results.values():
        row["x_uscc"] = round(row["p50_ms"] / base, 1) if base else None
    return results


def _print(backend: str, results: dict[str, Any]) -> None:
    print(f"\n{backend}: search_entities wall ms (p50 / p99 / max), x the USCC search's p50")
    for kind, r in results.items():
        print(
            f"  {kind:24} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f}"
            f"  x{r['x_uscc']}  hits {r['hits']}"
        )


def main() -> None:
    from benchmarks.api import build

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=300_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--sqlite-file", help="an SQLite database benchmarks.api built")
    args = parser.parse_args()
    summary: dict[str, Any] = {"entities": args.entities}
    with tempfile.TemporaryDirectory(prefix="credithub-bench-names-") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                path = args.sqlite_file or str(Path(tmp) / "names.sqlite3")
                url = f"sqlite:///{path}"
                if not args.sqlite_file:
                    build(url, args.entities)
                summary[backend] = time_backend(url, args.entities, args.repeat)
            else:
                from tests.support.postgres import PostgresServer

                pg = PostgresServer.start()
                try:
                    url = pg.create_database("bench_names")
                    build(url, args.entities)
                    summary[backend] = time_backend(url, args.entities, args.repeat)
                finally:
                    pg.stop()
            _print(backend, summary[backend])
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
