"""Regulators correct entity resolution: review queue, merge, unmerge, split."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow, current_client
from app.entities.present import mask_explanation
from app.entities.services import viewer_for
from app.pagination import page_body
from app.resolution.schemas import (
    EntityRefSchema,
    MergeSchema,
    ReviewArgsSchema,
    ReviewDecisionSchema,
    ReviewPageSchema,
    ReviewSchema,
    SplitSchema,
    UnmergeSchema,
)
from app.resolution.services import side_by_side
from app.runtime import commit_request, request_session, today
from core.models import ApiClient, Entity, EntityReview, Role
from resolution.corrections import (
    merge_entities,
    split_entity,
    unmerge_entity,
)
from resolution.review_queue import support_of
from resolution.reviews import decide_review, list_reviews

blp = Blueprint("resolution", __name__, description="Entity resolution: reviews, merge, split")
T = TypeVar("T")


def _run(action: Callable[..., T], **kwargs: Any) -> T:
    """Call a service as the current regulator inside the request's transaction."""
    client: ApiClient | None = current_client()
    assert client is not None
    result = action(session=request_session(), client=client, **kwargs)
    commit_request()
    return result


def _review_view(review: EntityReview) -> dict[str, Any]:
    return {
        "id": review.id,
        "entity_id": review.entity.public_id,
        "candidate_entity_id": review.candidate.public_id,
        "entity_name": review.entity.display_name,
        "candidate_name": review.candidate.display_name,
        "score": review.score,
        "support": support_of(review),
        "explanation": review.explanation,
        "algorithm": review.algorithm,
        "status": review.status.value,
        "created_at": review.created_at,
        "decided_at": review.decided_at,
        "reason": review.reason,
    }


def _entity_view(entity: Entity) -> dict[str, Any]:
    merged = entity.merged_into_id
    target = request_session().get(Entity, merged) if merged else None
    return {
        "public_id": entity.public_id,
        "display_name": entity.display_name,
        "kind": entity.kind.value,
        "merged_into": target.public_id if target else None,
    }


@blp.route("/reviews")
class Reviews(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(ReviewArgsSchema, location="query")
    @blp.response(200, ReviewPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Pairs of entities the matcher was unsure about (pending by default), best first:
        one pending review per pair of entities (``support``: the record pairs queued between
        them; reviews of entities merged since are closed), each with its two entities side by
        side (``comparison``: every field's two values, the
        matcher's level and weight, the total and the thresholds). Personal data is masked as
        on the profile; showing a natural person is audited (``entity.read``, view
        ``review``)."""
        session = request_session()
        reviews, total = list_reviews(
            session=session,
            status=args["status"],
            page=args["page"],
            page_size=args["page_size"],
        )
        viewer = viewer_for(session=session, client=current_client(), today=today())
        compared = side_by_side(session=session, viewer=viewer, reviews=reviews)
        items = [
            {
                **_review_view(r),
                "explanation": mask_explanation(viewer, r.explanation, r.entity.kind),
                "comparison": compared[r.id],
            }
            for r in reviews
        ]
        commit_request()  # the audit events of the people shown
        return page_body(items, total, page=args["page"], page_size=args["page_size"])


@blp.route("/reviews/<int:review_id>/decision")
class ReviewDecision(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(ReviewDecisionSchema)
    @blp.response(200, ReviewSchema)
    def post(self, body: dict[str, Any], review_id: int) -> dict[str, Any]:
        """Same party: the pair is merged at once. Not the same: never merged automatically."""
        review = _run(decide_review, review_id=review_id, same=body["same"], reason=body["reason"])
        return _review_view(review)


@blp.route("/entities/<string:public_id>/merge")
class Merge(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(MergeSchema)
    @blp.response(200, EntityRefSchema)
    def post(self, body: dict[str, Any], public_id: str) -> dict[str, Any]:
        """Merge this entity into ``into``; its public id keeps answering for the merged one."""
        target = _run(
            merge_entities, source_id=public_id, target_id=body["into"], reason=body["reason"]
        )
        return _entity_view(target)


@blp.route("/entities/<string:public_id>/unmerge")
class Unmerge(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(UnmergeSchema)
    @blp.response(200, EntityRefSchema)
    def post(self, body: dict[str, Any], public_id: str) -> dict[str, Any]:
        """Undo a merge of this entity; it will not be merged back automatically."""
        return _entity_view(_run(unmerge_entity, public_id=public_id, reason=body["reason"]))


@blp.route("/entities/<string:public_id>/split")
class Split(MethodView):
    @allow(Role.REGULATOR)
    @blp.arguments(SplitSchema)
    @blp.response(200, EntityRefSchema)
    def post(self, body: dict[str, Any], public_id: str) -> dict[str, Any]:
        """Move the listed records to a new entity (with the identifiers they brought)."""
        new = _run(
            split_entity, public_id=public_id, record_ids=body["record_ids"], reason=body["reason"]
        )
        return _entity_view(new)
