"""The API benchmark's bulk build: the rows ingest would write for the benchmark's records
(:mod:`benchmarks.api_build`), computed with ingest's own functions and written a table at a
time with ``core.bulk_writes.insert_rows`` (``COPY`` on PostgreSQL, ``executemany`` on
SQLite), without ingest's reads (``store_batch`` does about 500 records a second in one
process; this path splits the computing over worker processes and writes a table at a time).

Rows are computed in worker processes (``workers``, chunks of ``batch`` entities) and
written by the parent, a chunk a transaction, while the workers compute the next ones: the
ids are the data set's own (entity ``n``; its records ``2n - 1`` and ``2n``), so no row
waits for the database to number another. It can skip ingest's reads because it knows the
data set: every party is new and has its own valid code, and each has exactly two records,
so the first record of a party creates its entity (the linker's ``new_entity``) and the
second links to it by that code (the linker's exact-code link, scored by the matcher against
the first record). Everything else is the pipeline's code, per
record: planning and validation (``ingest.pipeline.plan``), the credit row
(``credit_values``), the party keys, identifiers, golden values (``resolution.golden``), the
match link's explanation (``resolution.linking._explain`` with the matcher's
``score_pair``), the record views and blocking keys (``write_record_views``), the outbox
events (``emit_inserted``); the name-search index follows the entities as in production
(the ``entity_name_grams`` postings, kept by triggers on both backends).

One thing differs from a build through the pipeline, and cannot be the same between two
pipeline builds either: the ``excluded`` list of a second record's link explanation names the
other entities its blocking keys met that a hard rule (different valid codes) ruled out, which
depends on what was stored, and in which batch, when the record arrived. The bulk path writes
no such list. ``tests/benchmarks/test_api_build.py`` checks that the API answers the same for
a small build either way, on both databases.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from benchmarks.api_build import feed_records


@dataclass
class _Feed:
    id: int
    department_id: int
    category: Any
    mapping: dict[str, Any]
    authority: int


@dataclass
class _Chunk:
    """One chunk's rows, table by table, in the order they are written."""

    sources: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    identifiers: list[dict[str, Any]]
    attributes: list[dict[str, Any]]
    views: list[tuple[int, int, dict[str, Any], frozenset[str]]]
    links: list[dict[str, Any]]
    credits: list[dict[str, Any]]


_WORKER: dict[str, Any] = {}


def _load(url: str) -> None:
    """A worker's feeds and scoring model, read once."""
    from core.db import make_engine, make_session_factory
    from core.models import Feed
    from core.rules.authority import feed_authority
    from ingest.mapping import resolve_mapping
    from matching.model import MatchConfig
    from resolution.matching_models import current_model

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        model = current_model(session=session)
        _WORKER["feeds"] = {
            f.code: _Feed(f.id, f.department_id, f.record_category,
                          resolve_mapping(f.field_mapping or {}),
                          feed_authority(f.record_category, f.golden_authority))
            for f in session.scalars(select(Feed))
        }  # fmt: skip
    engine.dispose()
    _WORKER["model_version"] = model.version
    _WORKER["config"] = model.config(MatchConfig())


def bulk_ingest(
    urls: list[str],
    n_entities: int,
    *,
    first: int = 1,
    batch: int = 10_000,
    workers: int = 2,
    progress: bool = False,
    saved_indexes: Path | None = None,
) -> None:
    """Entities ``first``..``n_entities`` and their records into each migrated database of
    ``urls`` (each with the catalogue of :func:`benchmarks.api_build.create_catalogue` and
    entities 1..``first - 1`` already, written a chunk a transaction: a build stopped half way
    goes on from the last chunk committed): the rows are computed once and written to each
    (public ids included). ``workers`` 0 computes in this process. ``saved_indexes``: where the
    definitions of the indexes dropped for the load are kept until they are made again, so an
    interrupted build's next run still makes them."""
    import multiprocessing

    from core.db import UnitOfWork, make_engine, make_session_factory

    engines = [make_engine(url) for url in urls]
    factories = [make_session_factory(engine) for engine in engines]
    chunks = [(start, min(start + batch - 1, n_entities))
              for start in range(first, n_entities + 1, batch)]  # fmt: skip
    started = time.perf_counter()
    def write_all(computed: Iterable[_Chunk]) -> None:
        for (_first, last), chunk in zip(chunks, computed, strict=True):
            for factory in factories:
                with UnitOfWork(factory) as uow:
                    _write(uow.session, chunk)
                    uow.commit()
            if progress:
                elapsed = time.perf_counter() - started
                print(f"  {last:,} entities in {elapsed:.0f} s ({2 * last / elapsed:,.0f} rec/s)",
                      flush=True)  # fmt: skip

    for engine in engines:
        _indexes_off(engine, saved_indexes)
    if workers <= 0:  # in this process (tests)
        _load(urls[0])
        write_all(map(_compute, chunks))
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_load, initargs=(urls[0],)) as pool:
            write_all(_bounded(pool, chunks, ahead=workers + 1))
    for engine in engines:
        _indexes_on(engine, saved_indexes)
    for engine in engines:
        if engine.dialect.name == "postgresql":
            # The ids were the data set's own: the sequences go on after them.
            with engine.begin() as conn:
                for table in ("entities", "source_records"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))  # fmt: skip
        engine.dispose()


def _bounded(pool: Any, chunks: list[tuple[int, int]], ahead: int) -> Iterator[_Chunk]:
    """The chunks computed by ``pool`` in order, at most ``ahead`` of them waiting: the writer
    is slower than the workers, and a chunk's rows take tens of MB."""
    pending: deque[Any] = deque()
    for bounds in chunks:
        pending.append(pool.apply_async(_compute, (bounds,)))
        if len(pending) > ahead:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


# PostgreSQL's bulk-load practice: the secondary indexes (not those of a key or a unique
# constraint) are dropped before the load and made again from their own definitions after it.
# The database ends with the same schema and rows as one loaded with its indexes. Triggers and
# foreign keys stay on: a migration may keep a table by trigger (namesearch4's name grams).
_SECONDARY = """SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()
AND indexname NOT IN (SELECT conname FROM pg_constraint) AND tablename = ANY(:tables)"""
_LOADED = ["entities", "entity_identifiers", "entity_attributes", "source_records",
           "credit_records", "match_links", "record_match_views", "record_block_keys",
           "outbox_events"]  # fmt: skip
_DROPPED: dict[str, dict[str, str]] = {}


def _indexes_off(engine: Any, saved: Path | None) -> None:
    if engine.dialect.name != "postgresql":
        return
    kept = json.loads(saved.read_text()) if saved is not None and saved.exists() else {}
    with engine.begin() as conn:
        found = dict(conn.execute(text(_SECONDARY), {"tables": _LOADED}).all())
        kept.update(found)
        if saved is not None:
            saved.write_text(json.dumps(kept, indent=1))
        for name in found:
            conn.execute(text(f'DROP INDEX "{name}"'))
    _DROPPED[engine.url.render_as_string()] = kept


def _indexes_on(engine: Any, saved: Path | None) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for definition in _DROPPED.pop(engine.url.render_as_string()).values():
            conn.execute(text(definition))
    if saved is not None:
        saved.unlink(missing_ok=True)


def _write(session: Session, chunk: _Chunk) -> None:
    from core.bulk_writes import insert_rows
    from core.models import (
        CreditRecord,
        Entity,
        EntityAttribute,
        EntityIdentifier,
        MatchLink,
        SourceRecord,
    )
    from core.outbox import emit_inserted
    from resolution.record_views import write_record_views

    insert_rows(session, SourceRecord.__table__, chunk.sources)
    insert_rows(session, Entity.__table__, chunk.entities)
    insert_rows(session, EntityIdentifier.__table__, chunk.identifiers)
    insert_rows(session, EntityAttribute.__table__, chunk.attributes)
    write_record_views(session, chunk.views)
    insert_rows(session, MatchLink.__table__, chunk.links)
    insert_rows(session, CreditRecord.__table__, chunk.credits)
    emit_inserted(session, chunk.credits)


def _plans(first: int, last: int) -> dict[int, list[tuple[_Feed, Any]]]:
    """Per entity, its records planned as ``store_batch`` plans them, in delivery order, with
    their source ids (entity ``n``'s records are ``2n - 1`` and ``2n``)."""
    from core.models import utcnow
    from core.rules.settings import ValueRules
    from ingest.adapters.base import Batch, RawRecord
    from ingest.mapping import MappingPlan
    from ingest.pipeline.outcomes import Counts
    from ingest.pipeline.plan import plan_records, prepare_records, validate_records
    from ingest.value_checks import ValueChecks

    feeds: dict[str, _Feed] = _WORKER["feeds"]
    by_entity: dict[int, list[tuple[_Feed, Any]]] = {}
    received = utcnow()
    for department, entity_numbers, payloads in feed_records(first, last):
        feed = feeds[f"{department.lower()}-feed"]
        raw = [RawRecord(payload=p, origin="bench", key=p["CF_XZCFJDSWH"]) for p in payloads]
        prepared = prepare_records(Batch(records=raw), MappingPlan(feed.mapping))
        checks = ValueChecks(rules=ValueRules(), fine_unit=feed.mapping["fine_unit"])
        validated = validate_records(feed.category, prepared, checks)
        plans, _ = plan_records(feed_id=feed.id, run_id=None, received=received,
                                prepared=prepared, validated=validated, states={},
                                counts=Counts(fetched=len(prepared)))  # fmt: skip
        if any(p.record is None for p in plans):
            raise ValueError(f"the benchmark's records failed validation: {plans[0].row}")
        for n, plan in zip(entity_numbers, plans, strict=True):
            records = by_entity.setdefault(n, [])
            plan.source_id = plan.row["id"] = 2 * n - 1 + len(records)
            records.append((feed, plan))
    return by_entity


def _compute(bounds: tuple[int, int]) -> _Chunk:
    """Entities ``first``..``last`` as the rows ingest writes for them.

    This function is long because it is the linker's work for a record, in its order:
    identifiers, golden values, the link and its explanation, the record view, the credit row."""
    from core.models import new_public_id, search_key_values, utcnow
    from core.models.enums import DecidedBy, EntityKind, MatchDecision
    from ingest.pipeline.credit_values import credit_values
    from matching.exact import PartyKeysCache, stored_identifiers
    from matching.model import score_pair
    from matching.records import prepare
    from matching.resolve import ALGORITHM
    from resolution.golden import GOLDEN_FIELDS, _record_values, basis_of, basis_rank
    from resolution.linking import _explain
    from resolution.record_matching import Verdict
    from resolution.record_views import record_for_matching, stored_block_keys, view_of

    first, last = bounds
    by_entity = _plans(first, last)
    party_keys = PartyKeysCache(maxsize=64)
    now = utcnow()
    chunk = _Chunk([], [], [], [], [], [], [])
    for n in range(first, last + 1):
        records = by_entity[n]
        keys = party_keys(records[0][1].record)
        kind = EntityKind(keys.kind)
        name = str(records[0][1].record["party_name"])
        entity = {"id": n, "public_id": new_public_id(kind), "kind": kind, "display_name": name,
                  "region_code": keys.region, "merged_into_id": None,
                  "created_at": now, "updated_at": now, **search_key_values(name)}  # fmt: skip
        chunk.entities.append(entity)
        held: set[tuple[str, str]] = set()
        current: dict[str, dict[str, Any]] = {}
        previous = None
        for feed, plan in records:
            record, source_id = plan.record, plan.source_id
            chunk.sources.append(plan.row)
            keys = party_keys(record)
            for id_type, value, valid, problem in stored_identifiers(keys):
                if (id_type, value) not in held:
                    held.add((id_type, value))
                    problem = (problem or "")[:300] or None
                    chunk.identifiers.append(
                        {"entity_id": n, "id_type": id_type, "value": value, "valid": valid,
                         "problem": problem, "source_record_id": source_id, "created_at": now}
                    )  # fmt: skip
            basis = basis_of(keys)
            standing = (basis_rank(basis), feed.authority)
            for field_name, value in _record_values(record, keys).items():
                if field_name not in GOLDEN_FIELDS or value is None:
                    continue
                row = {"entity_id": n, "field": field_name, "value": str(value),
                       "source_record_id": source_id, "feed_id": feed.id, "basis": basis,
                       "observed_at": now, "is_current": True}  # fmt: skip
                # update_golden: the newer value wins unless the current one outranks it.
                old = current.get(field_name)
                if old is not None and standing < old["standing"]:
                    row["is_current"] = False
                else:
                    if old is not None:
                        old["row"]["is_current"] = False
                    current[field_name] = {"row": row, "standing": standing}
                chunk.attributes.append(row)
            matchable = record_for_matching(record, kind=keys.kind, record_id=f"record:{source_id}")
            prepared = prepare(matchable)
            verdict = Verdict()
            if previous is not None:
                verdict = Verdict(
                    entities=[SimpleNamespace(public_id=entity["public_id"])],  # type: ignore[list-item]
                    best=score_pair(prepared, previous, _WORKER["config"]),
                    best_record=previous,
                    compared=1,
                )
            confidence, explanation = _explain(keys, verdict, _WORKER["model_version"])
            chunk.links.append({"source_record_id": source_id, "entity_id": n,
                                "decision": MatchDecision.POSITIVE, "score": confidence,
                                "explanation": explanation, "algorithm": ALGORITHM,
                                "model_version": explanation.get("model_version"),
                                "decided_by": DecidedBy.RULE, "decided_at": now})  # fmt: skip
            chunk.views.append((source_id, n, view_of(matchable), stored_block_keys(prepared)))
            chunk.credits.append({"feed_id": feed.id, "department_id": feed.department_id,
                                  "source_record_id": source_id,
                                  "created_at": plan.row["received_at"],
                                  "updated_at": plan.row["received_at"],
                                  **credit_values(feed.category, record, feed.mapping, None),
                                  "entity_id": n, "link_confidence": confidence})  # fmt: skip
            previous = prepared
    return chunk
