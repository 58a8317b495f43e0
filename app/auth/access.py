"""Who is calling, and may they: bearer-token authentication and role checks for views.

``allow(*roles)`` both enforces and *declares*: the allowed roles are kept on the view, so a
test can walk the route table and prove every endpoint has a rule.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, g, request

from app.auth.services import authenticate
from app.runtime import request_session
from core.audit import RequestOrigin, bind_request_origin
from core.models import ApiClient, Role
from core.rules.sharing import mask_level, scrub, sees_full_identifiers

F = TypeVar("F", bound=Callable[..., Any])
ALLOWED_ROLES_ATTR = "credithub_allowed_roles"


def current_client() -> ApiClient | None:
    if "client" not in g:
        g.client = _client_from_header()
    client: ApiClient | None = g.client
    return client


def current_role() -> Role:
    client = current_client()
    return client.role if client is not None else Role.PUBLIC


def _client_from_header() -> ApiClient | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description="Authorization must be 'Bearer <token>'.")
    client = authenticate(session=request_session(), token=token.strip())
    if client is None:
        abort(401, description="The token is unknown or revoked.")
    return client


def allow(*roles: Role) -> Callable[[F], F]:
    """Let only ``roles`` call the view (``Role.PUBLIC`` admits callers without a token).

    401 when a token is needed and missing, 403 when the caller's role is not allowed.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            role = current_role()
            if role not in roles:
                if current_client() is None:
                    abort(401, description="This endpoint needs a bearer token.")
                abort(403, description=f"The {role.value} role may not do this.")
            return view(*args, **kwargs)

        setattr(wrapper, ALLOWED_ROLES_ATTR, frozenset(roles))
        return wrapper  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        # The audit trail's request id is always the server's own: a caller's id could repeat
        # (by accident or to blur the trail) and join unrelated events. The caller's id, when
        # short and printable, is kept beside it so both sides can trace a request.
        ok = 0 < len(incoming) <= 64 and incoming.isprintable()
        g.request_id = uuid.uuid4().hex
        g.client_request_id = incoming if ok else None
        bind_request_origin(
            RequestOrigin(g.request_id, request.remote_addr, client_request_id=g.client_request_id)
        )

    @app.teardown_request
    def _forget_request_origin(_exc: BaseException | None) -> None:
        bind_request_origin(None)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if g.get("client_request_id"):
            response.headers["X-Client-Request-ID"] = g.client_request_id
        _mask_for_role(response)
        if response.status_code == 401:
            response.headers.setdefault("WWW-Authenticate", 'Bearer realm="credithub"')
        return response


def _mask_for_role(response: Response) -> None:
    """Safety net behind the services' own masking: no JSON answer to a role that may not see
    personal identifiers carries a valid resident id number or a mobile number in clear."""
    client: ApiClient | None = g.get("client")
    role = client.role if client is not None else Role.PUBLIC
    if sees_full_identifiers(role) or not response.is_json or response.direct_passthrough:
        return
    body = response.get_json(silent=True)
    if body is None:
        return
    scrubbed = scrub(body, mask_level(role))
    # Encoded again only when something was masked: the answer as the view wrote it otherwise.
    if scrubbed != body:
        provider = current_app.json
        compact = getattr(provider, "encode_compact", None)
        response.set_data(
            compact(scrubbed)
            if callable(compact)
            else provider.dumps(scrubbed, separators=(",", ":"))
        )
