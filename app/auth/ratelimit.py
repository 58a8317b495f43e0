"""One rate limiter for the API and the web pages, on a shared store (``limits``).

Who is counted: a signed-in client (a bearer token on the API, the session cookie on the pages:
the same client shares one budget on both), else the caller's address. Budgets:

- every request (``CREDITHUB_RATE_LIMIT_PER_MINUTE``), API and pages alike;
- searches by an identifier, much lower (``CREDITHUB_IDENTIFIER_LOOKUPS_PER_MINUTE`` and
  ``..._PER_HOUR``): guessing the hidden digits of a masked id takes hundreds of look-ups;
- objections raised without a token, per address (``CREDITHUB_ANONYMOUS_OBJECTIONS_PER_HOUR``),
  and repair applications likewise (``CREDITHUB_ANONYMOUS_REPAIR_APPLICATIONS_PER_HOUR``):
  each one files work for a department and stores the caller's free text.

The counters live in the database by default (``core.rate_limits``), in Redis when
``CREDITHUB_REDIS_URL`` is set, so every worker process and every server behind a load balancer
counts together. A refusal is 429 problem JSON with ``Retry-After``; the first refusal of each
caller and budget in a minute is audited (``rate_limit.exceeded``), not every one, so a flood
cannot flood the audit trail too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request, session
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import Storage
from werkzeug.exceptions import TooManyRequests

from app.auth.access import current_client
from app.entities.search import is_code_query
from app.metrics.access import from_allowed_address
from app.runtime import request_session, runtime
from core.audit import record_event
from core.config import Config
from core.models import ApiClient
from core.rate_limits import BatchedFixedWindow, storage_for

EXTENSION_KEY = "credithub_limiter"
# Requests that cost nothing worth limiting: the pages' stylesheet, the load balancer's probe.
_FREE_PATHS = ("/static/", "/healthz")
# The pages keep the signed-in client's id under this key (app.pages.auth.SESSION_CLIENT_KEY).
_PAGE_CLIENT_KEY = "client_id"


@dataclass(frozen=True)
class Budget:
    name: str
    items: tuple[RateLimitItem, ...]

    def describe(self) -> str:
        return " and ".join(f"{i.amount} per {i.GRANULARITY.name}" for i in self.items)


class Limiter:
    """The app's budgets over one ``limits`` storage (fixed windows, written in batches:
    ``core.rate_limits.BatchedFixedWindow``)."""

    def __init__(self, storage: Storage, config: Config) -> None:
        self.storage = storage
        self.strategy = BatchedFixedWindow(storage)
        self.requests = _budget("requests", RateLimitItemPerMinute(config.rate_limit_per_minute))
        self.identifier_lookups = _budget(
            "identifier_lookups",
            RateLimitItemPerMinute(config.identifier_lookups_per_minute),
            RateLimitItemPerHour(config.identifier_lookups_per_hour),
        )
        self.anonymous_objections = _budget(
            "anonymous_objections", RateLimitItemPerHour(config.anonymous_objections_per_hour)
        )
        self.anonymous_repair_applications = _budget(
            "anonymous_repair_applications",
            RateLimitItemPerHour(config.anonymous_repair_applications_per_hour),
        )
        self._audit_once = RateLimitItemPerMinute(1)

    def wait(self, budget: Budget, caller: str) -> float:
        """Count one hit of ``caller`` on ``budget``: 0 when allowed, else the seconds until
        the budget allows one again."""
        waits = [
            max(self.strategy.get_window_stats(item, caller).reset_time - time.time(), 1.0)
            for item in budget.items
            if not self.strategy.hit(item, budget.name, caller)
        ]
        return max(waits, default=0.0)

    def first_refusal(self, budget: Budget, caller: str) -> bool:
        """Whether this is the caller's first refusal on ``budget`` this minute."""
        return self.strategy.hit(self._audit_once, "refusal", budget.name, caller)


def _budget(name: str, *items: RateLimitItem) -> Budget:
    return Budget(name, tuple(i for i in items if i.amount > 0))


def limiter(app: Flask | None = None) -> Limiter:
    found: Limiter = (app or current_app).extensions[EXTENSION_KEY]
    return found


def init_app(app: Flask, config: Config) -> None:
    storage = storage_for(engine=runtime(app).engine, redis_url=config.redis_url)
    app.extensions[EXTENSION_KEY] = Limiter(storage, config)

    @app.before_request
    def _limit_requests() -> None:
        if request.path.startswith(_FREE_PATHS) or _monitoring_scrape():
            return
        charge(limiter().requests)


def _monitoring_scrape() -> bool:
    """A scrape of /metrics from the monitoring network is not counted: Prometheus scrapes
    from one address on a fixed interval, and a 429 under load would blank the graphs just
    when they matter. Anyone else's request for /metrics (refused or a regulator's) is."""
    return (
        request.path == "/metrics"
        and not request.headers.get("Authorization")
        and from_allowed_address()
    )


def caller_key() -> str:
    """Whom the limits count: the signed-in client (API token or page session), else the
    address. A bearer token that authenticates nobody answers 401 here, before any work."""
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        client = current_client()
        if client is not None:
            return f"client:{client.id}"
    page_client = session.get(_PAGE_CLIENT_KEY) if not request.path.startswith("/api/") else None
    if isinstance(page_client, int):
        return f"client:{page_client}"
    return f"address:{request.remote_addr}"


def charge(budget: Budget) -> None:
    """Count one hit on ``budget`` for this request's caller; 429 (audited once a minute per
    caller and budget) when it is spent. Does nothing for a budget that is turned off."""
    if not budget.items:
        return
    caller = caller_key()
    lim = limiter()
    wait = lim.wait(budget, caller)
    if wait <= 0:
        return
    if lim.first_refusal(budget, caller):
        _audit_refusal(budget, caller)
    exc = TooManyRequests(
        description=f"More than {budget.describe()} ({budget.name.replace('_', ' ')}); "
        f"retry in {math.ceil(wait)} s."
    )
    exc.retry_after = math.ceil(wait)  # type: ignore[attr-defined]
    raise exc


def charge_identifier_lookup(query: str | None) -> None:
    """Count a search against the identifier look-up budget when ``query`` is an identifier
    (429 when it is spent); names and empty queries cost only the request budget."""
    if query and is_code_query(query.strip()):
        charge(limiter().identifier_lookups)


def _audit_refusal(budget: Budget, caller: str) -> None:
    db = request_session()
    client = g.get("client")
    if client is None and caller.startswith("client:"):
        client = db.get(ApiClient, int(caller.removeprefix("client:")))
    record_event(
        session=db,
        client=client,
        action="rate_limit.exceeded",
        target_type="rate_limit",
        target_id=budget.name,
        details={
            "budget": budget.describe(),
            "path": request.path,
            # The caller's address is the event's own column; a client is the event's actor.
            "caller": caller.split(":", 1)[0],
        },
    )
    db.commit()
