"""The audit writer records the request an action came from, and nothing once it is over."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import RequestOrigin, bind_request_origin, record_event
from core.models import AuditEvent, Role
from tests.support.api import make_token


def _last_event(session_factory: sessionmaker[Session]) -> AuditEvent:
    with session_factory() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        return event


def test_an_event_carries_the_bound_origin(session_factory: sessionmaker[Session]) -> None:
    bind_request_origin(RequestOrigin("req-1", "10.0.0.7"))
    try:
        with session_factory() as session:
            record_event(session=session, client=None, action="entity.read")
            session.commit()
    finally:
        bind_request_origin(None)
    event = _last_event(session_factory)
    assert (event.request_id, event.client_address, event.actor) == ("req-1", "10.0.0.7", "public")


def test_a_request_origin_does_not_outlive_its_request(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    headers = make_token(session_factory, Role.REGULATOR)
    client.get("/api/v1/audit", headers={**headers, "X-Request-ID": "req-77"})
    assert _last_event(session_factory).request_id == "req-77"  # the read of the trail
    # Work done afterwards in the same thread (a CLI command, a scheduled job) is not
    # attributed to that request.
    with session_factory() as session:
        record_event(session=session, client=None, action="report.export")
        session.commit()
    event = _last_event(session_factory)
    assert (event.action, event.request_id, event.client_address) == ("report.export", None, None)
