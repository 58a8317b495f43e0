"""``POST /api/v1/subscriptions`` (a webhook for change events), ``GET /api/v1/subscriptions``
(the department's subscriptions with recent deliveries), ``GET /api/v1/subscriptions/{id}``
and ``DELETE /api/v1/subscriptions/{id}`` (cancel). Departments and regulators."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.runtime import commit_request, request_session, runtime, today
from app.subscriptions.schemas import (
    SubscriptionListSchema,
    SubscriptionRequestSchema,
    SubscriptionSchema,
)
from app.subscriptions.services import (
    cancel_subscription,
    create_subscription,
    get_subscription,
    list_subscriptions,
    present_subscription,
)
from core.models import ApiClient, Role

blp = Blueprint(
    "subscriptions", __name__, url_prefix="/subscriptions", description="Webhook subscriptions"
)

SUBSCRIBERS = (Role.DEPARTMENT, Role.REGULATOR)


def _client() -> ApiClient:
    client = current_client()
    assert client is not None  # @allow admits no anonymous caller here
    return client


@blp.route("")
class Subscriptions(MethodView):
    @allow(*SUBSCRIBERS)
    @blp.arguments(SubscriptionRequestSchema)
    @blp.response(201, SubscriptionSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Subscribe a webhook to change events about the entities watched.

        The answer carries the signing secret, once. Events respect the caller's sharing view
        and masking. 422 for a refused URL (scheme other than http/https, credentials in it,
        a private, loopback or link-local target), an unknown kind, nothing to watch, or an
        identifier naming no single party.
        """
        session = request_session()
        subscription, secret = create_subscription(
            session=session,
            client=_client(),
            allow_private=runtime().config.webhook_allow_private,
            today=today(),
            grade_rules=runtime().rules.grade,
            **body,
        )
        commit_request()
        return present_subscription(session, subscription, secret=secret)

    @allow(*SUBSCRIBERS)
    @blp.response(200, SubscriptionListSchema)
    def get(self) -> dict[str, Any]:
        """The department's subscriptions, each with its recent deliveries."""
        session = request_session()
        items = list_subscriptions(session=session, client=_client())
        return {"items": [present_subscription(session, s) for s in items]}


@blp.route("/<int:subscription_id>")
class SubscriptionItem(MethodView):
    @allow(*SUBSCRIBERS)
    @blp.response(200, SubscriptionSchema)
    def get(self, subscription_id: int) -> dict[str, Any]:
        """One subscription with its recent deliveries (status, attempts, last error). 404
        when it belongs to another department."""
        session = request_session()
        found = get_subscription(session=session, client=_client(), subscription_id=subscription_id)
        return present_subscription(session, found)

    @allow(*SUBSCRIBERS)
    @blp.response(204)
    def delete(self, subscription_id: int) -> None:
        """Cancel a subscription: no new deliveries, and those still pending are cancelled,
        never posted. Its department (its own client, without one) or a regulator; audited.
        Cancelling a cancelled subscription changes nothing. 404 for another department's."""
        cancel_subscription(
            session=request_session(), client=_client(), subscription_id=subscription_id
        )
        commit_request()
