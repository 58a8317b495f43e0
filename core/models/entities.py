"""Resolved entities, their identifiers and their golden record."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, enum_column, utcnow
from core.models.enums import EntityKind, IdentifierType
from matching.search_names import SEARCH_KEY_LENGTH, search_keys

if TYPE_CHECKING:
    from core.models.sources import SourceRecord

# Crockford base32 without I, L, O, U: public ids are read aloud and typed by regulators.
_PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PUBLIC_ID_LENGTH = 10
_PUBLIC_ID_BITS = 5 * _PUBLIC_ID_LENGTH
_PUBLIC_ID_SHIFTS = tuple(range(_PUBLIC_ID_BITS - 5, -1, -5))
_KIND_PREFIX = {
    EntityKind.LEGAL_ENTITY: "L",
    EntityKind.INDIVIDUAL_BUSINESS: "B",
    EntityKind.NATURAL_PERSON: "P",
    EntityKind.OTHER_ORGANIZATION: "O",
}


def new_public_id(kind: EntityKind) -> str:
    """A random, never-reused public id such as ``CHL-7K2M9QX4TD``.

    Random rather than sequential so that re-running resolution or loading in another order
    never renumbers anything, and ids leak no counts.
    """
    # One 50-bit draw read as ten base-32 digits: the same uniform distribution as ten
    # ``secrets.choice`` calls (the alphabet has exactly 2**5 letters), at a tenth of the cost
    # (an ingest batch creates thousands of entities).
    bits = secrets.randbits(_PUBLIC_ID_BITS)
    body = "".join(_PUBLIC_ID_ALPHABET[(bits >> shift) & 31] for shift in _PUBLIC_ID_SHIFTS)
    return f"CH{_KIND_PREFIX[kind]}-{body}"


# Byte order on PostgreSQL too (the "C" collation), so a prefix is a range of one b-tree index
# whatever the server's locale; SQLite compares bytes already.
_SEARCH_KEY = String(SEARCH_KEY_LENGTH).with_variant(
    String(SEARCH_KEY_LENGTH, collation="C"), "postgresql"
)


class Entity(Base):
    """One real company, business or person. ``public_id`` is stable for its whole life.

    ``merged_into_id`` keeps merged entities resolvable: their old public id still answers.

    ``search_name`` and ``search_core`` are the display name's search forms
    (:func:`matching.search_names.search_keys`), kept by :func:`search_key_values` wherever the
    name is written: the ORM's flush fills them by itself, Core writes (ingest's entity views)
    pass them. Name search reads them through b-tree indexes (exact, prefix) and a trigram index
    of ``search_name`` (SQLite FTS5, PostgreSQL ``pg_trgm``; migration ``0012_name_search``).
    """

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[EntityKind] = mapped_column(enum_column(EntityKind), index=True)
    display_name: Mapped[str] = mapped_column(String(300), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    # Indexed: a profile reads the group merged into an entity (resolution.survivors).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    search_name: Mapped[str] = mapped_column(_SEARCH_KEY, index=True, default="")
    search_core: Mapped[str] = mapped_column(_SEARCH_KEY, index=True, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    identifiers: Mapped[list[EntityIdentifier]] = relationship(
        back_populates="entity", cascade="all, delete-orphan"
    )
    attributes: Mapped[list[EntityAttribute]] = relationship(
        back_populates="entity", cascade="all, delete-orphan"
    )


def search_key_values(display_name: str) -> dict[str, str]:
    """The ``entities`` columns that go with ``display_name``, for Core inserts and updates."""
    name, core = search_keys(display_name)
    return {"search_name": name, "search_core": core}


@event.listens_for(Entity, "before_insert")
@event.listens_for(Entity, "before_update")
def _fill_search_keys(_mapper: object, _connection: object, entity: Entity) -> None:
    # Every ORM write of a name (a split's new entity, tests' builders) keeps the search columns.
    entity.search_name, entity.search_core = search_keys(entity.display_name)


class EntityIdentifier(Base):
    """A code that points at an entity, with whether it passed its check and which source said it.

    Invalid codes are stored too (``valid`` false, ``problem`` says why): feeds contain them and
    dropping them would lose the link.
    """

    __tablename__ = "entity_identifiers"
    __table_args__ = (
        UniqueConstraint("entity_id", "id_type", "value"),
        Index("ix_entity_identifiers_lookup", "id_type", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    id_type: Mapped[IdentifierType] = mapped_column(enum_column(IdentifierType))
    value: Mapped[str] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    problem: Mapped[str | None] = mapped_column(String(300))
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_records.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entity: Mapped[Entity] = relationship(back_populates="identifiers")
    source_record: Mapped[SourceRecord | None] = relationship()


class EntityAttribute(Base):
    """One record's value of one golden-record field, remembering the source record and feed
    it came from and how that record was identified (``basis``).

    Every record's values are kept; ``is_current`` marks the one that wins by authority and
    recency (``resolution.golden``), so a split or a change of authority can choose again.
    """

    __tablename__ = "entity_attributes"
    __table_args__ = (Index("ix_entity_attributes_current", "entity_id", "field", "is_current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_records.id"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id"))
    # The kind of valid code the source record carried ("uscc", "resident_id", "org_code",
    # ...), None for a record without one: how sure its link is (resolution/golden.py).
    basis: Mapped[str | None] = mapped_column(String(32))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)

    entity: Mapped[Entity] = relationship(back_populates="attributes")
    source_record: Mapped[SourceRecord | None] = relationship()
