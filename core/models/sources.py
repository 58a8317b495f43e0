"""What arrived, exactly as it arrived, and the runs that brought it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, JSONType, UTCDateTime, enum_column, utcnow
from core.models.catalogue import Feed
from core.models.enums import IngestRunStatus, SourceStatus


class IngestRun(Base):
    """One execution of a feed.

    Invariant: fetched = accepted + duplicate + updated + quarantined.
    """

    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[IngestRunStatus] = mapped_column(
        enum_column(IngestRunStatus), default=IngestRunStatus.RUNNING
    )
    trigger: Mapped[str] = mapped_column(String(32), default="manual")
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    linked: Mapped[int] = mapped_column(Integer, default=0)
    new_entities: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    feed: Mapped[Feed] = relationship()


class SourceRecord(Base):
    """A record as received. Never deleted: quarantined, duplicate and superseded versions stay.

    ``(feed_id, source_key, version)`` is unique; a changed payload under the same source key is
    a new version whose ``supersedes_id`` points at the one it replaces.
    """

    __tablename__ = "source_records"
    __table_args__ = (
        UniqueConstraint("feed_id", "source_key", "version"),
        Index("ix_source_records_feed_key_hash", "feed_id", "source_key", "payload_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    ingest_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    source_key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    raw_payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    payload_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[SourceStatus] = mapped_column(enum_column(SourceStatus), index=True)
    errors: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Where in the delivery it came from (file name and line, page token, ...), for tracing.
    origin: Mapped[str | None] = mapped_column(String(500))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("source_records.id"))

    feed: Mapped[Feed] = relationship()
    supersedes: Mapped[SourceRecord | None] = relationship(remote_side=[id])


class IngestedFile(Base):
    """A file drop that was fully stored, or set aside because it could not be read
    (``set_aside_reason``: a header naming a column twice, bytes of no encoding it may be in,
    a broken workbook or JSON document). Same feed, name and hash: skipped; a changed file
    under the same name has a new hash and is processed again."""

    __tablename__ = "ingested_files"
    __table_args__ = (UniqueConstraint("feed_id", "name", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    name: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    ingest_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    set_aside_reason: Mapped[str | None] = mapped_column(Text)


class FeedLease(Base):
    """Who is running a feed right now. Taken with one conditional UPDATE, so two scheduler
    processes on the same database never run the same feed at once; a lease expires so a
    crashed holder does not block the feed forever."""

    __tablename__ = "feed_leases"

    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
