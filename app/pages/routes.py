"""Sign-in, search, the entity profile and feed status pages."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.auth.ratelimit import charge_identifier_lookup
from app.catalogue.services import list_catalogue
from app.entities.services import (
    RecordFilters,
    SearchFilters,
    entity_profile,
    entity_records,
    search_entities,
    viewer_for,
)
from app.ingest_api.services import list_quarantine, list_runs, list_set_aside
from app.pages import blp, render
from app.pages.auth import (
    EVERYONE,
    GOVERNMENT,
    end_session,
    page_allow,
    page_client,
    safe_next,
    start_session,
)
from app.pages.forms import FeedStatusArgs, RecordArgs, SearchArgs, form_data, load
from app.runtime import commit_request, commit_when_refused, request_session, runtime, today
from core.models import Role

Page = Response | tuple[str, int]
# Roles that see the quarantine (the API's /quarantine rule).
QUARANTINE_ROLES = (Role.REGULATOR, Role.DEPARTMENT)


@blp.get("/")
@page_allow(*EVERYONE)
def home() -> Response:
    """Signed in: the search page; otherwise the sign-in page."""
    target = "pages.search" if page_client() is not None else "pages.sign_in"
    return redirect(url_for(target), code=303)


@blp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@page_allow(*EVERYONE)
def sign_in_page() -> Page:
    """Paste an API token; 401 with the form again when it is unknown or revoked."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render("sign_in.html", next_url=next_url, error=None)
    token = request.form.get("token", "")
    client = start_session(token) if token.strip() else None
    if client is None:
        error = (
            "请粘贴令牌。Paste your token."
            if not token.strip()
            else "令牌无效或已被撤销。The token is unknown or revoked."
        )
        return render("sign_in.html", 401, next_url=next_url, error=error)
    flash(f"已登录：{client.name}。Signed in.", "success")
    return redirect(next_url or url_for("pages.search"), code=303)


@blp.post("/sign-out", endpoint="sign_out")
@page_allow(*GOVERNMENT)
def sign_out_page() -> Response:
    end_session()
    flash("已退出。Signed out.", "success")
    return redirect(url_for("pages.sign_in"), code=303)


@blp.get("/search")
@page_allow(*GOVERNMENT)
def search() -> Page:
    """Search by any identifier or by name (the API's search, seen through the same viewer,
    with the same rules: a full resident id only for regulators and departments, the same
    identifier budget, every search audited)."""
    values = form_data(request.args)
    args, errors = load(SearchArgs(), values)
    context: dict[str, Any] = {"values": values, "errors": errors, "results": None}
    if errors:
        return render("search.html", 422, **context)
    q = (args["q"] or "").strip()
    filtered = any(args[k] is not None for k in ("kind", "region", "list_name"))
    if not q and not filtered and args["has_active_penalties"] is None:
        return render("search.html", **context)
    charge_identifier_lookup(q)
    session = request_session()
    viewer = viewer_for(session=session, client=page_client(), today=today())
    with commit_when_refused():  # a refused search by a full id stays in the audit trail
        items, total, kind = search_entities(
            session=session,
            viewer=viewer,
            q=q or None,
            filters=SearchFilters.from_args(args),
            page=args["page"],
            page_size=args["page_size"],
            query_key=runtime().config.query_hash_secret,
        )
    commit_request()  # keeps the search's audit event
    context.update(
        results=items,
        total=total,
        query_kind=kind,
        page=args["page"],
        pages=max(1, -(-total // args["page_size"])),
    )
    return render("search.html", **context)


@blp.get("/entities/<string:public_id>")
@page_allow(*GOVERNMENT)
def profile(public_id: str) -> Page:
    """The entity's credit profile; 404 page for an unknown id. Reading a natural person's
    profile is audited like the API's."""
    session = request_session()
    viewer = viewer_for(session=session, client=page_client(), today=today())
    data = entity_profile(
        session=session, viewer=viewer, public_id=public_id, grade_rules=runtime().rules.grade
    )
    commit_request()  # keeps the audit event the service writes when it shows a person
    return render("profile.html", profile=data)


@blp.get("/entities/<string:public_id>/records")
@page_allow(*GOVERNMENT)
def records(public_id: str) -> Page:
    """All of the entity's records the viewer may see, filtered and paged (the profile shows the
    newest 20 of each category). 404 page for an unknown id; bad filters are shown with the
    form (422). Reading a natural person's records is audited like the API's."""
    values = form_data(request.args)
    args, errors = load(RecordArgs(), values)
    session = request_session()
    viewer = viewer_for(session=session, client=page_client(), today=today())
    context: dict[str, Any] = {"values": values, "errors": errors, "public_id": public_id}
    filters = RecordFilters()
    page, page_size = 1, 20
    if not errors:
        filters = RecordFilters.from_args(args)
        page, page_size = args["page"], args["page_size"]
    entity, items, total = entity_records(
        session=session,
        viewer=viewer,
        public_id=public_id,
        filters=filters,
        page=page,
        page_size=page_size,
        # With bad filters no row is shown, so nothing of the person was read.
        audit=not errors,
    )
    commit_request()  # keeps the audit event the service writes when it shows a person
    if errors:
        # The entity exists: show the form with its messages, and no rows rather than rows
        # that ignore the filter the user asked for.
        items, total = [], 0
    context.update(
        entity={"public_id": entity.public_id, "display_name": entity.display_name},
        records=items,
        total=total,
        page=page,
        pages=max(1, -(-total // page_size)),
    )
    return render("records.html", 422 if errors else 200, **context)


@blp.get("/feeds")
@page_allow(*GOVERNMENT)
def feeds() -> Page:
    """Every catalogued feed with its last run (counts, error) and, for regulators and the
    providing department, the quarantine. Departments see runs and quarantine of their own
    feeds only (the API's rule)."""
    values = form_data(request.args)
    args, errors = load(FeedStatusArgs(), values)
    if errors:
        abort(400, description=f"无效的参数。Invalid arguments: {errors}")
    client = page_client()
    assert client is not None
    session = request_session()
    catalogue = list_catalogue(session=session)
    rows = []
    for feed in catalogue:
        runs, run_total = list_runs(
            session=session, client=client, feed_code=feed["code"], status=None, page=1, page_size=1
        )
        quarantined = None
        set_aside: list[dict[str, Any]] = []
        if client.role in QUARANTINE_ROLES:
            set_aside, _count = list_set_aside(
                session=session, client=client, feed_code=feed["code"], page=1, page_size=100
            )
            _items, quarantined = list_quarantine(
                session=session, client=client, feed_code=feed["code"], page=1, page_size=1
            )
        rows.append(
            {
                **feed,
                "last_run": runs[0] if runs else None,
                "runs": run_total,
                "quarantined": quarantined,
                "set_aside": set_aside,
            }
        )
    quarantine: list[dict[str, Any]] = []
    quarantine_total = 0
    if client.role in QUARANTINE_ROLES:
        quarantine, quarantine_total = list_quarantine(
            session=session,
            client=client,
            feed_code=args["feed"],
            page=args["page"],
            page_size=args["page_size"],
        )
    return render(
        "feeds.html",
        feeds=rows,
        quarantine=quarantine,
        quarantine_total=quarantine_total,
        shows_quarantine=client.role in QUARANTINE_ROLES,
        feed_filter=args["feed"],
        page=args["page"],
        pages=max(1, -(-quarantine_total // args["page_size"])),
    )
