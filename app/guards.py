"""Request guards that hold for every endpoint, before any view runs."""

from __future__ import annotations

from flask import Flask, abort, request


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters() -> None:
        # PostgreSQL text cannot hold NUL; refusing it here gives every endpoint the same clear
        # 400 instead of a database error deep inside one of them.
        if b"\x00" in request.query_string or b"%00" in request.query_string.lower():
            abort(400, description="NUL characters are not allowed in the query string.")
        if request.is_json and request.content_length and b"\\u0000" in request.get_data():
            abort(400, description="NUL characters are not allowed in the request body.")
