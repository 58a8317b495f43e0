"""Push as an ingest entry point (``ingest.runner.run_push``, ``ingest.adapters.push``): one
request is one batch and one run in the caller's transaction; what ingest refuses is its own
exception (the API's statuses are pinned in tests/app/test_ingest_api.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import AdapterKind, IngestRun, IngestRunStatus, SourceRecord
from ingest.adapters.push import MAX_PUSH_RECORDS, InvalidPush, batch_from_items
from ingest.runner import ForeignFeed, NotPushed, UnknownFeed, run_push
from tests.ingest.conftest import PENALTY_VALUES
from tests.support.builders import make_department, make_feed


def item(source_id: Any, **overrides: str) -> dict[str, Any]:
    return {"source_id": source_id, **PENALTY_VALUES, **overrides}


def test_outcomes_come_back_in_the_request_order_with_unreadable_items_in_place() -> None:
    pushed = batch_from_items(items=[7, item("1"), {"CF_XDR_MC": "x"}, item("2")], sender="epb")
    assert [r.origin for r in pushed.batch.records] == ["push by epb item 1", "push by epb item 3"]
    assert [(r.origin, why) for r, why in pushed.batch.unreadable] == [
        ("push by epb item 0", "not an object"),
        ("push by epb item 2", "source_id is required"),
    ]
    # As the pipeline reports them: readable records first, then unreadable ones.
    assert pushed.in_request_order(["r1", "r3", "u0", "u2"]) == ["u0", "r1", "u2", "r3"]


@pytest.mark.parametrize("count", [0, MAX_PUSH_RECORDS + 1])
def test_no_items_or_too_many_are_refused(count: int) -> None:
    with pytest.raises(InvalidPush):
        batch_from_items(items=[item(str(n)) for n in range(count)], sender="epb")


def test_a_push_is_one_run_in_the_callers_transaction(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        epb = make_department(session, code="EPB")
        make_feed(
            session,
            code="epb-push",
            department=epb,
            adapter=AdapterKind.PUSH,
            field_mapping={"preset": "double_publicity_penalty", "fine_unit": "yuan"},
        )
        session.commit()
        summary = run_push(
            session=session,
            feed_code="epb-push",
            department_id=epb.id,
            sender="epb",
            items=[item("1"), 42, item("2", CF_JDRQ="bad")],
        )
        assert [i.status for i in summary.items] == ["accepted", "rejected", "rejected"]
        assert (summary.counts.fetched, summary.counts.accepted) == (3, 1)
        run = session.get_one(IngestRun, summary.run_id)
        assert (run.trigger, run.status, run.accepted) == ("push", IngestRunStatus.SUCCEEDED, 1)
        assert run.finished_at is not None
        session.rollback()  # the caller decides: nothing was committed
        assert session.scalars(select(SourceRecord)).all() == []
        assert session.scalars(select(IngestRun)).all() == []


def test_refusals_are_ingests_own_exceptions_in_order(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        epb, tax = make_department(session, code="EPB"), make_department(session, code="TAX")
        make_feed(session, code="epb-push", department=epb, adapter=AdapterKind.PUSH)
        make_feed(session, code="epb-files", department=epb, adapter=AdapterKind.FILE_DROP)
        session.commit()

        def push(feed_code: str, department_id: int | None, items: list[Any]) -> None:
            run_push(
                session=session,
                feed_code=feed_code,
                department_id=department_id,
                sender="t",
                items=items,
            )

        with pytest.raises(UnknownFeed, match="no feed 'nope'"):
            push("nope", tax.id, [])
        with pytest.raises(NotPushed, match="is pulled by CreditHub, not pushed"):
            push("epb-files", tax.id, [])
        with pytest.raises(ForeignFeed, match="belongs to another department"):
            push("epb-push", tax.id, [])
        with pytest.raises(ForeignFeed):
            push("epb-push", None, [item("1")])
        with pytest.raises(InvalidPush, match="at least one record"):
            push("epb-push", epb.id, [])
        assert session.scalars(select(IngestRun)).all() == []
