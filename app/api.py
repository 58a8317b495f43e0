"""The flask-smorest ``Api`` under ``/api/v1``: OpenAPI document at ``/api/v1/openapi.json``.

Errors are rendered by ``app.errors`` (RFC 9457 problem details) for the whole app, so the
Api's own error handler is not registered. Every resource's routes use :class:`Blueprint`,
whose JSON bodies are read by ``core.json_input``.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, Request, abort
from flask_smorest import Api
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from core.json_input import JsonRefused, loads


class StorableJsonParser(FlaskParser):
    """webargs' parser, with JSON bodies read by ``core.json_input.loads``: a body Python reads
    but no database stores (a lone surrogate, NUL, 1e999, nesting past the recursion limit)
    is a 400 naming the problem, instead of a 500 once a view stores it."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        if not body:
            return core.missing  # as webargs: no body is missing data, not invalid JSON
        try:
            return loads(body)
        except JsonRefused as exc:
            abort(400, description=f"The request body {exc}.")


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StorableJsonParser()


class CreditHubApi(Api):  # type: ignore[misc]
    def _register_error_handlers(self) -> None:
        # app.errors already turns every HTTPException into problem+json.
        return None


def init_app(app: Flask) -> CreditHubApi:
    app.config.update(
        API_TITLE="CreditHub API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    spec_kwargs: dict[str, Any] = {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    }
    api = CreditHubApi(app, spec_kwargs=spec_kwargs)

    from app.audit.routes import blp as audit_blp
    from app.catalogue.routes import blp as catalogue_blp
    from app.credit_checks.routes import blp as credit_checks_blp
    from app.disputes.routes import blp as disputes_blp
    from app.entities.routes import blp as entities_blp
    from app.ingest_api.routes import blp as ingest_blp
    from app.public.routes import blp as public_blp
    from app.records.routes import blp as records_blp
    from app.reports.routes import blp as reports_blp
    from app.resolution.routes import blp as resolution_blp
    from app.subscriptions.routes import blp as subscriptions_blp

    blueprints = (
        catalogue_blp,
        records_blp,
        ingest_blp,
        entities_blp,
        public_blp,
        disputes_blp,
        audit_blp,
        resolution_blp,
        reports_blp,
        credit_checks_blp,
        subscriptions_blp,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    return api
