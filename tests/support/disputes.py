"""Credit records, callers and per-day clients for the repair and objection API tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import (
    AuditEvent,
    CreditRecord,
    CreditStatus,
    Feed,
    RecordCategory,
    Role,
    Severity,
    SharingType,
)
from tests.support.api import make_token
from tests.support.builders import make_department, make_feed, make_source_record

Headers = dict[str, str]
_seq = count(1)


def make_credit_record(session: Session, **overrides: Any) -> CreditRecord:
    """A general penalty decided 2026-01-10 (repair allowed from 2026-04-10), published a year."""
    if "source_record" not in overrides:
        feed = overrides.pop("feed", None) or make_feed(session)
        overrides["source_record"] = make_source_record(session, feed=feed)
    feed = session.get(Feed, overrides["source_record"].feed_id)
    assert feed is not None
    n = next(_seq)
    values: dict[str, Any] = {
        "feed_id": feed.id,
        "department_id": feed.department_id,
        "category": RecordCategory.PENALTY,
        "severity": Severity.GENERAL,
        "status": CreditStatus.ACTIVE,
        "party_name": f"北京测试{n}科技有限公司",
        "decision_number": f"京环罚〔2026〕{n}号",
        "decision_date": date(2026, 1, 10),
        "publicity_end": date(2027, 1, 10),
    }
    values.update(overrides)
    record = CreditRecord(**values)
    session.add(record)
    session.flush()
    return record


@dataclass
class World:
    """Two departments (EPB owns the records), tokens for each role, and one client per day."""

    make_app: Callable[[Config], Flask]
    config: Config
    session_factory: sessionmaker[Session]
    headers: dict[str, Headers]
    feeds: dict[str, int]
    _clients: dict[str, FlaskClient] = field(default_factory=dict)

    def on(self, day: str) -> FlaskClient:
        """A test client of an app whose "today" is ``day`` (ISO date)."""
        if day not in self._clients:
            app = self.make_app(dataclasses.replace(self.config, today=day))
            self._clients[day] = app.test_client()
        return self._clients[day]

    def record(self, **overrides: Any) -> int:
        """A committed EPB record (see :func:`make_credit_record`); returns its id."""
        feed_code = overrides.pop("feed_code", "epb-open")
        with self.session_factory() as session:
            feed = session.get(Feed, self.feeds[feed_code])
            record = make_credit_record(session, feed=feed, **overrides)
            session.commit()
            return record.id

    def load(self, record_id: int) -> CreditRecord:
        with self.session_factory() as session:
            record = session.get(CreditRecord, record_id)
            assert record is not None
            session.expunge(record)
            return record

    def audit_actions(self) -> list[tuple[str, str, str | None]]:
        """(action, role, target id) of every audit event, oldest first."""
        with self.session_factory() as session:
            rows = session.execute(
                select(AuditEvent.action, AuditEvent.role, AuditEvent.target_id).order_by(
                    AuditEvent.id
                )
            )
            return [(action, role, target) for action, role, target in rows]

    def audit_details(self, action: str) -> list[dict[str, Any]]:
        with self.session_factory() as session:
            return list(
                session.scalars(
                    select(AuditEvent.details)
                    .where(AuditEvent.action == action)
                    .order_by(AuditEvent.id)
                )
            )


def make_world(
    session_factory: sessionmaker[Session], make_app: Callable[[Config], Flask], config: Config
) -> World:
    with session_factory() as session:
        epb = make_department(session, code="EPB")
        make_department(session, code="TAX")
        feeds = {
            "epb-open": make_feed(session, code="epb-open", department=epb).id,
            "epb-closed": make_feed(
                session, code="epb-closed", department=epb, sharing_type=SharingType.NOT_SHARED
            ).id,
        }
        session.commit()
    headers = {
        "epb": make_token(session_factory, Role.DEPARTMENT, department_code="EPB"),
        "tax": make_token(session_factory, Role.DEPARTMENT, department_code="TAX"),
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
        "public": {},
    }
    return World(make_app, config, session_factory, headers, feeds)
