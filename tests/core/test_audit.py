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
    read = client.get("/api/v1/audit", headers={**headers, "X-Request-ID": "req-77"})
    event = _last_event(session_factory)  # the read of the trail
    assert event.request_id == read.headers["X-Request-ID"]
    assert event.details["client_request_id"] == "req-77"
    # Work done afterwards in the same thread (a CLI command, a scheduled job) is not
    # attributed to that request.
    with session_factory() as session:
        record_event(session=session, client=None, action="report.export")
        session.commit()
    event = _last_event(session_factory)
    assert (event.action, event.request_id, event.client_address) == ("report.export", None, None)


def test_two_requests_sending_one_id_are_two_requests_in_the_trail(
    client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    """A caller's X-Request-ID cannot join unrelated events: the server gives its own id."""
    headers = make_token(session_factory, Role.REGULATOR)
    first = client.get("/api/v1/audit", headers={**headers, "X-Request-ID": "same"})
    second = client.get("/api/v1/audit", headers={**headers, "X-Request-ID": "same"})
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    with session_factory() as session:
        reads = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.read")))
    assert len({e.request_id for e in reads}) == 2
    assert {e.details["client_request_id"] for e in reads} == {"same"}
