"""Security headers on every response of the app, and ``Cache-Control: no-store`` on every
response that is not a known public, non-personal one.

* The API answers JSON, files and problem documents: nothing in them is to be run, framed or
  shown as a page, so its policy allows nothing (``default-src 'none'``). The web pages
  (``app/pages``) and the API docs page (``app/docs_page.py``) set their own, looser policy;
  theirs wins because a blueprint's after-request runs before this one and this one only
  fills in what is missing.
* ``no-store`` by default rather than on a list of personal endpoints: profiles, records,
  search results, exports, audit and queue listings all carry personal data, and a new
  endpoint forgotten on a list would be cached by a shared proxy or the browser's disk cache.
  Only static assets and the API's description (the same for everybody) may be cached, and
  public look-up answers that name no natural person (:func:`allow_public_caching`): those
  carry ``Cache-Control: public, max-age=PUBLIC_MAX_AGE`` and an ``ETag``, and a conditional
  GET whose ``If-None-Match`` still matches is answered ``304 Not Modified``. A person's
  public page stays ``no-store``: every read of it is audited, which a cache would skip.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, g, request

API_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# Endpoints whose answers are the same for every caller and hold no personal data.
_CACHEABLE_ENDPOINTS = frozenset({"api-docs.openapi_json", "apidocs.page", "apidocs.initializer"})


# Seconds a shared cache may keep a public look-up answer (published records change at most
# with each ingest run; a repaired record leaves public caches within this time).
PUBLIC_MAX_AGE = 300


def allow_public_caching(*, revalidate: bool = False) -> None:
    """Let anyone cache this request's answer (validated by its ETag). Only for answers that
    are the same for every caller and name no natural person. ``revalidate``: caches must ask
    the server again before each use (``no-cache``), for answers whose every request is audited
    (searches); the ETag still spares the body (304)."""
    policy = "public, no-cache" if revalidate else f"public, max-age={PUBLIC_MAX_AGE}"
    g.credithub_public_cache = policy


def cacheable(endpoint: str | None) -> bool:
    return endpoint is not None and (
        endpoint in _CACHEABLE_ENDPOINTS or endpoint == "static" or endpoint.endswith(".static")
    )


def fill_in(response: Response, headers: Mapping[str, str]) -> Response:
    """``response`` with each of ``headers`` it does not set already (a blueprint's own policy,
    set first, wins over the app's)."""
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        fill_in(response, API_SECURITY_HEADERS)
        public = g.get("credithub_public_cache")
        if public and request.method in ("GET", "HEAD") and response.status_code == 200:
            response.headers["Cache-Control"] = public
            response.add_etag()
            response.make_conditional(request)
        elif not cacheable(request.endpoint):
            response.headers["Cache-Control"] = "no-store"
        return response
