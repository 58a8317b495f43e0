"""The API benchmark's database: N entities and their credit records stored through the
ingest pipeline's own bulk path, so the database holds what production's ingest writes.

Every record goes through :func:`ingest.pipeline.store.store_batch` (mapping, validation,
exactly-once source records, credit records, linking at ingest: entities, identifiers, golden
values, match links, the stored record views and blocking keys, outbox events), in batches of
``--batch`` records (one transaction each), the rows written by ``core.bulk_writes.insert_rows``
(``COPY`` on PostgreSQL, the driver's ``executemany`` on SQLite). What is skipped is only what
surrounds a batch in production: the HTTP request, the push's size limit (1,000 items) and the
ingest run rows. The name-search index follows the entities (SQLite's FTS5 triggers,
PostgreSQL's GIN index), as it does in production.

The records: entity ``n`` (1..N, one in ten a natural person with a resident id, the others
companies with a USCC) has two penalties, one from EPB's feed and one from SAMR's or TAX's,
each naming the party by name and code; every party is new, so each first record creates its
entity and the second links to it by its code.

A database built once is reused (``benchmarks.api --reuse``): :func:`describe` reads back
what the load needs (tokens are made anew each run), after ``credithub db upgrade``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, text, update

PERSON_SHARE = 10  # one entity in ten is a natural person
DEPARTMENTS = [
    ("EPB", "北京市生态环境局"),
    ("SAMR", "北京市市场监督管理局"),
    ("TAX", "国家税务总局北京市税务局"),
]
PUSH_MAPPING = {"preset": "double_publicity_penalty", "fine_unit": "yuan"}


def uscc(n: int) -> str:
    from stdnum.cn import uscc as stdnum_uscc

    from matching.org_codes import org_code_check_char

    body = f"{n:08d}"
    base = f"91110000{body}{org_code_check_char(body)}"
    return base + stdnum_uscc.calc_check_digit(base)


def resident_id(n: int) -> str:
    from stdnum.cn import ric

    # Unique for n below 15,000,000: the sequence number is n's last three digits, the birth
    # date its thousands (two people with one resident id would be one entity to ingest).
    born = date(1960, 1, 1) + timedelta(days=(n // 1000) % 15000)
    body = f"110105{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def party(n: int) -> dict[str, str]:
    """Entity ``n``'s party fields as a penalty feed sends them."""
    if n % PERSON_SHARE == 0:
        return {"CF_XDR_MC": f"张伟{n}", "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证",
                "CF_XDR_ZJHM": resident_id(n)}  # fmt: skip
    return {"CF_XDR_MC": f"北京测试{n}科技有限公司", "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_SHXYM": uscc(n)}  # fmt: skip


def penalty(
    n: int, department: str, serial: int, fields: dict[str, str] | None = None
) -> dict[str, str]:
    """One penalty about entity ``n`` (its party ``fields``) from ``department``, the data
    set's ``serial``-th record."""
    decided = date(2024, 1, 1) + timedelta(days=serial % 880)
    return {
        **(fields or party(n)),
        "CF_XZCFJDSWH": f"{department}罚〔2026〕{serial}号",
        "CF_CFLB": "罚款",
        "CF_NR_FK": str(1000 + serial % 50_000),
        "CF_JDRQ": decided.isoformat(),
        "CF_CFJG": dict(DEPARTMENTS)[department],
    }


def feed_records(first: int, last: int) -> Iterator[tuple[str, list[int], list[dict[str, str]]]]:
    """Entities ``first``..``last``'s records by feed, with the entity of each: EPB's first
    (each creates its entity), then the second feed's (each links to it)."""
    numbers = list(range(first, last + 1))
    parties = {n: party(n) for n in numbers}
    yield "EPB", numbers, [penalty(n, "EPB", 2 * n - 1, parties[n]) for n in numbers]
    for department, parity in (("SAMR", 1), ("TAX", 0)):
        chosen = [n for n in numbers if n % 2 == parity]
        yield department, chosen, [penalty(n, department, 2 * n, parties[n]) for n in chosen]


def create_catalogue(url: str) -> None:
    """The departments and their push feeds (penalties, the double-publicity preset)."""
    from core.db import make_engine
    from core.models import Department, Feed

    engine = make_engine(url)
    with engine.begin() as conn:
        for i, (code, name) in enumerate(DEPARTMENTS, start=1):
            conn.execute(insert(Department).values(id=i, code=code, name=name))
            conn.execute(
                insert(Feed).values(
                    id=i, code=f"{code.lower()}-feed", name=f"{name}数据", department_id=i,
                    format="json", record_category="penalty", data_items=[],
                    sharing_type="unconditional", sharing_conditions={}, adapter="push",
                    adapter_settings={}, field_mapping=PUSH_MAPPING,
                )
            )  # fmt: skip
        if engine.dialect.name == "postgresql":
            for table in ("departments", "feeds"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    engine.dispose()


def ingest(url: str, n_entities: int, *, batch: int = 5000, progress: bool = False) -> None:
    """Entities 1..``n_entities`` and their records through the pipeline's ``store_batch``,
    ``batch`` entities (twice as many records) a transaction."""
    from core.db import UnitOfWork, make_engine, make_session_factory
    from core.models import Feed
    from ingest.adapters.base import Batch, RawRecord
    from ingest.pipeline.store import store_batch

    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    for first in range(1, n_entities + 1, batch):
        last = min(first + batch - 1, n_entities)
        with UnitOfWork(factory) as uow:
            for department, _numbers, payloads in feed_records(first, last):
                if not payloads:
                    continue
                feed = uow.session.scalars(
                    select(Feed).where(Feed.code == f"{department.lower()}-feed")
                ).one()
                raw = [
                    RawRecord(payload=p, origin="bench", key=p["CF_XZCFJDSWH"]) for p in payloads
                ]
                store_batch(session=uow.session, feed=feed, run=None, batch=Batch(records=raw))
            uow.commit()
        if progress:
            elapsed = time.perf_counter() - started
            print(f"  {last:,} entities in {elapsed:.0f} s ({2 * last / elapsed:,.0f} rec/s)",
                  flush=True)  # fmt: skip
    engine.dispose()


def build(url: str, n_entities: int, *, batch: int = 5000, progress: bool = False) -> float:
    """A migrated database at ``url`` (empty) with ``n_entities`` entities; returns seconds."""
    from core.migrate import upgrade

    started = time.perf_counter()
    upgrade(url)
    create_catalogue(url)
    ingest(url, n_entities, batch=batch, progress=progress)
    from core.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def describe(url: str, n_entities: int) -> dict[str, Any]:
    """What the load needs from a built database: new tokens for a regulator and for EPB's
    pusher, 100 companies to push about, a company and a person in the middle of the ids."""
    from app.auth.services import create_client
    from core.db import make_engine, make_session_factory
    from core.models import Feed, Role

    engine = make_engine(url)
    run = time.strftime("%Y%m%d-%H%M%S")  # a reused database keeps earlier runs' clients
    with make_session_factory(engine)() as session:
        _client, token = create_client(session=session, name=f"bench-{run}", role=Role.REGULATOR)
        _pusher, push_token = create_client(
            session=session, name=f"bench-epb-{run}", role=Role.DEPARTMENT, department_code="EPB"
        )
        session.execute(
            update(Feed).where(Feed.code == "epb-feed").values(field_mapping=PUSH_MAPPING)
        )
        session.commit()
        companies = session.execute(
            text("SELECT e.display_name, i.value FROM entities e JOIN entity_identifiers i "
                 "ON i.entity_id = e.id WHERE i.id_type = 'uscc' ORDER BY e.id LIMIT 100"),
        ).all()  # fmt: skip
        probe = n_entities // 2 + 1
        company = probe if probe % PERSON_SHARE else probe + 1
        person = (probe // PERSON_SHARE + 1) * PERSON_SHARE
        found = {}
        for n in (company, person):
            # By the entity's name: databases built before the resident ids were made unique
            # hold several people with one id.
            name = party(n)["CF_XDR_MC"]
            found[n] = session.execute(
                text("SELECT e.id, e.public_id, e.display_name, i.value FROM entities e "
                     "JOIN entity_identifiers i ON i.entity_id = e.id "
                     "WHERE e.display_name = :name AND i.id_type IN ('uscc', 'resident_id')"),
                {"name": name},
            ).one()  # fmt: skip
    engine.dispose()
    return {
        "token": token,
        "push_token": push_token,
        "push_companies": [tuple(c) for c in companies],
        "company": tuple(found[company]),
        "person": tuple(found[person]),
    }
