"""The review queue of entity resolution: pairs of entities that may be one real party."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, JSONType, UTCDateTime, enum_column, utcnow
from core.models.entities import Entity
from core.models.enums import ReviewStatus
from core.models.sources import SourceRecord


class EntityReview(Base):
    """An uncertain pair for a regulator: confirmed pairs are merged; rejected pairs are a
    reviewer's "not the same", which no automatic decision may ever override."""

    __tablename__ = "entity_reviews"
    __table_args__ = (Index("ix_entity_reviews_pair", "entity_id", "candidate_entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    candidate_entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    algorithm: Mapped[str] = mapped_column(String(64))
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus), default=ReviewStatus.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    entity: Mapped[Entity] = relationship(foreign_keys=[entity_id])
    candidate: Mapped[Entity] = relationship(foreign_keys=[candidate_entity_id])


class MatchingModel(Base):
    """A scoring model the service trained on its own records (``credithub matching train``):
    the JSON document of ``matching.match_model.MatchModel``. The newest row is the one fuzzy
    linking uses; older ones stay, so a match link's ``model_version`` can always be looked up.
    """

    __tablename__ = "matching_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    records: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Records linked before the model was stored are re-decided with it
    # (resolution.relinking): source records up to ``relink_until`` (None: nothing to do),
    # done up to ``relinked_through``.
    relink_until: Mapped[int | None] = mapped_column(Integer)
    relinked_through: Mapped[int | None] = mapped_column(Integer)


class RecordMatchView(Base):
    """A linked record as the matcher reads it (its ``matching.records.MatchRecord`` fields as
    JSON), with the entity it was linked to: ingest compares a new record with the records of
    each candidate entity, as ``credithub resolve`` compares records, not with golden values.
    ``entity_id`` is the entity the record was linked to; merged entities answer through
    ``merged_into_id``."""

    __tablename__ = "record_match_views"

    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    view: Mapped[dict[str, Any]] = mapped_column(JSONType)

    source_record: Mapped[SourceRecord] = relationship()


class RecordBlockKey(Base):
    """The matcher's blocking keys of each linked record (``matching.blocking``): a new
    record finds the records it is compared with by one indexed look-up per key, so the cost
    of linking grows with the batch, not with the data."""

    __tablename__ = "record_block_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"), primary_key=True)
