"""``column IN (values)`` for long lists of values, as one bound parameter.

SQLAlchemy renders ``column.in_(values)`` with one parameter per value and processes each of
them at every execution; linking at ingest asks such questions with thousands of blocking
keys and ids a batch, and that processing cost about as much as the queries themselves
(``benchmarks/ingest.py --profile``). PostgreSQL takes the list as one array
(``column = ANY(:values)``), SQLite as one JSON text it unpacks itself
(``column IN (SELECT value FROM json_each(:values))``; SQLite's JSON functions are built in
since 3.38, and Python 3.11 ships a newer one); both use the column's index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

__all__ = ["one_of"]


def one_of(
    session: Session, column: Any, values: Sequence[int] | Sequence[str]
) -> ColumnElement[bool]:
    """``column IN values`` for the session's database (ints or strings only: they pass
    through JSON and arrays unchanged)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    if dialect == "sqlite":
        unpacked: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
        )
        return column.in_(unpacked)  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]
