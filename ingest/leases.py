"""Feed leases: at most one process runs a feed at a time, across processes and machines
that share the database. A lease is taken by one conditional UPDATE (atomic on SQLite and
PostgreSQL alike) and expires, so a crashed holder blocks its feed only until ``ttl``."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.models import FeedLease, utcnow


class FeedBusy(RuntimeError):
    """Another holder runs this feed now."""


class LeaseLost(RuntimeError):
    """The lease expired and another holder took the feed over: the batch in hand must not be
    stored (the new holder may be storing the same records)."""


def acquire(
    *,
    session_factory: sessionmaker[Session],
    feed_id: int,
    holder: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> None:
    """Take the feed's lease in its own committed transaction; raises :class:`FeedBusy`."""
    moment = now or utcnow()
    for _attempt in range(3):
        with session_factory() as session:
            taken = session.execute(
                update(FeedLease)
                .where(
                    FeedLease.feed_id == feed_id,
                    or_(FeedLease.holder.is_(None), FeedLease.expires_at < moment),
                )
                .values(holder=holder, acquired_at=moment, expires_at=moment + ttl)
            ).rowcount
            if taken == 1:
                session.commit()
                return
            current = session.get(FeedLease, feed_id)
            if current is not None:
                if current.holder and _holder_is_dead(current.holder):
                    # Killed on this machine: its lease need not wait for the TTL.
                    session.execute(
                        update(FeedLease)
                        .where(FeedLease.feed_id == feed_id, FeedLease.holder == current.holder)
                        .values(holder=None)
                    )
                    session.commit()
                    continue
                raise FeedBusy(f"feed is being run by {current.holder}")
            session.add(
                FeedLease(
                    feed_id=feed_id, holder=holder, acquired_at=moment, expires_at=moment + ttl
                )
            )
            try:
                session.commit()
                return
            except IntegrityError:
                # Another process created the row first: go round and compete by UPDATE.
                session.rollback()
    raise FeedBusy("feed lease is contended")


def _holder_is_dead(holder: str) -> bool:
    """True when ``holder`` ("host:pid") names a process of this host that no longer exists."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def renew(*, session: Session, feed_id: int, holder: str, ttl: timedelta) -> None:
    """Extend the lease inside the caller's (batch) transaction; raises :class:`LeaseLost`
    when ``holder`` no longer holds it, so that the caller rolls its batch back."""
    renewed = session.execute(
        update(FeedLease)
        .where(FeedLease.feed_id == feed_id, FeedLease.holder == holder)
        .values(expires_at=utcnow() + ttl)
    ).rowcount
    if renewed != 1:
        raise LeaseLost(
            "the feed's lease expired and another process took the feed over; "
            "this batch was not stored"
        )


def release(*, session_factory: sessionmaker[Session], feed_id: int, holder: str) -> None:
    with session_factory() as session:
        session.execute(
            update(FeedLease)
            .where(FeedLease.feed_id == feed_id, FeedLease.holder == holder)
            .values(holder=None, acquired_at=None, expires_at=None)
        )
        session.commit()
