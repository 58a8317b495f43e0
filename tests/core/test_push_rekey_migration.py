"""Migration 0010_push_keys re-keys what push feeds stored by decision number to the items'
``source_id`` (issue 14, push keys), so a re-delivery after the upgrade is recognised and the
record another party's push had replaced comes back through a replay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.migrate import downgrade, upgrade
from core.models import AdapterKind, CreditRecord, CreditStatus, SourceRecord, SourceStatus
from ingest.runner import replay_feed
from tests.support.builders import make_feed, make_source_record


def pushed(source_id: Any, number: str, name: str = "北京星河科技有限公司") -> dict[str, Any]:
    return {
        "source_id": source_id,
        "party_name": name,
        "decision_number": number,
        "decision_date": "2026-03-01",
        "authority_name": "北京市生态环境局",
    }


def test_push_records_are_rekeyed_by_source_id(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    downgrade(database_url, "0009_credit_subscriptions")
    with session_factory() as session:
        feed = make_feed(session, code="epb-push", adapter=AdapterKind.PUSH)
        other = make_feed(session, code="epb-files")

        def source(key: str, version: int, payload: dict[str, Any], **kw: Any) -> SourceRecord:
            return make_source_record(
                session, feed=feed, source_key=key, version=version, raw_payload=payload, **kw
            )

        a = source("D1", 1, pushed("a", "D1"), status=SourceStatus.SUPERSEDED)
        b = source("D1", 2, pushed("b", "D1", "上海某某有限公司"), supersedes_id=a.id)
        c1 = source("D2", 1, pushed(7, "D2"))
        c2 = source("D3", 1, pushed("7", "D3"))
        late = source(
            "D1", 3, pushed("b", ""), status=SourceStatus.QUARANTINED, errors={"x": ["y"]}
        )
        junk = source("unreadable:ab", 1, {"_raw": "7"}, status=SourceStatus.QUARANTINED)
        filed = make_source_record(
            session, feed=other, source_key="D9", raw_payload=pushed("z", "D9")
        )
        for record in (b, c1, c2):
            session.add(
                CreditRecord(
                    source_record_id=record.id,
                    feed_id=feed.id,
                    department_id=feed.department_id,
                    category=feed.record_category,
                    status=CreditStatus.ACTIVE,
                    party_name=record.raw_payload["party_name"],
                    decision_number=record.raw_payload["decision_number"],
                )
            )
        session.commit()
        ids = {
            n: r.id
            for n, r in dict(a=a, b=b, c1=c1, c2=c2, late=late, junk=junk, filed=filed).items()
        }

    upgrade(database_url)

    with session_factory() as session:
        rows = {r.id: r for r in session.scalars(select(SourceRecord))}
        state = {
            name: (rows[i].source_key, rows[i].version, rows[i].status.value, rows[i].supersedes_id)
            for name, i in ids.items()
        }
        assert state == {
            "a": ("a", 1, "quarantined", None),
            "b": ("b", 1, "accepted", None),
            "late": ("b", 2, "quarantined", None),
            "c1": ("7", 1, "superseded", None),
            "c2": ("7", 2, "accepted", ids["c1"]),
            "junk": ("unreadable:ab", 1, "quarantined", None),
            "filed": ("D9", 1, "accepted", None),  # not a push feed: untouched
        }
        assert "replay the feed" in str(rows[ids["a"]].errors)
        assert rows[ids["late"]].errors == {"x": ["y"]}
        credits = {c.source_record_id: c.status for c in session.scalars(select(CreditRecord))}
        assert credits == {
            ids["b"]: CreditStatus.ACTIVE,
            ids["c1"]: CreditStatus.REVOKED,  # replaced by the corrected number
            ids["c2"]: CreditStatus.ACTIVE,
        }

    # The replay stores the record the other party's push had taken over.
    summary = replay_feed(session_factory=session_factory, feed_code="epb-push")
    assert summary.counts.accepted == 1
    with session_factory() as session:
        restored = session.scalars(
            select(CreditRecord).where(CreditRecord.source_record_id == ids["a"])
        ).one()
        assert (restored.party_name, restored.decision_number) == ("北京星河科技有限公司", "D1")
