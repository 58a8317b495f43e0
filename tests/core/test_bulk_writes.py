"""Bulk inserts store exactly what the ORM would, and give back the ids of the rows written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.bulk_writes import insert_rows
from core.models import SourceRecord, SourceStatus
from tests.support.builders import make_feed, make_source_record


def _rows(feed_id: int, n: int, prefix: str) -> list[dict[str, Any]]:
    received = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)
    return [
        {
            "feed_id": feed_id,
            "ingest_run_id": None,
            "source_key": f"{prefix}-{i}",
            "version": 1 + i % 3,
            "raw_payload": {"名称": f"测试公司{i}", "n": i, "nested": {"a": [1, None]}},
            "payload_hash": f"{i:064d}",
            "received_at": received,
            "status": SourceStatus.QUARANTINED if i % 2 else SourceStatus.ACCEPTED,
            "errors": {"field": ["bad"]} if i % 2 else None,
            "origin": None,
            "supersedes_id": None,
        }
        for i in range(n)
    ]


def _stored(session: Session, prefix: str) -> list[tuple[Any, ...]]:
    table = SourceRecord.__table__.c
    return [
        tuple(r)
        for r in session.execute(
            select(
                table.source_key,
                table.version,
                table.raw_payload,
                table.payload_hash,
                table.received_at,
                table.status,
                table.errors,
            )
            .where(table.source_key.like(f"{prefix}-%"))
            .order_by(table.source_key)
        )
    ]


def test_bulk_insert_stores_what_the_plain_statement_stores(session: Session) -> None:
    feed = make_feed(session)
    session.execute(insert(SourceRecord.__table__), _rows(feed.id, 7, "plain"))
    insert_rows(session, SourceRecord.__table__, _rows(feed.id, 7, "bulk"))
    plain, bulk = _stored(session, "plain"), _stored(session, "bulk")
    assert [r[1:] for r in bulk] == [r[1:] for r in plain]
    # JSON null for a None JSON value, as SQLAlchemy writes it; times come back aware UTC.
    assert bulk[0][6] is None and bulk[1][6] == {"field": ["bad"]}
    assert bulk[0][4] == datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)


def test_returned_ids_are_the_rows_written(session: Session) -> None:
    feed = make_feed(session)
    make_source_record(session, feed=feed)  # ids do not start at 1
    rows = _rows(feed.id, 1200, "ids")
    returned = insert_rows(
        session, SourceRecord.__table__, rows, returning=("id", "source_key", "version")
    )
    assert len(returned) == 1200
    for row_id, key, version in returned:
        stored = session.get_one(SourceRecord, row_id)
        assert (stored.source_key, stored.version) == (key, version)
    assert {key for _, key, _ in returned} == {r["source_key"] for r in rows}


def test_nothing_to_insert_is_a_no_op(session: Session) -> None:
    assert insert_rows(session, SourceRecord.__table__, [], returning=("id",)) == []


def test_a_column_with_a_python_default_must_be_given(session: Session) -> None:
    feed = make_feed(session)
    row = _rows(feed.id, 1, "default")[0]
    del row["received_at"]
    with pytest.raises(ValueError, match="received_at"):
        insert_rows(session, SourceRecord.__table__, [row])


def test_skip_existing_keeps_rows_another_transaction_wrote(session: Session) -> None:
    feed = make_feed(session)
    rows = _rows(feed.id, 4, "dup")
    insert_rows(session, SourceRecord.__table__, rows[:2])
    # rows 0 and 1 exist (as if a concurrent push committed them first); 2 and 3 are new
    changed = [{**r, "payload_hash": "f" * 64} for r in rows]
    assert insert_rows(session, SourceRecord.__table__, changed, skip_existing=True) == []
    stored = {r.source_key: r.payload_hash for r in session.scalars(select(SourceRecord))}
    assert stored == {"dup-0": rows[0]["payload_hash"], "dup-1": rows[1]["payload_hash"],
                      "dup-2": "f" * 64, "dup-3": "f" * 64}  # fmt: skip
    with pytest.raises(IntegrityError):
        insert_rows(session, SourceRecord.__table__, changed[:1])


def test_text_that_means_something_to_copy_is_stored_as_sent(session: Session) -> None:
    """PostgreSQL's COPY text format gives tabs, newlines, backslashes and ``\\N`` meanings of
    their own: the bulk path stores such values exactly as the plain statement does."""
    feed = make_feed(session)
    awkward = ["a\tb", "line\nbreak\r\n", "back\\slash", "\\N", "", "引号\"'", "\\.", "长" * 490]

    def rows(prefix: str) -> list[dict[str, Any]]:
        made = _rows(feed.id, len(awkward), prefix)
        for row, value in zip(made, awkward, strict=True):
            row["raw_payload"] = {"v": value, value: [value]}
            row["origin"] = value
            row["source_key"] = f"{prefix}-{value[:50]}"
        return made

    session.execute(insert(SourceRecord.__table__), rows("plain"))
    returned = insert_rows(
        session, SourceRecord.__table__, rows("bulk"), returning=("id", "source_key")
    )
    table = SourceRecord.__table__.c
    stored = {
        key: (payload, origin)
        for key, payload, origin in session.execute(
            select(table.source_key, table.raw_payload, table.origin)
        )
    }
    for value in awkward:
        expected = ({"v": value, value: [value]}, value)
        assert stored[f"plain-{value[:50]}"] == expected
        assert stored[f"bulk-{value[:50]}"] == expected
    for row_id, key in returned:
        assert session.get_one(SourceRecord, row_id).source_key == key
