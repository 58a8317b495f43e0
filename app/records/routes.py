"""``POST /api/v1/records``: departments push their records."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.records.schemas import PushRequestSchema, PushResponseSchema
from app.records.services import push_records
from app.runtime import commit_with_retry, request_session, runtime
from core.audit import record_event
from core.models import Role
from ingest.runner import PushSummary

blp = Blueprint("records", __name__, url_prefix="/records", description="Push credit records")


@blp.route("")
class RecordsPush(MethodView):
    @allow(Role.DEPARTMENT)
    @blp.arguments(PushRequestSchema)
    @blp.response(200, PushResponseSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Push up to 1,000 records of one of your department's push feeds.

        Each item needs a ``source_id`` (your record id); each gets its own result. The same
        push sent twice at once is stored once (the later one answers as a re-delivery); 409
        when it kept losing that race, so send it again.
        """
        client = current_client()
        assert client is not None
        session = request_session()

        def store() -> PushSummary:
            result = push_records(
                session=session,
                client=client,
                feed_code=body["feed"],
                items=body["records"],
                value_rules=runtime().rules.values,
            )
            record_event(
                session=session,
                client=client,
                action="records.push",
                target_type="feed",
                target_id=body["feed"],
                details={"run_id": result.run_id, **result.counts.as_dict()},
            )
            return result

        result = commit_with_retry(store)
        items = [
            {
                "index": index,
                "source_id": None if item.source_key.startswith("unreadable:") else item.source_key,
                "status": item.status,
                "errors": item.errors,
                "entity_id": item.entity_id,
            }
            for index, item in enumerate(result.items)
        ]
        return {"run_id": result.run_id, "counts": result.counts.as_dict(), "items": items}
