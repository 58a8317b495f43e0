"""``GET /api/v1/quarantine``, ``GET /api/v1/ingest/set-aside`` and ``GET /api/v1/ingest/runs``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.ingest_api.schemas import (
    QuarantineArgsSchema,
    QuarantinePageSchema,
    RunArgsSchema,
    RunPageSchema,
    SetAsideArgsSchema,
    SetAsidePageSchema,
)
from app.ingest_api.services import list_quarantine, list_runs, list_set_aside
from app.pagination import page_body
from app.runtime import request_session
from core.models import Role

blp = Blueprint("ingest", __name__, description="Ingestion: quarantine and run history")


@blp.route("/quarantine")
class Quarantine(MethodView):
    @allow(Role.REGULATOR, Role.DEPARTMENT)
    @blp.arguments(QuarantineArgsSchema, location="query")
    @blp.response(200, QuarantinePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Rejected records with their raw payload and field errors (departments: their own)."""
        client = current_client()
        assert client is not None
        items, total = list_quarantine(
            session=request_session(),
            client=client,
            feed_code=args["feed"],
            page=args["page"],
            page_size=args["page_size"],
        )
        return page_body(items, total, page=args["page"], page_size=args["page_size"])


@blp.route("/ingest/set-aside")
class SetAsideFiles(MethodView):
    @allow(Role.REGULATOR, Role.DEPARTMENT)
    @blp.arguments(SetAsideArgsSchema, location="query")
    @blp.response(200, SetAsidePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Dropped files that could not be read, with the reason (departments: their own).
        A file is read again once its content changes."""
        client = current_client()
        assert client is not None
        items, total = list_set_aside(
            session=request_session(),
            client=client,
            feed_code=args["feed"],
            page=args["page"],
            page_size=args["page_size"],
        )
        return page_body(items, total, page=args["page"], page_size=args["page_size"])


@blp.route("/ingest/runs")
class IngestRuns(MethodView):
    @allow(Role.REGULATOR, Role.DEPARTMENT, Role.ANALYST)
    @blp.arguments(RunArgsSchema, location="query")
    @blp.response(200, RunPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Ingest runs, newest first, with counts and errors (departments: their own feeds)."""
        client = current_client()
        assert client is not None
        items, total = list_runs(
            session=request_session(),
            client=client,
            feed_code=args["feed"],
            status=args["status"],
            page=args["page"],
            page_size=args["page_size"],
        )
        return page_body(items, total, page=args["page"], page_size=args["page_size"])
