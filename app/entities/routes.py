"""``GET /api/v1/entities``, ``/entities/{public_id}`` and ``/entities/{public_id}/records``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.auth.ratelimit import charge_identifier_lookup
from app.entities.schemas import (
    EntityPageSchema,
    EntitySearchArgsSchema,
    ProfileSchema,
    RecordArgsSchema,
    RecordPageSchema,
)
from app.entities.services import (
    RecordFilters,
    SearchFilters,
    entity_profile,
    entity_records,
    search_entities,
    viewer_for,
)
from app.pagination import page_body
from app.runtime import commit_request, commit_when_refused, request_session, runtime, today
from core.models import Role

blp = Blueprint("entities", __name__, url_prefix="/entities", description="Entities")

_GOVERNMENT = (Role.REGULATOR, Role.DEPARTMENT, Role.ANALYST)


@blp.route("")
class Entities(MethodView):
    @allow(*_GOVERNMENT)
    @blp.arguments(EntitySearchArgsSchema, location="query")
    @blp.response(200, EntityPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search entities by any identifier or by name (fuzzy), or list them by filter.

        Identifiers of natural persons are masked unless the caller is a regulator; the list
        and penalty filters only consider records the caller may see. Searching by a full
        resident id number is for regulators and departments (403 for analysts); identifier
        searches have their own, lower rate limit (429). Every search is audited.
        """
        charge_identifier_lookup(args["q"])
        session = request_session()
        viewer = viewer_for(session=session, client=current_client(), today=today())
        with commit_when_refused():  # a refused search by a full id stays in the audit trail
            items, total, kind = search_entities(
                session=session,
                viewer=viewer,
                q=args["q"],
                filters=SearchFilters.from_args(args),
                page=args["page"],
                page_size=args["page_size"],
                query_key=runtime().config.query_hash_secret,
            )
        commit_request()  # keeps the search's audit event
        body = page_body(items, total, page=args["page"], page_size=args["page_size"])
        return {**body, "query_kind": kind}


@blp.route("/<string:public_id>")
class EntityProfile(MethodView):
    @allow(*_GOVERNMENT)
    @blp.response(200, ProfileSchema)
    def get(self, public_id: str) -> dict[str, Any]:
        """An entity's profile: golden record with sources, identifiers, records by category,
        lists, credit grade with reasons, timeline, departments and match explanations.

        A merged entity's id answers with the surviving entity (``merged_from`` says so).
        404 when no entity has the id.
        """
        session = request_session()
        viewer = viewer_for(session=session, client=current_client(), today=today())
        profile = entity_profile(
            session=session,
            viewer=viewer,
            public_id=public_id,
            grade_rules=runtime().rules.grade,
        )
        commit_request()  # keeps the audit event the service writes when it shows a person
        return profile


@blp.route("/<string:public_id>/records")
class EntityRecords(MethodView):
    @allow(*_GOVERNMENT)
    @blp.arguments(RecordArgsSchema, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, args: dict[str, Any], public_id: str) -> dict[str, Any]:
        """The entity's records the caller may see, newest decision first, filterable.

        404 when no entity has the id.
        """
        session = request_session()
        viewer = viewer_for(session=session, client=current_client(), today=today())
        entity, items, total = entity_records(
            session=session,
            viewer=viewer,
            public_id=public_id,
            filters=RecordFilters.from_args(args),
            page=args["page"],
            page_size=args["page_size"],
        )
        commit_request()  # keeps the audit event the service writes when it shows a person
        body = page_body(items, total, page=args["page"], page_size=args["page_size"])
        return {**body, "entity": entity.public_id}
