"""Every error leaves as an RFC 9457 problem-details JSON document (the web pages render their
own error page from the same exception), never a stack trace.

A service's refusal (:class:`core.errors.ServiceRefused`) needs no handling in the views: it
becomes the HTTP error of its status here, so the API and the pages answer it as any other.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, default_exceptions

from core.errors import ServiceRefused

PROBLEM_JSON = "application/problem+json"


def problem_document(
    status: int, title: str, detail: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The RFC 9457 body: what the app answers, and the server's own refusals (cli/serve.py)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    response = jsonify(problem_document(status, title, detail, **extra))
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        extra: dict[str, Any] = {}
        data = getattr(exc, "data", None) or {}
        # webargs (flask-smorest) puts validation errors in data["messages"], by location.
        if "messages" in data:
            extra["errors"] = data["messages"]
        detail = data.get("message") or exc.description
        if exc.code == 422 and "errors" in extra:
            detail = "The request does not validate; see errors."
        response = problem(exc.code or 500, exc.name, detail, **extra)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(ServiceRefused)
    def _refused(exc: ServiceRefused) -> ResponseReturnValue:
        # Dispatched as the HTTP error it stands for, so a blueprint's own handler (the pages'
        # error page) answers it exactly as it answers an abort().
        return app.handle_http_exception(as_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with its traceback; the caller learns nothing about internals.
        app.logger.exception("unhandled error", exc_info=exc)
        return problem(500, "Internal Server Error", "The server could not complete the request.")


def as_http_exception(exc: ServiceRefused) -> HTTPException:
    """The HTTP error ``exc`` stands for: its status, its message as the detail and its
    per-field errors where the problem document puts validation errors."""
    http_error = default_exceptions.get(exc.status, HTTPException)(description=exc.message)
    if http_error.code is None:
        http_error.code = exc.status
    data: dict[str, Any] = {"message": exc.message}
    if exc.errors:
        data["messages"] = exc.errors
    http_error.data = data  # type: ignore[attr-defined]
    return http_error
