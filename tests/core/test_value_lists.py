"""``one_of`` finds exactly the rows ``IN`` finds, for long lists and awkward values, as one
bound parameter on each backend."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import RecordBlockKey
from core.value_lists import one_of
from tests.support.builders import make_feed, make_source_record


def _keys(session: Session) -> tuple[list[int], list[str]]:
    feed = make_feed(session)
    ids = [make_source_record(session, feed=feed).id for _ in range(3)]
    # Chinese, quotes, backslashes, a JSON-looking key: all go through JSON or an array.
    keys = ["N张伟", 'A"quoted"', "B\\back", '["x"]', "C1", "C2"]
    session.add_all(
        RecordBlockKey(key=k, source_record_id=ids[n % len(ids)]) for n, k in enumerate(keys)
    )
    session.flush()
    return ids, keys


def test_one_of_finds_what_in_finds(session: Session) -> None:
    ids, keys = _keys(session)
    column = RecordBlockKey.key
    for wanted in (keys, keys[:2], ["N张伟", "missing"], ["missing"], []):
        found = set(session.scalars(select(column).where(one_of(session, column, wanted))))
        expected = set(session.scalars(select(column).where(column.in_(wanted))))
        assert found == expected == set(wanted) & set(keys)
    source = RecordBlockKey.source_record_id
    found_ids = set(session.scalars(select(source).where(one_of(session, source, ids[:2]))))
    assert found_ids == set(ids[:2])


def test_one_of_takes_thousands_of_values_as_one_parameter(session: Session) -> None:
    _, keys = _keys(session)
    wanted = [f"absent-{n}" for n in range(40_000)] + keys[:1]
    statement = select(RecordBlockKey.key).where(one_of(session, RecordBlockKey.key, wanted))
    assert len(statement.compile().params) == 1
    # SQLite refuses more than 32,766 parameters; one list is one parameter.
    assert list(session.scalars(statement)) == keys[:1]
