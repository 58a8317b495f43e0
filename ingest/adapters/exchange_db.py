"""Exchange-database adapter: a department's exchange table, read incrementally by a
watermark column (a sequence id or an update time).

Rows are read in keyset order (watermark column, then primary key), in batches. A sequence-id
watermark is strict (``> watermark``); a time watermark is inclusive (``>= watermark``) because
several rows may share a timestamp across a batch boundary: the boundary rows come again on
the next run and the pipeline recognises them as duplicates by payload hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, MetaData, Table, create_engine, make_url, select, tuple_
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

from ingest.adapters.base import Batch, FetchError, RawRecord, storable_text


@dataclass(frozen=True)
class ExchangeDbSettings:
    url: str
    table: str
    watermark_column: str
    batch_size: int = 1000
    schema: str | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> ExchangeDbSettings:
        """``url`` (any SQLAlchemy URL) or ``sqlite_path``; raises ``ValueError`` naming the key."""
        url = settings.get("url")
        if not url and settings.get("sqlite_path"):
            url = f"sqlite:///{Path(settings['sqlite_path'])}"
        if not url:
            raise ValueError("url: an exchange-database feed needs url or sqlite_path")
        try:
            # Checked here so that a mistyped URL fails the run with a clear message; the
            # message never repeats the URL, which may hold a password.
            parsed = make_url(str(url))
        except ArgumentError:
            raise ValueError("url: not a SQLAlchemy database URL") from None
        try:
            parsed.get_dialect()
        except NoSuchModuleError:
            raise ValueError(
                f"url: no SQLAlchemy dialect or driver {parsed.drivername!r}"
            ) from None
        for key in ("table", "watermark_column"):
            if not settings.get(key):
                raise ValueError(f"{key}: required for an exchange-database feed")
        batch_size = int(settings.get("batch_size", 1000))
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        return cls(
            url=str(url),
            table=str(settings["table"]),
            watermark_column=str(settings["watermark_column"]),
            batch_size=batch_size,
            schema=settings.get("schema"),
        )


_NUL_ROW = "the row holds NUL characters (shown as \\u0000)"


def _shown(value: Any) -> Any:
    return storable_text(value) if isinstance(value, str) else value


def fetch_batches(*, settings: ExchangeDbSettings, watermark: str | None) -> Iterator[Batch]:
    """One batch per ``batch_size`` rows past ``watermark``; each batch's watermark is its last
    row's value. Raises :class:`FetchError` when the database, table or column is missing."""
    engine = create_engine(settings.url)
    try:
        try:
            table = Table(settings.table, MetaData(), schema=settings.schema, autoload_with=engine)
        except NoSuchTableError as exc:
            raise FetchError(f"exchange table {settings.table!r} does not exist") from exc
        except SQLAlchemyError as exc:
            raise FetchError(f"cannot reach the exchange database: {exc}") from exc
        if settings.watermark_column not in table.c:
            raise FetchError(
                f"exchange table {settings.table!r} has no column {settings.watermark_column!r}"
            )
        column = table.c[settings.watermark_column]
        keys = list(table.primary_key.columns) or [column]
        is_sequence = isinstance(column.type, Integer)
        start: Any = None
        if watermark is not None:
            start = int(watermark) if is_sequence else watermark
        last: tuple[Any, ...] | None = None
        while True:
            query = select(table).order_by(column, *keys).limit(settings.batch_size)
            if last is not None:
                query = query.where(tuple_(column, *keys) > tuple_(*last))
            elif start is not None:
                query = query.where(column > start if is_sequence else column >= start)
            try:
                with engine.connect() as connection:
                    rows = [dict(r._mapping) for r in connection.execute(query)]
            except SQLAlchemyError as exc:
                raise FetchError(f"reading {settings.table!r} failed: {exc}") from exc
            if not rows:
                return
            records: list[RawRecord] = []
            unreadable: list[tuple[RawRecord, str]] = []
            for row in rows:
                origin = f"{settings.table}:{settings.watermark_column}={row[column.name]}"
                if any(isinstance(v, str) and "\x00" in v for v in row.values()):
                    # PostgreSQL stores no NUL, and refused the batch: kept in quarantine, shown.
                    shown = {k: _shown(v) for k, v in row.items()}
                    unreadable.append((RawRecord(shown, origin), _NUL_ROW))
                else:
                    records.append(RawRecord(row, origin))
            tail = rows[-1]
            last = (tail[column.name], *(tail[k.name] for k in keys))
            yield Batch(records=records, watermark=str(tail[column.name]), unreadable=unreadable)
            if len(rows) < settings.batch_size:
                return
    finally:
        engine.dispose()


__all__ = ["ExchangeDbSettings", "fetch_batches"]
