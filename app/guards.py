"""Request guards that hold for every endpoint, before any view runs."""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.exceptions import RequestEntityTooLarge, RequestHeaderFieldsTooLarge

from core.config import Config


def init_app(app: Flask, config: Config) -> None:
    max_query = config.max_query_bytes
    max_body = config.max_request_bytes

    @app.before_request
    def _refuse_oversized_requests() -> None:
        # Refused up front, before any view or the NUL guard reads them: a declared body over
        # the limit is refused whether or not the endpoint would read it (Werkzeug would only
        # refuse it on reading), and a long query string never reaches the parsers.
        if len(request.query_string) > max_query:
            raise RequestHeaderFieldsTooLarge(f"The query string is longer than {max_query} bytes.")
        if request.content_length is not None and request.content_length > max_body:
            raise RequestEntityTooLarge(f"The request body is larger than {max_body} bytes.")

    @app.before_request
    def _refuse_nul_characters() -> None:
        # PostgreSQL text cannot hold NUL; refusing it here gives every endpoint the same clear
        # 400 instead of a database error deep inside one of them.
        if b"\x00" in request.query_string or b"%00" in request.query_string.lower():
            abort(400, description="NUL characters are not allowed in the query string.")
        if request.is_json and request.content_length and b"\\u0000" in request.get_data():
            abort(400, description="NUL characters are not allowed in the request body.")
