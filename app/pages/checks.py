"""Credit-check pages: the check form and its result (measures with their triggers and a
feedback form), the check history with feedback, and the department's subscriptions with
recent deliveries. The same services, role rules, masking and audit as the API."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from marshmallow import fields, validate
from werkzeug.wrappers import Response

from app.credit_checks.schemas import CheckRequestSchema
from app.credit_checks.services import (
    check_party,
    get_check,
    give_feedback,
    list_checks,
    present_check,
)
from app.entities.present import Viewer
from app.entities.services import viewer_for
from app.pages import blp, render
from app.pages.auth import page_allow, page_client
from app.pages.forms import _PageArgs, form_data, load
from app.runtime import commit_request, request_session, runtime, today
from app.subscriptions.services import (
    cancel_subscription,
    list_subscriptions,
    present_subscription,
)
from core.errors import ServiceRefused
from core.models import Role

Page = Response | tuple[str, int]
CHECKERS = (Role.DEPARTMENT, Role.REGULATOR)


class CheckHistoryArgs(_PageArgs):
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def _viewer() -> Viewer:
    return viewer_for(session=request_session(), client=page_client(), today=today())


def _form_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    return render(
        "check_form.html",
        status,
        matters=runtime().measures.matters,
        measures_file=runtime().measures.source,
        values=extra.get("values", {}),
        failed=extra.get("failed"),
    )


@blp.route("/checks/new", methods=["GET", "POST"], endpoint="check_new")
@page_allow(*CHECKERS)
def check_new() -> Page:
    """The check form; a check made here is stored and audited as the API's."""
    if request.method == "GET":
        return _form_page()
    values = form_data(request.form, keep=("identifier", "matter", "reference"))
    values = {k: v for k, v in values.items() if v != "" or k != "reference"}
    data, errors = load(CheckRequestSchema(), values)
    if not errors:
        try:
            check = check_party(
                session=request_session(),
                viewer=_viewer(),
                book=runtime().measures,
                grade_rules=runtime().rules.grade,
                **data,
            )
        except ServiceRefused as exc:
            request_session().rollback()
            errors = {**exc.errors, "_": [exc.message]}
    if errors:
        return _form_page(422, values=values, failed={"errors": errors})
    commit_request()
    return redirect(url_for("pages.check", check_id=check.id), code=303)


@blp.get("/checks/<int:check_id>", endpoint="check")
@page_allow(*CHECKERS)
def check_page(check_id: int, status: int = 200, failed: Any = None) -> Page:
    """A check's result: party, grade, lists, measures with their triggering records, and the
    feedback given or a form to give it."""
    viewer = _viewer()
    check = get_check(session=request_session(), viewer=viewer, check_id=check_id)
    return render("check.html", status, check=present_check(viewer, check), failed=failed)


@blp.post("/checks/<int:check_id>/feedback", endpoint="check_feedback")
@page_allow(*CHECKERS)
def check_feedback(check_id: int) -> Page:
    """Feedback on each measure: applied, or not applied with a reason."""
    codes = request.form.getlist("measure_code")
    items = []
    for code in codes:
        choice = request.form.get(f"applied-{code}", "")
        if choice not in ("yes", "no"):
            continue
        reason = request.form.get(f"reason-{code}", "").strip() or None
        items.append({"measure_code": code, "applied": choice == "yes", "reason": reason})
    if not items:
        failed = {"errors": {"_": ["请至少选择一项。Choose applied or not for a measure."]}}
        return check_page(check_id, 422, failed)
    try:
        give_feedback(session=request_session(), viewer=_viewer(), check_id=check_id, items=items)
    except ServiceRefused as exc:
        request_session().rollback()
        if exc.status == 404:
            raise
        return check_page(check_id, exc.status, {"errors": {**exc.errors, "_": [exc.message]}})
    commit_request()
    flash("反馈已记录。Feedback recorded.", "success")
    return redirect(url_for("pages.check", check_id=check_id), code=303)


@blp.get("/checks", endpoint="checks")
@page_allow(*CHECKERS)
def checks_page() -> Page:
    """The check history (the department's; regulators: all), newest first, with feedback."""
    args, errors = load(CheckHistoryArgs(), request.args)
    if errors:
        args = CheckHistoryArgs().load({})
    viewer = _viewer()
    found, total = list_checks(
        session=request_session(), viewer=viewer, page=args["page"], page_size=args["page_size"]
    )
    return render(
        "checks.html",
        checks=[present_check(viewer, c) for c in found],
        total=total,
        args=args,
        pages=max((total + args["page_size"] - 1) // args["page_size"], 1),
    )


@blp.get("/subscriptions", endpoint="subscriptions")
@page_allow(*CHECKERS)
def subscriptions_page() -> Page:
    """The department's webhook subscriptions and their recent deliveries."""
    session = request_session()
    client = page_client()
    assert client is not None  # page_allow admits no anonymous caller here
    items = [
        present_subscription(session, s) for s in list_subscriptions(session=session, client=client)
    ]
    return render("subscriptions.html", subscriptions=items)


@blp.post("/subscriptions/<int:subscription_id>/cancel", endpoint="subscription_cancel")
@page_allow(*CHECKERS)
def subscription_cancel(subscription_id: int) -> Page:
    """Cancel one of the department's subscriptions (as ``DELETE /api/v1/subscriptions/{id}``:
    audited, its pending deliveries are never posted)."""
    client = page_client()
    assert client is not None  # page_allow admits no anonymous caller here
    cancel_subscription(session=request_session(), client=client, subscription_id=subscription_id)
    commit_request()
    flash(f"订阅 {subscription_id} 已取消。Subscription {subscription_id} cancelled.", "success")
    return redirect(url_for("pages.subscriptions"), code=303)
