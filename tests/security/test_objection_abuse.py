"""Issue 14, finding 9: an anonymous POST of an objection marked the record "disputed" at once,
so anyone could take any visible record into dispute. Now a new objection is only received
(the record is unchanged until a regulator or its department accepts it), and objections
without a token are rate limited per address, on the service's one limiter (audited)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import AuditEvent, CreditRecord, CreditStatus, Role
from core.rules.publicity import is_published
from tests.support.api import make_token
from tests.support.credit import make_company, make_credit_feed, make_record

OBJECTION = {"kind": "content", "raised_by_name": "路人", "description": "我说这条不对"}


def _record(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        company = make_company(session, name="北京星河科技有限公司", uscc="91110108551385082Q")
        record = make_record(session, entity=company, feed=make_credit_feed(session))
        session.commit()
        return record.id


def test_an_anonymous_objection_disputes_nothing_until_accepted(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    record_id = _record(session_factory)
    client = make_app(dataclasses.replace(config, today="2026-06-01")).test_client()
    raised = client.post(f"/api/v1/records/{record_id}/objections", json=OBJECTION)
    assert raised.status_code == 201
    assert (raised.json["status"], raised.json["record_status"]) == ("received", "active")
    with session_factory() as session:
        record = session.get(CreditRecord, record_id)
        assert record is not None and record.status is CreditStatus.ACTIVE
        assert is_published(record, record.decision_date)  # still published as it was
    # The anonymous caller cannot accept it either.
    accept = client.post(f"/api/v1/objections/{raised.json['id']}/accept")
    assert accept.status_code == 401
    analyst = make_token(session_factory, Role.ANALYST)
    assert client.post(f"/api/v1/objections/{raised.json['id']}/accept", headers=analyst
                       ).status_code == 403  # fmt: skip


def test_anonymous_objections_are_limited_per_address(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    record_ids = [_record(session_factory) for _ in range(4)]
    app = make_app(dataclasses.replace(config, anonymous_objections_per_hour=3))
    client = app.test_client()
    statuses = [
        client.post(f"/api/v1/records/{rid}/objections", json=OBJECTION).status_code
        for rid in record_ids
    ]
    assert statuses == [201, 201, 201, 429]
    other_address = client.post(
        f"/api/v1/records/{record_ids[3]}/objections",
        json=OBJECTION,
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other_address.status_code == 201
    # Signed-in callers are not counted against the anonymous budget.
    regulator = make_token(session_factory, Role.REGULATOR)
    assert client.post(f"/api/v1/records/{record_ids[0]}/objections", json=OBJECTION,
                       headers=regulator).status_code == 201  # fmt: skip
    with session_factory() as session:
        limited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rate_limit.exceeded")
        ).all()
    assert [(e.actor, e.target_id, e.client_address) for e in limited] == [
        ("public", "anonymous_objections", "127.0.0.1")
    ]


def test_anonymous_repair_applications_are_limited_per_address(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> None:
    # Each application files work for a department and stores the caller's free text; without
    # a limit one address could bury the queue. Unknown records cost the budget too, so the
    # limit also bounds probing record ids.
    record_id = _record(session_factory)
    app = make_app(dataclasses.replace(config, anonymous_repair_applications_per_hour=2))
    client = app.test_client()
    application = {
        "applicant_name": "某某",
        "applicant_contact": "user@example.com",
        "reason": "已整改",
    }
    statuses = [
        client.post(f"/api/v1/records/{rid}/repair-applications", json=application).status_code
        for rid in (record_id, 999_999, record_id)
    ]
    assert statuses[2] == 429 and 429 not in statuses[:2], statuses
    regulator = make_token(session_factory, Role.REGULATOR)
    signed_in = client.post(
        f"/api/v1/records/{record_id}/repair-applications", json=application, headers=regulator
    )
    assert signed_in.status_code != 429
    with session_factory() as session:
        limited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rate_limit.exceeded")
        ).all()
    assert [(e.actor, e.target_id) for e in limited] == [
        ("public", "anonymous_repair_applications")
    ]
