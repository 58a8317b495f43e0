"""Departments and the catalogue of their data resources (feeds)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, JSONType, UTCDateTime, enum_column, utcnow
from core.models.enums import AdapterKind, RecordCategory, SharingType


class Department(Base):
    """A government department that provides records (and may also consume them)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    feeds: Mapped[list[Feed]] = relationship(back_populates="department")


class Feed(Base):
    """A catalogued data resource of a department, and how CreditHub pulls it.

    The catalogue columns follow the government information resource catalogue (domain.md);
    ``adapter_settings``, ``field_mapping`` and ``schedule`` say how to ingest it, and
    ``watermark`` is the cursor that advances only with the batch it belongs to.
    """

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    classification: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32))
    record_category: Mapped[RecordCategory] = mapped_column(enum_column(RecordCategory))
    # Authority over golden-record values (core/rules/authority.py); None: the category's.
    golden_authority: Mapped[int | None] = mapped_column(Integer)
    data_items: Mapped[list[str]] = mapped_column(JSONType, default=list)
    update_cycle: Mapped[str | None] = mapped_column(String(32))
    sharing_type: Mapped[SharingType] = mapped_column(enum_column(SharingType))
    # e.g. {"departments": ["TAX"], "roles": ["regulator"], "note": "..."}
    sharing_conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sharing_method: Mapped[str | None] = mapped_column(String(64))
    open_data: Mapped[str | None] = mapped_column(String(64))
    release_date: Mapped[date | None] = mapped_column(Date)
    adapter: Mapped[AdapterKind] = mapped_column(enum_column(AdapterKind))
    adapter_settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    field_mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    schedule: Mapped[str | None] = mapped_column(String(100))
    watermark: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(back_populates="feeds")
