"""The permission matrix, generated from the route table: every API endpoint declares its
roles, and every role (and no token at all) is let in or kept out accordingly. A new endpoint
without an ``@allow`` rule fails ``test_every_api_endpoint_declares_its_roles``; a web page
without a ``@page_allow`` rule fails ``test_every_page_declares_its_roles``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import IntegerConverter

from app.auth.access import ALLOWED_ROLES_ATTR
from core.models import Role
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.pages import csrf_token, sign_in

# Served to anyone by design: the API description and its interactive page.
OPEN_ENDPOINTS = {"api-docs.openapi_json"}
# Page assets: a stylesheet and an icon, served to anyone.
OPEN_PAGE_ENDPOINTS = {"pages.static"}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def api_endpoints(app: Flask) -> Iterator[tuple[str, str, str, Any]]:
    """(url with dummy arguments, method, endpoint, view function) for every /api/v1 route."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in OPEN_ENDPOINTS:
            continue
        url = rule.rule
        for argument, converter in rule._converters.items():
            dummy = "999999" if isinstance(converter, IntegerConverter) else "NOPE-0000"
            url = _replace_argument(url, argument, dummy)
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(set(rule.methods or ()) & set(_METHODS)):
            function = getattr(view_class, method.lower()) if view_class else view
            yield url, method, rule.endpoint, function


def _replace_argument(url: str, argument: str, value: str) -> str:
    start = url.index("<")
    while start != -1:
        end = url.index(">", start)
        if url[start + 1 : end].split(":")[-1] == argument:
            return url[:start] + value + url[end + 1 :]
        start = url.find("<", end)
    return url


@pytest.fixture
def tokens(session_factory: sessionmaker[Session]) -> dict[Role, dict[str, str]]:
    with session_factory() as session:
        make_department(session, code="EPB")
        session.commit()
    return {
        Role.REGULATOR: make_token(session_factory, Role.REGULATOR),
        Role.DEPARTMENT: make_token(session_factory, Role.DEPARTMENT, department_code="EPB"),
        Role.ANALYST: make_token(session_factory, Role.ANALYST),
        Role.PUBLIC: {},
    }


def test_every_api_endpoint_declares_its_roles(app: Flask) -> None:
    missing = [
        f"{method} {url} ({endpoint})"
        for url, method, endpoint, function in api_endpoints(app)
        if getattr(function, ALLOWED_ROLES_ATTR, None) is None
    ]
    assert missing == [], "endpoints without an @allow rule: " + ", ".join(missing)


def test_permission_matrix(
    app: Flask, client: FlaskClient, tokens: dict[Role, dict[str, str]]
) -> None:
    checked = 0
    for url, method, _endpoint, function in api_endpoints(app):
        allowed: frozenset[Role] = getattr(function, ALLOWED_ROLES_ATTR)
        for role, headers in tokens.items():
            response = client.open(url, method=method, headers=headers, json={})
            where = f"{method} {url} as {role.value}: {response.status_code}"
            if role in allowed:
                assert response.status_code not in (401, 403), where
                assert response.status_code < 500, where
            elif role is Role.PUBLIC:
                assert response.status_code == 401, where
                assert response.mimetype == "application/problem+json", where
            else:
                assert response.status_code == 403, where
            checked += 1
    assert checked >= 4 * 5


def page_endpoints(app: Flask) -> Iterator[tuple[str, str, str, Any]]:
    """(url with dummy arguments, method, endpoint, view function) for every web page."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("pages.") or rule.endpoint in OPEN_PAGE_ENDPOINTS:
            continue
        url = rule.rule
        for argument, converter in rule._converters.items():
            dummy = "999999" if isinstance(converter, IntegerConverter) else "NOPE-0000"
            url = _replace_argument(url, argument, dummy)
        for method in sorted(set(rule.methods or ()) & set(_METHODS)):
            yield url, method, rule.endpoint, app.view_functions[rule.endpoint]


def test_every_page_declares_its_roles(app: Flask) -> None:
    pages = list(page_endpoints(app))
    assert len(pages) >= 10
    missing = [
        f"{method} {url} ({endpoint})"
        for url, method, endpoint, function in pages
        if getattr(function, ALLOWED_ROLES_ATTR, None) is None
    ]
    assert missing == [], "pages without a @page_allow rule: " + ", ".join(missing)


def test_page_permission_matrix(app: Flask, tokens: dict[Role, dict[str, str]]) -> None:
    """Signed out: redirected to the sign-in page; a role the page is not for: 403 (an HTML
    page, not problem+json); an allowed role: in (a dummy id may well be a 404 or 422)."""
    checked = 0
    for url, method, endpoint, function in page_endpoints(app):
        allowed: frozenset[Role] = getattr(function, ALLOWED_ROLES_ATTR)
        for role, headers in tokens.items():
            client = app.test_client()
            if headers:
                assert sign_in(client, headers["Authorization"].split()[1]).status_code == 303
            data = {"csrf_token": csrf_token(client.get("/sign-in").text)}
            response = client.open(url, method=method, data=data if method == "POST" else None)
            where = f"{method} {url} as {role.value}: {response.status_code}"
            to_sign_in = response.status_code == 303 and response.location.startswith("/sign-in")
            if role in allowed:
                assert response.status_code != 403, where
                assert response.status_code < 500, where
                assert not to_sign_in or endpoint in ("pages.sign_out", "pages.home"), where
            elif role is Role.PUBLIC:
                assert to_sign_in, where
            else:
                assert response.status_code == 403, where
                assert response.mimetype == "text/html", where
            checked += 1
    assert checked >= 4 * 10
