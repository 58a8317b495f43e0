"""Rate-limit counters in the service's own database: a storage for the ``limits`` library.

``limits`` does the limiting (windows, keys, strategies); it ships storages for memory, Redis,
Memcached, MongoDB and etcd but none for SQL, and the service's default deployment has nothing
but its database. So this module writes the one part ``limits`` leaves open, its ``Storage``
interface, on the ``rate_limit_counters`` table: every process and server on the same database
shares the counts. With ``CREDITHUB_REDIS_URL`` set, ``limits``' own Redis storage is used
instead (:func:`storage_for`).

Each write is one statement in its own short transaction (an upsert that starts a new window
when the old one has expired), committed at once: a count must stand even when the request that
made it is rolled back.

Writing every hit made every request a database write: on SQLite all worker processes queued on
its one write lock (the API benchmark's requests took about a second each). So the limiter
counts with :class:`BatchedFixedWindow`: each process holds back at most a hundredth of a
budget (:data:`BATCH_SHARE`) for at most :data:`SYNC_SECONDS` before adding it to the shared
count, and writes at once whenever the count it knows says the budget is spent. Small budgets
(under a hundred: identifier look-ups, objections, the refusal audit) are still written hit by
hit; a caller can overrun a large one by at most a hundredth per worker process.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from core.models import RateLimitCounter

# Expired windows are deleted every this many hits of a process (rows of callers who stopped).
PURGE_EVERY = 1000
_TABLE: Table = RateLimitCounter.__table__  # type: ignore[assignment]
# A process holds back at most 1/BATCH_SHARE of a budget, for at most SYNC_SECONDS.
BATCH_SHARE = 100
SYNC_SECONDS = 1.0
# Callers not seen for this long are forgotten by the process (their held-back hits with them).
_FORGET_SECONDS = 60.0


@dataclass
class _Known:
    """What one process knows of one counter: the shared count at its last write, and its own
    hits since."""

    shared: int
    pending: int
    synced_at: float


class BatchedFixedWindow(FixedWindowRateLimiter):
    """``limits``' fixed window, its hits written to the shared storage in batches per process
    (see the module's docstring for the bound)."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage)
        self._lock = threading.Lock()
        self._known: dict[str, _Known] = {}
        self._hits = itertools.count(1)

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        key = item.key_for(*identifiers)
        now = time.monotonic()
        with self._lock:
            if next(self._hits) % PURGE_EVERY == 0:
                self._forget(now)
            known = self._known.setdefault(key, _Known(shared=0, pending=0, synced_at=-1e9))
            known.pending += cost
            if (
                known.pending <= item.amount // BATCH_SHARE
                and known.shared + known.pending <= item.amount
                and now - known.synced_at < SYNC_SECONDS
            ):
                return True
            amount, known.pending = known.pending, 0
        count = self.storage.incr(key, item.get_expiry(), amount=amount)
        with self._lock:
            known.shared, known.synced_at = count, now
        return count <= item.amount

    def _forget(self, now: float) -> None:
        for key in [k for k, v in self._known.items() if now - v.synced_at > _FORGET_SECONDS]:
            del self._known[key]


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
