"""Inserting many rows at once at the speed of the database driver.

``session.execute(insert(table), rows)`` runs SQLAlchemy's generic parameter processing for
every value of every row (key look-ups, type processors, a new parameter dict per row); for an
ingest batch that writes three or four rows a record, that generic work cost more than SQLite
spent storing the rows. :func:`insert_rows` does the same work with one precomputed processor
per column and hands tuples straight to the driver.

On SQLite the tuples go to the driver's ``executemany``. Ids come back without ``RETURNING``
(which SQLite's ``executemany`` cannot give): in a transaction that holds SQLite's write lock,
rows without an explicit id take ``max(id) + 1`` one after the other, so the batch's ids are
the ``len(rows)`` ids ending at ``last_insert_rowid()``. That is documented SQLite behaviour
for tables without ``AUTOINCREMENT`` short of the largest possible id; :func:`insert_rows`
still reads the rows back by that id range and refuses to go on if they are not exactly the
rows it wrote.

On PostgreSQL they go to one ``COPY ... FROM STDIN`` (psycopg's ``cursor.copy``), the
server's own bulk path, in the session's transaction. ``COPY`` returns nothing, so when ids
are wanted they are taken from the table's sequence first (one ``nextval`` query for the
batch) and written with the rows. Measured with ``make bench-ingest --profile``
(docs/ingestion.md, "On PostgreSQL"): the INSERTs (psycopg's ``executemany``, one statement a
row, and SQLAlchemy's multi-row ``INSERT ... RETURNING``) were 30% of an ingest batch's time;
with ``COPY`` the client spends 15-20% less CPU a record. ``skip_existing`` needs
``ON CONFLICT``, which ``COPY`` cannot do, so those rows keep the ``INSERT``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None


class BulkInsertError(RuntimeError):
    """The ids read back are not the rows just written (never expected; nothing is guessed)."""


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = (),
    skip_existing: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts with the same keys) into ``table``. With ``returning`` (column
    names, the first being the integer primary key), returns one tuple of those columns per
    inserted row, in no particular order; without it, returns ``[]``. Columns left out of the
    rows get their server default or NULL: a column with a Python-side default must be given
    (refused otherwise, since this path does not run Python defaults).

    ``skip_existing`` (PostgreSQL, without ``returning``): a row that another transaction has
    committed meanwhile (a unique conflict) is left as it is (``ON CONFLICT DO NOTHING``;
    ``INSERT OR IGNORE`` on SQLite)."""
    if not rows:
        return []
    columns = [table.c[name] for name in rows[0]]
    _check_defaults(table, columns)
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and not skip_existing:
        return _copy_rows(session, table, rows, returning)
    if dialect.name != "sqlite":
        statement = insert(table)
        if skip_existing and not returning:
            statement = postgresql.insert(table).on_conflict_do_nothing()
        if returning:
            result = session.execute(
                statement.returning(*(table.c[n] for n in returning)), list(rows)
            )
            return [tuple(r) for r in result]
        session.execute(statement, list(rows))
        return []

    sql, names = _insert_sql(table, columns, dialect)
    if skip_existing and not returning:
        sql = sql.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
    connection.exec_driver_sql(sql, _driver_tuples(table, rows, names, dialect))
    if not returning:
        return []
    return _read_back(session, table, rows, returning)


def _driver_tuples(
    table: Table, rows: Sequence[Mapping[str, Any]], names: Sequence[str], dialect: Dialect
) -> list[tuple[Any, ...]]:
    """``rows`` as the driver's tuples of ``names``, each value through its column's bind
    processor. Built column by column, then zipped: the loops over rows run in C (map, zip)
    except for the processors themselves. Processors also see None: a JSON column stores None
    as JSON null, as SQLAlchemy does."""
    values = []
    for name in names:
        column = list(map(itemgetter(name), rows))
        processor = _processor(table.c[name], dialect)
        values.append(column if processor is None else list(map(processor, column)))
    return list(zip(*values, strict=True)) if values else [()] * len(rows)


def _copy_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """PostgreSQL: ``rows`` by one ``COPY``; with ``returning``, ids from the sequence first."""
    connection = session.connection()
    names = list(rows[0])
    ids: list[int] = []
    if returning:
        key = returning[0]
        ids = list(
            connection.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, :column)) "
                     "FROM generate_series(1, :n)"),
                {"table": table.name, "column": key, "n": len(rows)},
            ).scalars()
        )  # fmt: skip
        rows = [{**row, key: row_id} for row, row_id in zip(rows, ids, strict=True)]
        names.append(key)
    tuples = _driver_tuples(table, rows, names, connection.dialect)
    preparer = connection.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(n) for n in names)
    sql = f"COPY {preparer.format_table(table)} ({quoted}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for values in tuples:
                copy.write_row(values)
    except dbapi_error as exc:
        # The driver's error as SQLAlchemy raises it for a statement (IntegrityError, ...).
        raise DBAPIError.instance(sql, None, exc, dbapi_error) from exc
    if not returning:
        return []
    others = returning[1:]
    return [(row_id, *(row[n] for n in others)) for row_id, row in zip(ids, rows, strict=True)]


def _read_back(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    last = session.connection().exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
    first = last - len(rows) + 1
    key = table.c[returning[0]]
    found = [
        tuple(r)
        for r in session.execute(
            select(*(table.c[n] for n in returning)).where(key >= first).order_by(key)
        )
    ]
    others = returning[1:]
    written = [tuple(row[n] for n in others) for row in rows]
    if len(found) != len(rows) or [r[1:] for r in found] != written:
        raise BulkInsertError(
            f"rows read back from {table.name} after a bulk insert are not the rows written"
        )
    return found


def _check_defaults(table: Table, columns: list[Column[Any]]) -> None:
    given = {c.key for c in columns}
    missing = [
        c.key
        for c in table.columns
        if c.key not in given and c.default is not None and not c.primary_key
    ]
    if missing:
        raise ValueError(f"bulk insert into {table.name} must give {', '.join(sorted(missing))}")


_SQL_CACHE: dict[tuple[str, tuple[str, ...], str], tuple[str, tuple[str, ...]]] = {}


def _insert_sql(
    table: Table, columns: list[Column[Any]], dialect: Dialect
) -> tuple[str, tuple[str, ...]]:
    """The driver's INSERT text for these columns and the order its placeholders take them
    in (compiled by SQLAlchemy, so quoting and placeholders are the dialect's own)."""
    cache_key = (table.name, tuple(c.key for c in columns), dialect.name)
    cached = _SQL_CACHE.get(cache_key)
    if cached is None:
        statement = insert(table).values({c.key: bindparam(c.key) for c in columns})
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(cache_key[1]):
            raise AssertionError(f"unexpected parameters {order} for {table.name}")
        cached = _SQL_CACHE[cache_key] = (str(compiled), order)
    return cached


def _processor(column: Column[Any], dialect: Dialect) -> Processor:
    processor: Processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is not None and _python_type(column) in (datetime, date):
        # A batch stamps its rows with one time and its records share few dates: convert
        # each distinct value once (the conversion is most of what a date costs to write).
        return _memoised(processor)
    return processor


def _python_type(column: Column[Any]) -> type | None:
    # A TypeDecorator says ``object``; the type it stores as says what it holds.
    stored = getattr(column.type, "impl_instance", column.type)
    try:
        python_type: type = stored.python_type
        return python_type
    except NotImplementedError:
        return None


def _memoised(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    seen: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = processor(value)
            return result

    return process
