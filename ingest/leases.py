"""Feed leases: at most one process runs a feed at a time, across processes and machines
that share the database. A lease is taken by one conditional UPDATE (atomic on SQLite and
PostgreSQL alike) and expires, so a crashed holder blocks its feed only until ``ttl``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models import FeedLease, utcnow


class FeedBusy(RuntimeError):
    """Another holder runs this feed now."""


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
    for _attempt in range(2):
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
            exists = session.scalar(select(FeedLease.feed_id).where(FeedLease.feed_id == feed_id))
            if exists is not None:
                current = session.get(FeedLease, feed_id)
                raise FeedBusy(f"feed is being run by {current.holder if current else '?'}")
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


def renew(*, session: Session, feed_id: int, holder: str, ttl: timedelta) -> None:
    """Extend the lease inside the caller's (batch) transaction."""
    session.execute(
        update(FeedLease)
        .where(FeedLease.feed_id == feed_id, FeedLease.holder == holder)
        .values(expires_at=utcnow() + ttl)
    )


def release(*, session_factory: sessionmaker[Session], feed_id: int, holder: str) -> None:
    with session_factory() as session:
        session.execute(
            update(FeedLease)
            .where(FeedLease.feed_id == feed_id, FeedLease.holder == holder)
            .values(holder=None, acquired_at=None, expires_at=None)
        )
        session.commit()
