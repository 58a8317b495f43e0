"""Rate-limit counters in the service's own database: a storage for the ``limits`` library.

``limits`` does the limiting (windows, keys, strategies); it ships storages for memory, Redis,
Memcached, MongoDB and etcd but none for SQL, and the service's default deployment has nothing
but its database. So this module writes the one part ``limits`` leaves open, its ``Storage``
interface, on the ``rate_limit_counters`` table: every process and server on the same database
shares the counts. With ``CREDITHUB_REDIS_URL`` set, ``limits``' own Redis storage is used
instead (:func:`storage_for`).

Each hit is one statement in its own short transaction (an upsert that starts a new window when
the old one has expired), committed at once: a count must stand even when the request that
made it is rolled back.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from limits.storage import Storage, storage_from_string
from sqlalchemy import Engine, Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from core.models import RateLimitCounter

# Expired windows are deleted every this many hits of a process (rows of callers who stopped).
PURGE_EVERY = 1000
_TABLE: Table = RateLimitCounter.__table__  # type: ignore[assignment]


class DatabaseStorage(Storage):
    """``limits`` storage on the ``rate_limit_counters`` table (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["credithub+database"]  # noqa: RUF012  (limits declares it so)

    def __init__(self, engine: Engine, **options: Any) -> None:
        super().__init__(None, **options)
        self.engine = engine
        self._hits = itertools.count(1)
        dialect = engine.dialect.name
        if dialect == "postgresql":
            self._insert: Any = postgresql.insert
        elif dialect == "sqlite":
            self._insert = sqlite.insert
        else:
            raise ValueError(f"rate-limit counters need SQLite or PostgreSQL, not {dialect}")

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        expired = _TABLE.c.expires_at <= now
        statement = (
            self._insert(_TABLE)
            .values(key=key, count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[_TABLE.c.key],
                set_={
                    # Both right-hand sides read the row as it was before this update.
                    "count": case((expired, amount), else_=_TABLE.c.count + amount),
                    "expires_at": case((expired, now + expiry), else_=_TABLE.c.expires_at),
                },
            )
            .returning(_TABLE.c.count)
        )
        with self.engine.begin() as connection:
            count = int(connection.execute(statement).scalar_one())
            if next(self._hits) % PURGE_EVERY == 0:
                connection.execute(delete(_TABLE).where(_TABLE.c.expires_at <= now))
        return count

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            count = connection.scalar(
                select(_TABLE.c.count).where(_TABLE.c.key == key, _TABLE.c.expires_at > time.time())
            )
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            expires = connection.scalar(select(_TABLE.c.expires_at).where(_TABLE.c.key == key))
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.scalar(select(func.count()).select_from(_TABLE))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return int(connection.execute(delete(_TABLE)).rowcount)

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.key == key))


def storage_for(*, engine: Engine, redis_url: str = "") -> Storage:
    """Redis (``limits``' own storage) when ``redis_url`` is set, else the database."""
    if redis_url:
        storage = storage_from_string(redis_url)
        if not isinstance(storage, Storage):  # an async scheme (async+redis://) is no use here
            raise ValueError(f"CREDITHUB_REDIS_URL must be a redis:// URL, not {redis_url!r}")
        return storage
    return DatabaseStorage(engine)
