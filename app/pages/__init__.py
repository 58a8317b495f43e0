"""Server-rendered web pages for people: sign in with an API token, search, entity profiles,
the review queue, feed status, and the regulators' repair and objection queues.

Plain HTML forms and one local stylesheet; no JavaScript is needed and nothing is loaded from
another site. Views are thin: they call the same services as the JSON API, with the same role
rules, visibility and masking, and write the same audit events. See ``docs/pages.md``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException

from app.pages.auth import CSRF_FIELD, load_signed_in_client, page_client, page_role
from app.pages.labels import choices, label
from app.security_headers import fill_in
from core.config import Config
from core.rules.sharing import mask_level, scrub, sees_full_identifiers

blp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/pages",
)


# Context keys holding the user's own input (the search form, a refused form's fields).
USER_INPUT_KEYS = ("values", "failed")


def render(template: str, http_status: int = 200, **context: Any) -> tuple[str, int]:
    """Render a page template, answering with ``http_status``.

    Safety net behind the services' own masking (as ``app.auth.access`` does for JSON): for a
    role that may not see personal identifiers, every string handed to the template has valid
    resident id numbers and mobile numbers masked. What the user typed (``USER_INPUT_KEYS``)
    is echoed as typed: it discloses nothing, and masking it would change a search on the next
    page or store masked text when a refused form is sent again.
    """
    role = page_role()
    if not sees_full_identifiers(role):
        echoed = {k: context.pop(k) for k in USER_INPUT_KEYS if k in context}
        context = {**scrub(context, mask_level(role)), **echoed}
    return render_template(f"pages/{template}", **context), http_status


def init_app(app: Flask, config: Config) -> None:
    # The session cookie carries the signed-in client id: never readable by scripts, not sent
    # on cross-site sub-requests; HTTPS-only when CREDITHUB_SECURE_COOKIES says the service is
    # behind HTTPS (`make run` serves plain HTTP on localhost).
    app.config.update(
        SESSION_COOKIE_NAME="credithub_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        # A form stays valid for a working day; the token is also bound to the session.
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    from app.pages import (  # noqa: F401  (they add their views to ``blp``)
        checks,
        queues,
        reports,
        routes,
    )

    app.register_blueprint(blp)


@blp.before_request
def _signed_in_client() -> None:
    if request.endpoint == "pages.static":
        return  # the stylesheet needs no database look-up
    load_signed_in_client()


# The pages run no script at all and load everything from this server; forms post only here and
# no other site may frame them (clickjacking a decision button).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@blp.after_request
def _security_headers(response: Response) -> Response:
    return fill_in(response, SECURITY_HEADERS)


@blp.app_template_global("label")
def _label(vocabulary: str, value: object) -> str:
    return label(vocabulary, value)


@blp.app_template_global("choices")
def _choices(vocabulary: str) -> list[tuple[str, str]]:
    return choices(vocabulary)


@blp.context_processor
def _page_globals() -> dict[str, Any]:
    return {
        "current_client": page_client(),
        "current_role": page_role().value,
        "csrf_field": CSRF_FIELD,
        "csrf_token": generate_csrf,
    }


@blp.errorhandler(HTTPException)
def _page_error(exc: HTTPException) -> Response | tuple[str, int]:
    # Pages answer errors with a page (the JSON API keeps its problem+json documents).
    status = exc.code or 500
    return render("error.html", status, status=status, title=exc.name, detail=exc.description)
