"""Issue 14, finding 1: an analyst recovered a full resident id in about a second. The profile
shows ``110111********3183``; the hidden 8 digits are a birth date, so a few hundred valid
candidates exist; signed in on the web pages (no rate limit then), searching each candidate
found the one that returns the person after 252 requests. Misses were not audited, nor the
query.

Replayed here with the service's default budgets: every candidate search is refused (403: an
analyst may not search by a full id), the identifier budget stops the run after a handful
(429), nothing of the person comes back, and the audit trail holds every attempt (with a keyed
hash, never the number) and the limit being hit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import ric

from core.audit import query_hash
from core.config import Config
from core.models import AuditEvent, Role
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import make_credit_feed, make_person, make_record
from tests.support.pages import signed_in_client

REGION, TAIL = "110111", "3183"


def candidates() -> list[str]:
    """Every id ``110111********3183`` for births 1940-2008 that python-stdnum calls valid
    (check character and birth place in the birth year): the attacker's list."""
    found = []
    day = date(1940, 1, 1)
    while day <= date(2008, 12, 31):
        number = f"{REGION}{day:%Y%m%d}{TAIL}"
        if ric.calc_check_digit(number) == TAIL[3] and ric.is_valid(number):
            found.append(number)
        day += timedelta(days=1)
    return found


CANDIDATES = candidates()
VICTIM = CANDIDATES[251]  # found after 252 requests in the issue


@pytest.fixture
def victim(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session:
        person = make_person(session, name="赵六", resident_id=VICTIM)
        make_record(session, entity=person, feed=make_credit_feed(session))
        session.commit()
        return person.public_id


def audit(session_factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with session_factory() as session:
        statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.scalars(statement))


def test_the_candidate_list_is_the_issues(victim: str) -> None:
    assert 700 <= len(CANDIDATES) <= 800  # "~760 valid candidates"


def test_an_analyst_enumerating_ids_on_the_pages_is_refused_limited_and_audited(
    app: Flask, victim: str, session_factory: sessionmaker[Session], config: Config
) -> None:
    token = make_token(session_factory, Role.ANALYST, name="curious-analyst")["Authorization"]
    pages = signed_in_client(app, token.removeprefix("Bearer "))
    statuses = []
    for candidate in CANDIDATES[:252]:
        response = pages.get("/search", query_string={"q": candidate})
        statuses.append(response.status_code)
        assert victim not in response.text and "赵六" not in response.text
    budget = config.identifier_lookups_per_minute
    assert statuses == [403] * budget + [429] * (252 - budget)

    refused = audit(session_factory, "entity.search")
    assert len(refused) == budget and all(e.details["refused"] for e in refused)
    assert {e.details["query_kind"] for e in refused} == {"resident_id"}
    hashes = [e.details["query_hash"] for e in refused]
    assert hashes == [query_hash(c, config.query_hash_secret) for c in CANDIDATES[:budget]]
    limited = audit(session_factory, "rate_limit.exceeded")
    assert [(e.actor, e.target_id) for e in limited] == [
        ("curious-analyst", "identifier_lookups")
    ]  # once a minute, not once a request
    with session_factory() as session:
        trail = " ".join(str(e.details) for e in session.scalars(select(AuditEvent)))
    assert not any(c in trail for c in CANDIDATES)


def test_the_api_and_the_pages_share_one_budget(
    app: Flask, victim: str, session_factory: sessionmaker[Session], config: Config
) -> None:
    headers = make_token(session_factory, Role.ANALYST, name="both-ways")
    pages = signed_in_client(app, headers["Authorization"].removeprefix("Bearer "))
    api = app.test_client()
    budget = config.identifier_lookups_per_minute
    for i, candidate in enumerate(CANDIDATES[:budget]):
        if i % 2:
            response = api.get("/api/v1/entities", query_string={"q": candidate}, headers=headers)
        else:
            response = pages.get("/search", query_string={"q": candidate})
        assert response.status_code == 403
    over = api.get("/api/v1/entities", query_string={"q": VICTIM}, headers=headers)
    assert over.status_code == 429 and over.mimetype == "application/problem+json"
    assert int(over.headers["Retry-After"]) >= 1
    # names are not identifier look-ups: the analyst can still work
    assert (
        api.get("/api/v1/entities", query_string={"q": "赵六"}, headers=headers).status_code == 200
    )


def test_the_public_gets_403_and_the_address_is_limited(
    app: Flask, victim: str, session_factory: sessionmaker[Session], config: Config
) -> None:
    client = app.test_client()
    statuses = [
        client.get("/api/v1/public/entities", query_string={"q": c}).status_code
        for c in CANDIDATES[:30]
    ]
    budget = config.identifier_lookups_per_minute
    assert statuses == [403] * budget + [429] * (30 - budget)
    first = client.get("/api/v1/public/entities", query_string={"q": "赵六"})
    assert first.status_code == 200


def test_regulators_and_departments_may_search_by_full_id_within_the_budget(
    config: Config,
    make_app: Callable[[Config], Flask],
    victim: str,
    session_factory: sessionmaker[Session],
) -> None:
    app = make_app(dataclasses.replace(config, identifier_lookups_per_minute=3))
    client = app.test_client()
    for role, department in ((Role.REGULATOR, None), (Role.DEPARTMENT, "EPB-E")):
        if department:
            with session_factory() as session:
                make_department(session, code=department)
                session.commit()
        headers = make_token(session_factory, role, department_code=department)
        found = client.get("/api/v1/entities", query_string={"q": VICTIM}, headers=headers)
        assert found.status_code == 200 and found.json["items"][0]["public_id"] == victim
        for _ in range(2):
            client.get("/api/v1/entities", query_string={"q": VICTIM}, headers=headers)
        limited = client.get("/api/v1/entities", query_string={"q": VICTIM}, headers=headers)
        assert limited.status_code == 429
    searched = audit(session_factory, "entity.search")
    assert {e.details["hits"] for e in searched} == {1}
