"""Departments pushing records: the request's items handed to ingest's push run
(``ingest.runner.run_push``) in the pushing client's name; what ingest refuses becomes a
:class:`PushRefused` with the HTTP status that says why. Never commits: the request owns the
transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import ServiceRefused
from core.models import ApiClient
from core.rules.settings import ValueRules
from ingest.adapters.push import InvalidPush
from ingest.runner import ForeignFeed, NotPushed, PushSummary, UnknownFeed, run_push


class PushRefused(ServiceRefused):
    """The push cannot be taken at all; ``status`` is the HTTP status that says why."""


# What ingest refuses, as the status the API answers with.
_REFUSAL_STATUS: dict[type[Exception], int] = {
    UnknownFeed: 404,
    NotPushed: 409,
    ForeignFeed: 403,
    InvalidPush: 422,
}


def push_records(
    *,
    session: Session,
    client: ApiClient,
    feed_code: str,
    items: list[Any],
    value_rules: ValueRules | None = None,
) -> PushSummary:
    """Store ``items`` for ``feed_code`` as one batch (one ingest run), item by item.

    Idempotent on (feed, ``source_id``): the same item again is a duplicate, a changed one a new
    version. Items that fail validation are kept in quarantine and reported ``rejected``.
    Raises :class:`PushRefused` (404 unknown feed, 409 not a push feed, 403 another
    department's feed, 422 too many or no items).
    """
    try:
        return run_push(
            session=session,
            feed_code=feed_code,
            department_id=client.department_id,
            sender=client.name,
            items=items,
            value_rules=value_rules,
        )
    except (UnknownFeed, NotPushed, ForeignFeed, InvalidPush) as exc:
        raise PushRefused(str(exc), status=_REFUSAL_STATUS[type(exc)]) from exc
