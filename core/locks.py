"""Process-wide exclusive locks over a shared database, held for a long piece of work that
spans many transactions (training the matching model and relinking: ``ingest.auto_training``).

On PostgreSQL, a session-level advisory lock (``pg_try_advisory_lock``) on a connection of its
own, kept for the duration: any process or machine using the database sees it, and the
server frees it when the holder's connection drops (a crashed process blocks nobody). On
SQLite, whose users share one file on one machine, an ``flock`` on a file beside the database
file, freed by the kernel when the holder dies; an in-memory database (one process) takes a
lock of the process. Neither holds a database lock, so the holder's own transactions write
freely while it is held.
"""

from __future__ import annotations

import fcntl
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

__all__ = ["exclusive"]

_IN_PROCESS: dict[str, threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Try to take the lock ``name`` without waiting; yields True when this caller holds it
    (released on leaving the block), False when another process or thread does."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name) as held:
            yield held
    else:
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file::memory:"):
            with _file_lock(Path(f"{database}.{name}.lock")) as held:
                yield held
        else:
            with _process_lock(name) as held:
                yield held


def _key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (high bits tag it as ours)."""
    return (0x4348 << 32) | zlib.crc32(name.encode())


@contextmanager
def _advisory(engine: Engine, name: str) -> Iterator[bool]:
    with engine.connect() as connection:
        held = bool(
            connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(name)})
        )
        connection.commit()
        try:
            yield held
        finally:
            if held:
                # A session-level lock outlives rollbacks: released by hand before the
                # connection goes back to the pool.
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
                connection.commit()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def _process_lock(name: str) -> Iterator[bool]:
    with _IN_PROCESS_GUARD:
        lock = _IN_PROCESS.setdefault(name, threading.Lock())
    held = lock.acquire(blocking=False)
    try:
        yield held
    finally:
        if held:
            lock.release()
