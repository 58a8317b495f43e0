"""Schemathesis against the live OpenAPI document: generated requests to every documented
operation never get a 5xx, and every answer matches the schema it documents.

Operations are driven one by one with Hypothesis inside a plain test (rather than
``schemathesis.pytest.from_fixture``) so the test keeps the suite's database fixtures and runs
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker

from core.models import Role
from tests.support.api import make_token

CHECKS = [not_a_server_error, response_schema_conformance]


def test_api_contract(app: Flask, session_factory: sessionmaker[Session]) -> None:
    headers = make_token(session_factory, Role.REGULATOR)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
