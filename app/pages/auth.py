"""Who is looking at a page: sign-in with an API token, the signed session cookie, role rules
and CSRF checks for every form.

The pages authenticate a pasted API token with the same service as the API
(``app.auth.services.authenticate``) and keep only the client's id (and a value derived from
its stored token hash, see :func:`_binding`) in Flask's signed session cookie. Every page
request looks the client up again (``active_client``), so revoking a token signs its holder
out at their next request. The JSON API never reads this cookie: the client is
put into ``g.client`` only by this blueprint's ``before_request``.

``page_allow(*roles)`` declares roles with the same attribute as ``app.auth.access.allow`` (so
the permission-matrix test walks the pages too), but answers like a web page: a visitor who is
not signed in is redirected to the sign-in page, a signed-in role that may not see the page
gets an HTML 403.

CSRF: flask-wtf's ``generate_csrf`` / ``validate_csrf`` (a random per-session token, signed, in
a hidden field of every POST form) are used directly, without ``CSRFProtect``, so the bearer-only
JSON API is left alone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, session, url_for
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from app.auth.access import ALLOWED_ROLES_ATTR
from app.auth.services import active_client, authenticate
from app.runtime import request_session
from core.models import ApiClient, Role

F = TypeVar("F", bound=Callable[..., Any])
SESSION_CLIENT_KEY = "client_id"
SESSION_BINDING_KEY = "client_binding"
CSRF_FIELD = "csrf_token"
GOVERNMENT = (Role.REGULATOR, Role.DEPARTMENT, Role.ANALYST)
EVERYONE = (Role.PUBLIC, *GOVERNMENT)


def load_signed_in_client() -> None:
    """Put the signed-in client (or None) into ``g.client`` for this page request.

    A session naming a client that no longer exists or was revoked is cleared, with a message
    for the next page.
    """
    g.client = None
    client_id = session.get(SESSION_CLIENT_KEY)
    if client_id is None:
        return
    client = (
        active_client(session=request_session(), client_id=client_id)
        if isinstance(client_id, int)
        else None
    )
    binding = session.get(SESSION_BINDING_KEY)
    if client is not None and not (
        isinstance(binding, str) and hmac.compare_digest(binding, _binding(client))
    ):
        client = None
    if client is None:
        session.clear()
        flash("登录已失效：令牌已被撤销。Your token was revoked; sign in again.", "error")
        return
    g.client = client


def page_client() -> ApiClient | None:
    client: ApiClient | None = g.get("client")
    return client


def page_role() -> Role:
    client = page_client()
    return client.role if client is not None else Role.PUBLIC


def start_session(token: str) -> ApiClient | None:
    """Start a session for the client holding ``token``; None (and no session) when the token
    is unknown or revoked. The old session is cleared first, so nothing from before sign-in
    (not even its CSRF token) carries over."""
    client = authenticate(session=request_session(), token=token.strip())
    if client is None:
        return None
    session.clear()
    session[SESSION_CLIENT_KEY] = client.id
    session[SESSION_BINDING_KEY] = _binding(client)
    g.client = client
    return client


def _binding(client: ApiClient) -> str:
    """A value only the database can give (it derives from the stored token hash): a session
    naming a client must carry it, so whoever knows the SECRET_KEY (a leaked or left-default
    one) still cannot forge a session for a client whose token they do not hold."""
    digest = hashlib.sha256(f"credithub-page-session:{client.token_hash}".encode())
    return digest.hexdigest()


def end_session() -> None:
    session.clear()
    g.client = None


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (not another host, not a scheme), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def check_csrf() -> None:
    """Abort with 400 unless the form carries this session's CSRF token."""
    try:
        validate_csrf(request.form.get(CSRF_FIELD))
    except ValidationError as exc:
        abort(
            400,
            description=(
                "表单已过期或无效，请刷新页面后重试。"
                f"The form is out of date or forged ({exc}); reload the page and try again."
            ),
        )


def page_allow(*roles: Role) -> Callable[[F], F]:
    """Let only ``roles`` see the page; check the CSRF token of every POST.

    Not signed in (and the public not allowed): redirect to the sign-in page, which comes back
    here afterwards. Signed in with another role: 403.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            role = page_role()
            if role not in roles:
                if page_client() is None:
                    back = request.full_path if request.method == "GET" else None
                    target = url_for("pages.sign_in", next=back.rstrip("?") if back else None)
                    return redirect(target, code=303)
                abort(403, description=f"{role.value} 角色无权访问此页面。")
            if request.method == "POST":
                check_csrf()
            return view(*args, **kwargs)

        setattr(wrapper, ALLOWED_ROLES_ATTR, frozenset(roles))
        return wrapper  # type: ignore[return-value]

    return decorate
