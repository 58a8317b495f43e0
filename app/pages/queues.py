"""Work queues: the entity review queue (regulators), credit repair applications (regulators)
and objections (regulators close them; the source department answers).

Every decision calls the same service as the API inside the request's transaction, so it writes
the same audit event. A form that does not validate, or that a service refuses, shows the queue
again with the message and the text the user typed (nothing is lost), with the status the API
would have answered; a decision that succeeded redirects back to the queue (303) with a message.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.disputes.disputed_records import DisputeRefused
from app.disputes.objections import (
    accept_objection,
    answer_objection,
    close_objection,
    list_objections,
)
from app.disputes.repairs import decide_repair, list_repair_applications
from app.entities.services import viewer_for
from app.pages import blp, render
from app.pages.auth import page_allow, page_client
from app.pages.forms import (
    ObjectionAnswerForm,
    ObjectionCloseForm,
    ObjectionQueueArgs,
    RepairDecisionForm,
    RepairQueueArgs,
    ReviewDecisionForm,
    ReviewQueueArgs,
    form_data,
    load,
)
from app.resolution.services import side_by_side
from app.runtime import commit_request, request_session, today
from core.models import ApiClient, ObjectionStatus, Role
from core.rules.sharing import sees_full_identifiers
from resolution.corrections import ResolutionRefused
from resolution.reviews import decide_review, list_reviews

Page = Response | tuple[str, int]
PAGE_SIZE = 20


def _client() -> ApiClient:
    client = page_client()
    assert client is not None  # page_allow let only signed-in roles in
    return client


def _queue_args(schema: Any) -> dict[str, Any]:
    args, errors = load(schema, {"page_size": PAGE_SIZE, **form_data(request.args)})
    if errors:
        # A hand-edited query string: fall back to the default view rather than fail.
        flash(f"已忽略无效的筛选条件。Ignored invalid filters: {errors}", "error")
        args = schema.load({"page_size": PAGE_SIZE})
    return dict(args)


def _pages(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


# --------------------------------------------------------------------------- reviews


def _reviews_page(status: int = 200, **extra: Any) -> Page:
    args = _queue_args(ReviewQueueArgs())
    session = request_session()
    reviews, total = list_reviews(
        session=session,
        status=args["status"],
        page=args["page"],
        page_size=args["page_size"],
    )
    viewer = viewer_for(session=session, client=_client(), today=today())
    compared = side_by_side(session=session, viewer=viewer, reviews=reviews)
    commit_request()  # the audit events of the people shown
    return render(
        "reviews.html",
        status,
        reviews=reviews,
        compared=compared,
        total=total,
        args=args,
        pages=_pages(total, args["page_size"]),
        failed=extra.get("failed"),
    )


@blp.get("/reviews")
@page_allow(Role.REGULATOR)
def reviews() -> Page:
    """Pairs the matcher was unsure about, best score first, each with its two entities side
    by side (every field's values, the matcher's level and weight, the total and the
    thresholds) and a confirm / reject form."""
    return _reviews_page()


@blp.post("/reviews/<int:review_id>/decision")
@page_allow(Role.REGULATOR)
def review_decision(review_id: int) -> Page:
    """Confirm (merge the pair) or reject (never merge), with a reason; audited as
    ``review.confirm`` / ``review.reject``."""
    values = form_data(request.form, keep=("reason",))
    data, errors = load(ReviewDecisionForm(), values)
    if errors:
        return _reviews_page(422, failed=_failure(review_id, values, errors))
    try:
        review = decide_review(
            session=request_session(),
            client=_client(),
            review_id=review_id,
            same=data["decision"] == "confirm",
            reason=data["reason"],
        )
    except ResolutionRefused as exc:
        request_session().rollback()
        return _reviews_page(exc.status, failed=_failure(review_id, values, {"_": [str(exc)]}))
    commit_request()
    if review.status.value == "confirmed":
        flash(
            f"复核 {review.id} 已确认：两个主体已合并。Review {review.id} confirmed: merged.",
            "success",
        )
    else:
        flash(
            f"复核 {review.id} 已否定：不会自动合并。Review {review.id} rejected: never merged.",
            "success",
        )
    return redirect(url_for("pages.reviews", **form_data(request.args)), code=303)


def _failure(item_id: int, values: dict[str, str], errors: dict[str, Any]) -> dict[str, Any]:
    """What the queue page needs to show a refused form again: which item, what was typed,
    and the messages (by field; ``_`` for the whole form)."""
    messages = {key: _flatten(value) for key, value in errors.items()}
    return {"id": item_id, "typed": values, "errors": messages}


def _flatten(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    return [str(value)]


# --------------------------------------------------------------------------- repairs


def _repairs_page(status: int = 200, **extra: Any) -> Page:
    args = _queue_args(RepairQueueArgs())
    items, total = list_repair_applications(
        session=request_session(),
        status=args["status"],
        page=args["page"],
        page_size=args["page_size"],
        full_contact=sees_full_identifiers(_client().role),
    )
    return render(
        "repairs.html",
        status,
        applications=items,
        total=total,
        args=args,
        pages=_pages(total, args["page_size"]),
        failed=extra.get("failed"),
    )


@blp.get("/repairs")
@page_allow(Role.REGULATOR)
def repairs() -> Page:
    """Credit repair applications (pending by default, oldest first) with approve / reject."""
    return _repairs_page()


@blp.post("/repairs/<int:application_id>/decision")
@page_allow(Role.REGULATOR)
def repair_decision(application_id: int) -> Page:
    """Approve (the record becomes repaired) or reject, with a reason; audited as
    ``repair.approve`` / ``repair.reject``."""
    values = form_data(request.form, keep=("reason",))
    data, errors = load(RepairDecisionForm(), values)
    if errors:
        return _repairs_page(422, failed=_failure(application_id, values, errors))
    try:
        application = decide_repair(
            session=request_session(),
            client=_client(),
            application_id=application_id,
            approve=data["decision"] == "approve",
            reason=data["reason"],
        )
    except DisputeRefused as exc:
        request_session().rollback()
        failed = _failure(application_id, values, {"_": [str(exc)]})
        return _repairs_page(exc.status, failed=failed)
    commit_request()
    word = "已批准 approved" if application.status.value == "approved" else "已驳回 rejected"
    flash(f"修复申请 {application.id} {word}.", "success")
    return redirect(url_for("pages.repairs", **form_data(request.args)), code=303)


# --------------------------------------------------------------------------- objections


def _objections_page(status: int = 200, **extra: Any) -> Page:
    args = _queue_args(ObjectionQueueArgs())
    client = _client()
    items, total = list_objections(
        session=request_session(),
        client=client,
        today=today(),
        status=args["status"],
        overdue=args["overdue"],
        department_code=None,
        page=args["page"],
        page_size=args["page_size"],
        full_contact=sees_full_identifiers(client.role),
    )
    own_department = client.department.code if client.department else None
    return render(
        "objections.html",
        status,
        objections=items,
        total=total,
        args=args,
        pages=_pages(total, args["page_size"]),
        failed=extra.get("failed"),
        can_close=client.role is Role.REGULATOR,
        can_answer=client.role is Role.DEPARTMENT,
        own_department=own_department,
    )


@blp.get("/objections")
@page_allow(Role.REGULATOR, Role.DEPARTMENT)
def objections() -> Page:
    """Objections by due date, overdue ones flagged; regulators see all and close them, a
    department sees those about its own records and answers them."""
    return _objections_page()


@blp.post("/objections/<int:objection_id>/close")
@page_allow(Role.REGULATOR)
def objection_close(objection_id: int) -> Page:
    """Close as corrected or upheld, with a reason; audited as ``objection.close``."""
    values = form_data(request.form, keep=("reason",))
    data, errors = load(ObjectionCloseForm(), values)
    if errors:
        return _objections_page(422, failed=_failure(objection_id, values, errors))
    try:
        objection = close_objection(
            session=request_session(),
            client=_client(),
            objection_id=objection_id,
            outcome=ObjectionStatus(data["outcome"]),
            reason=data["reason"],
        )
    except DisputeRefused as exc:
        request_session().rollback()
        failed = _failure(objection_id, values, {"_": [str(exc)]})
        return _objections_page(exc.status, failed=failed)
    commit_request()
    flash(f"异议 {objection.id} 已办结。Objection {objection.id} closed.", "success")
    return redirect(url_for("pages.objections", **form_data(request.args)), code=303)


@blp.post("/objections/<int:objection_id>/accept")
@page_allow(Role.REGULATOR, Role.DEPARTMENT)
def objection_accept(objection_id: int) -> Page:
    """Accept a received objection for handling (the record then shows disputed); audited as
    ``objection.accept``."""
    try:
        objection = accept_objection(
            session=request_session(), client=_client(), objection_id=objection_id
        )
    except DisputeRefused as exc:
        request_session().rollback()
        return _objections_page(exc.status, failed=_failure(objection_id, {}, {"_": [str(exc)]}))
    commit_request()
    flash(f"异议 {objection.id} 已受理。Objection {objection.id} accepted.", "success")
    return redirect(url_for("pages.objections", **form_data(request.args)), code=303)


@blp.post("/objections/<int:objection_id>/answer")
@page_allow(Role.DEPARTMENT)
def objection_answer(objection_id: int) -> Page:
    """The record's department answers an open objection; audited as ``objection.answer``."""
    values = form_data(request.form, keep=("answer",))
    data, errors = load(ObjectionAnswerForm(), values)
    if errors:
        return _objections_page(422, failed=_failure(objection_id, values, errors))
    try:
        objection = answer_objection(
            session=request_session(),
            client=_client(),
            objection_id=objection_id,
            answer=data["answer"],
            today=today(),
        )
    except DisputeRefused as exc:
        request_session().rollback()
        failed = _failure(objection_id, values, {"_": [str(exc)]})
        return _objections_page(exc.status, failed=failed)
    commit_request()
    flash(f"异议 {objection.id} 已答复。Objection {objection.id} answered.", "success")
    return redirect(url_for("pages.objections", **form_data(request.args)), code=303)
