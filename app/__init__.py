"""CreditHub web application: ``create_app`` builds one, nothing is created at import time."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.json_provider import OrjsonProvider
from core.config import Config
from core.logs import configure_logging


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask application for ``config`` (default: read from ``CREDITHUB_*``)."""
    config = config or Config.from_env()
    app = Flask(__name__, instance_path=str(config.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        JSON_SORT_KEYS=False,
    )
    # Chinese names and addresses leave as characters, not \uXXXX escapes: a third of the size
    # and readable in a log or a terminal; JSON is UTF-8 by definition (RFC 8259). Encoded by
    # orjson (app.json_provider: the same text as Flask's provider, several times faster).
    app.json = OrjsonProvider(app)
    config.instance_path.mkdir(parents=True, exist_ok=True)
    configure_logging(level=config.log_level_number, log_format=config.log_format)
    app.logger.setLevel(config.log_level_number)
    # Alembic announces its context on every revision check (each /healthz): keep that quiet.
    logging.getLogger("alembic").setLevel(max(config.log_level_number, logging.WARNING))

    # Ids are 32-bit on PostgreSQL: a larger number in a URL is simply not found (404), not a
    # database error. Registered before any route uses the converter.
    app.url_map.converters["int"] = _DatabaseId

    from app import api, docs_page, errors, guards, metrics, pages, runtime, security_headers
    from app.auth import access, ratelimit
    from app.health.routes import blp as health_blp

    runtime.init_app(app, config)
    metrics.init_app(app)  # first: its clock starts before every other hook's work
    errors.init_app(app)
    security_headers.init_app(app)
    guards.init_app(app, config)
    access.init_app(app)
    ratelimit.init_app(app, config)
    api.init_app(app)
    docs_page.init_app(app)
    pages.init_app(app, config)
    app.register_blueprint(health_blp)
    return app


class _DatabaseId(IntegerConverter):
    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)
