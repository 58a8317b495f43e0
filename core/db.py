"""Engines, session factories and the unit of work. No Flask here, so ``ingest/`` and the CLI
use the same code without an application context.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, Select, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; for SQLite, create the file's folder and turn on foreign
    keys and WAL (concurrent readers while the ingest job writes)."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_dumps)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def json_dumps(value: Any) -> str:
    """JSON text for JSON columns. orjson writes it several times faster than ``json.dumps``
    (ingest stores two or three JSON documents a record); what orjson refuses (integers beyond
    64 bits, say) goes through ``json.dumps`` as before, which raises for what neither takes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still never corrupts the database and survives a killed process;
    # only a power cut may lose the last commits (each with its watermark, so consistently).
    # It saves an fsync per commit, which ingest batches and API writes both pay.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects returned by a service stay readable after the owner commits.
    return sessionmaker(bind=engine, expire_on_commit=False)


class UnitOfWork:
    """Owns one session and its transaction: rolls back unless ``commit()`` was called.

    >>> with UnitOfWork(factory) as uow:
    ...     service(session=uow.session, ...)
    ...     uow.commit()
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its 'with' block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    def __exit__(self, *exc_info: object) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    with UnitOfWork(session_factory) as uow:
        yield uow


def paginate(
    session: Session, query: Select[Any], *, page: int, page_size: int
) -> tuple[list[Any], int]:
    """Rows of one page and the total count of the query."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.execute(query.limit(page_size).offset((page - 1) * page_size)))
    return rows, int(total or 0)
