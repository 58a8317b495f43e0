"""The app's runtime: one engine per app, one session per request, today's date.

The request owns its transaction: a view that changes data calls ``commit_request()`` once its
service calls succeeded; anything not committed is rolled back when the request ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from flask import Flask, current_app, g, stream_with_context
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.config import Config
from core.db import make_engine, make_session_factory
from core.errors import ServiceRefused
from core.rules.measures import MeasureBook, load_measures, measures_path
from core.rules.settings import Rules, load_rules

EXTENSION_KEY = "credithub"
# Runs of a write that lost a race on a unique key before the request gives up (409).
CONFLICT_ATTEMPTS = 3

T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    """What the app holds for its lifetime; reachable as ``app.extensions["credithub"]``."""

    config: Config
    engine: Engine
    session_factory: sessionmaker[Session]
    rules: Rules
    measures: MeasureBook = field(default_factory=MeasureBook)


def init_app(app: Flask, config: Config) -> None:
    rules = load_rules(config.rules_file)
    measures = load_measures(
        measures_path(measures_file=config.measures_file, rules_file=config.rules_file)
    )
    engine = make_engine(config.database_url)
    app.extensions[EXTENSION_KEY] = Runtime(
        config, engine, make_session_factory(engine), rules, measures
    )
    app.teardown_appcontext(_close_session)


def runtime(app: Flask | None = None) -> Runtime:
    target = app or current_app
    result: Runtime = target.extensions[EXTENSION_KEY]
    return result


def request_session() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
    session: Session = g.db_session
    return session


def commit_request() -> None:
    request_session().commit()


def commit_with_retry(work: Callable[[], T]) -> T:
    """Run ``work`` in the request's session and commit; run it again from the start when
    another transaction committed the same unique key first.

    For idempotent writes such as a push: two requests storing the same source ids at once (a
    sender's retry racing its first try) both plan new rows; PostgreSQL makes the second wait
    for the first and then refuses its rows. By then the first's rows are committed, so the
    second run finds them and answers as for any re-delivery. SQLite serialises writers, so
    there the race never starts. After ``CONFLICT_ATTEMPTS`` runs the answer is 409.
    """
    session = request_session()
    for _attempt in range(CONFLICT_ATTEMPTS):
        try:
            result = work()
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return result
    raise ServiceRefused(
        "Another request was storing the same records at the same time; send them again.",
        status=409,
    )


@contextmanager
def commit_when_refused() -> Iterator[None]:
    """Commit the request's session when a service refuses inside the block, then let the
    refusal answer: for read-only views whose services audit a refused attempt (a search by a
    full resident id), so the attempt stays in the audit trail."""
    try:
        yield
    except ServiceRefused:
        commit_request()
        raise


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def stream_request_body(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` (read through the request's session) as a streamed response body, in the
    request's context, that closes that session once the body is sent or abandoned.

    A streamed body outlives the view: the request's teardown has already closed the session
    when the body is read, and reading through it again checks out a new connection that
    nothing would return to the pool. Call this in the view, where the session is current."""
    session = request_session()

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            session.close()

    return stream_with_context(body())


def today() -> date:
    """Today for this app: its configured fixed date (``CREDITHUB_TODAY``) or China's today."""
    return clock.today(runtime().config.fixed_today)
