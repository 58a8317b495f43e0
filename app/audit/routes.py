"""``GET /api/v1/audit``: the audit trail, read-only (there is no update or delete path)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.audit.schemas import AuditArgsSchema, AuditPageSchema
from app.audit.services import list_events
from app.auth.access import allow, current_client
from app.pagination import page_body
from app.runtime import commit_request, request_session
from core.audit import record_event
from core.models import Role

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit trail")


@blp.route("")
class AuditTrail(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(AuditArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Who did what to whom, newest first; reading the trail is itself audited."""
        session = request_session()
        page, page_size = args.pop("page"), args.pop("page_size")
        events, total = list_events(session=session, filters=args, page=page, page_size=page_size)
        record_event(
            session=session,
            client=current_client(),
            action="audit.read",
            details={k: str(v) for k, v in args.items() if v is not None},
        )
        commit_request()
        return page_body(events, total, page=page, page_size=page_size)
