"""The exchange-database and HTTP adapters driven through ``run_feed``, against a real
database table and a real local HTTP server; watermarks move only with stored batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from core.models import AdapterKind, Feed, IngestRunStatus, RecordCategory, SourceRecord
from ingest.runner import RunSummary

Run = Callable[[str], RunSummary]
LIST_MAPPING = {
    "source_key": "seq_id",
    "fields": {"list_reason": "reason"},
    "constants": {"list_name": "拖欠农民工工资失信联合惩戒对象名单"},
}


def make_exchange_table(engine: Engine, rows: list[dict[str, object]]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS arrears_blacklist (seq_id INTEGER PRIMARY KEY, "
                "party_name TEXT, uscc TEXT, listed_on TEXT, reason TEXT)"
            )
        )
        for row in rows:
            conn.execute(
                text(
                    "INSERT INTO arrears_blacklist VALUES "
                    "(:seq_id, :party_name, :uscc, :listed_on, :reason)"
                ),
                row,
            )


def arrears(seq_id: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "seq_id": seq_id,
        "party_name": f"拖欠公司{seq_id}",
        "uscc": None,
        "listed_on": "2026-05-01",
        "reason": "拖欠工资",
    }
    row.update(overrides)
    return row


def stored_keys(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return sorted(session.scalars(select(SourceRecord.source_key)))


def feed_watermark(session_factory: sessionmaker[Session]) -> str | None:
    with session_factory() as session:
        return session.scalars(select(Feed.watermark)).one()


def test_exchange_table_is_read_incrementally_by_its_watermark(
    database_url: str,
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
) -> None:
    """The department's table lives in a real database of the test's backend."""
    exchange = create_engine(database_url)
    make_exchange_table(exchange, [arrears(i) for i in range(1, 6)])
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.EXCHANGE_DB,
        adapter_settings={
            "url": database_url,
            "table": "arrears_blacklist",
            "watermark_column": "seq_id",
            "batch_size": 2,
        },
        field_mapping=LIST_MAPPING,
    )
    first = run("env")
    assert (first.counts.fetched, first.counts.accepted) == (5, 5)
    assert feed_watermark(session_factory) == "5"
    make_exchange_table(exchange, [arrears(6), arrears(7, listed_on="not a date")])
    second = run("env")
    assert (second.counts.fetched, second.counts.accepted, second.counts.quarantined) == (2, 1, 1)
    assert feed_watermark(session_factory) == "7"
    assert run("env").counts.fetched == 0
    exchange.dispose()


def test_missing_exchange_table_fails_the_run_clearly(
    tmp_path: Path, penalty_feed: Callable[..., Feed], run: Run
) -> None:
    penalty_feed(
        adapter=AdapterKind.EXCHANGE_DB,
        adapter_settings={
            "sqlite_path": str(tmp_path / "x.sqlite3"),
            "table": "nope",
            "watermark_column": "seq_id",
        },
    )
    summary = run("env")
    assert summary.status is IngestRunStatus.FAILED
    assert summary.error is not None and "does not exist" in summary.error


def debtor(n: int) -> dict[str, object]:
    return {
        "case_number": f"(2026)京01执{n}号",
        "name": f"失信公司{n}",
        "id_number": None,
        "court": "北京市第一中级人民法院",
        "listed_on": "2026-03-01",
        "reason": "有履行能力而拒不履行",
        "updated_at": f"2026-03-01T08:00:{n:02d}Z",
    }


def http_feed(penalty_feed: Callable[..., Feed], url: str) -> Feed:
    return penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        adapter=AdapterKind.HTTP_PULL,
        adapter_settings={"url": url, "page_size": 2, "max_retries": 0, "timeout": 5},
        field_mapping={
            "source_key": "case_number",
            "fields": {"party_name": "name", "authority_name": "court", "list_reason": "reason"},
            "constants": {"list_name": "失信被执行人名单"},
        },
    )


def test_http_feed_failing_mid_way_keeps_earlier_pages_and_resumes(
    httpserver: HTTPServer,
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
) -> None:
    items = [debtor(n) for n in range(1, 6)]
    broken = {"on": True}

    def handler(request: Request) -> Response:
        token = int(request.args.get("page_token", "0"))
        since = request.args.get("updated_since")
        selected = [i for i in items if since is None or str(i["updated_at"]) >= since]
        if token == 2 and broken["on"]:
            return Response('{"items": [{"case_number"', content_type="application/json")
        page = selected[token : token + 2]
        nxt = str(token + 2) if token + 2 < len(selected) else None
        body = json.dumps({"items": page, "next_page_token": nxt}, ensure_ascii=False)
        return Response(body, content_type="application/json")

    httpserver.expect_request("/debtors").respond_with_handler(handler)
    http_feed(penalty_feed, httpserver.url_for("/debtors"))

    failed = run("env")
    assert failed.status is IngestRunStatus.FAILED
    assert failed.counts.accepted == 2
    assert feed_watermark(session_factory) == "2026-03-01T08:00:02Z"

    broken["on"] = False
    resumed = run("env")
    assert resumed.status is IngestRunStatus.SUCCEEDED
    # the boundary record comes again (inclusive cursor) and is recognised as a duplicate
    assert (resumed.counts.duplicate, resumed.counts.accepted) == (1, 3)
    assert stored_keys(session_factory) == sorted(str(i["case_number"]) for i in items)
    assert feed_watermark(session_factory) == "2026-03-01T08:00:05Z"


def test_run_of_an_unknown_or_busy_feed_is_refused(
    session_factory: sessionmaker[Session], penalty_feed: Callable[..., Feed], tmp_path: Path
) -> None:
    from datetime import timedelta

    from ingest import leases
    from ingest.runner import UnknownFeed, run_feed

    with pytest.raises(UnknownFeed):
        run_feed(session_factory=session_factory, feed_code="nope")
    feed = penalty_feed()
    leases.acquire(
        session_factory=session_factory, feed_id=feed.id, holder="other", ttl=timedelta(hours=1)
    )
    with pytest.raises(leases.FeedBusy, match="other"):
        run_feed(session_factory=session_factory, feed_code="env")
    leases.release(session_factory=session_factory, feed_id=feed.id, holder="other")
    (tmp_path / "drop").mkdir()
    assert run_feed(session_factory=session_factory, feed_code="env").error is None


def test_an_expired_lease_can_be_taken_over(
    session_factory: sessionmaker[Session], penalty_feed: Callable[..., Feed]
) -> None:
    from datetime import timedelta

    from core.models import FeedLease, utcnow
    from ingest import leases

    feed = penalty_feed()
    old = utcnow() - timedelta(hours=2)
    leases.acquire(
        session_factory=session_factory,
        feed_id=feed.id,
        holder="crashed",
        ttl=timedelta(hours=1),
        now=old,
    )
    leases.acquire(
        session_factory=session_factory, feed_id=feed.id, holder="me", ttl=timedelta(hours=1)
    )
    with session_factory() as session:
        assert session.get_one(FeedLease, feed.id).holder == "me"
        assert session.scalar(select(func.count()).select_from(FeedLease)) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "url: not a SQLAlchemy database URL"),
        ("nosuchdb://reader:s3cret@db/exchange", "url: no SQLAlchemy dialect or driver 'nosuchdb'"),
        ("postgresql+psycopg://reader:s3cret@127.0.0.1:1/x", "cannot reach the exchange database"),
    ],
)
def test_unusable_exchange_url_fails_the_run_without_showing_the_password(
    url: str, message: str, penalty_feed: Callable[..., Feed], run: Run
) -> None:
    penalty_feed(
        adapter=AdapterKind.EXCHANGE_DB,
        adapter_settings={"url": url, "table": "t", "watermark_column": "seq_id"},
    )
    summary = run("env")
    assert summary.status is IngestRunStatus.FAILED
    assert summary.error is not None and summary.error.startswith(message), summary.error
    assert "s3cret" not in summary.error
