"""``GET /api/v1/public/entities`` and ``/public/entities/{public_id}``: the public lookup."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.auth.ratelimit import charge_identifier_lookup
from app.pagination import page_body
from app.public.schemas import PublicPageSchema, PublicProfileSchema, PublicSearchArgsSchema
from app.public.services import (
    public_profile,
    search_public,
)
from app.runtime import commit_request, commit_when_refused, request_session, runtime, today
from app.security_headers import allow_public_caching
from core.models import EntityKind, Role

blp = Blueprint("public", __name__, url_prefix="/public", description="Public lookup")

_EVERYONE = (Role.PUBLIC, Role.REGULATOR, Role.DEPARTMENT, Role.ANALYST)
# OpenAPI: a token is optional here (it changes nothing in the answer).
_TOKEN_OPTIONAL = {"security": [{}, {"bearerAuth": []}]}


@blp.route("/entities")
class PublicEntities(MethodView):
    @allow(*_EVERYONE)
    @blp.doc(**_TOKEN_OPTIONAL)
    @blp.arguments(PublicSearchArgsSchema, location="query")
    @blp.response(200, PublicPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Look an entity up by name or unified social credit code (no token needed).

        Everyone gets the public view, whatever their role. 403 for a resident id number,
        422 for other identifiers; identifier searches have their own, lower rate limit (429).
        Every search is audited, so a page naming no natural person carries an ETag and
        may be kept by caches only if they ask again first (``no-cache``; ``If-None-Match``: 304).
        """
        charge_identifier_lookup(args["q"])
        with commit_when_refused():  # a refused search by a resident id stays in the trail
            items, total = search_public(
                session=request_session(),
                client=current_client(),
                q=args["q"],
                today=today(),
                page=args["page"],
                page_size=args["page_size"],
                query_key=runtime().config.query_hash_secret,
            )
        commit_request()  # the search's audit event
        if not any(item["kind"] == EntityKind.NATURAL_PERSON.value for item in items):
            allow_public_caching(revalidate=True)
        return page_body(items, total, page=args["page"], page_size=args["page_size"])


@blp.route("/entities/<string:public_id>")
class PublicEntity(MethodView):
    @allow(*_EVERYONE)
    @blp.doc(**_TOKEN_OPTIONAL)
    @blp.response(200, PublicProfileSchema)
    def get(self, public_id: str) -> dict[str, Any]:
        """An entity's published records and lists, as a publicity site shows them.

        404 for unknown ids and for natural persons with nothing published. A company's page
        carries an ETag and may be cached (``If-None-Match``: 304); a person's is no-store.
        """
        session = request_session()
        profile = public_profile(
            session=session, client=current_client(), public_id=public_id, today=today()
        )
        commit_request()  # the audit event of a person's page
        if profile["kind"] != EntityKind.NATURAL_PERSON.value:
            allow_public_caching()
        return profile
