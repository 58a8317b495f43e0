"""Pushing records through the API in tests: a department's push feed, an item in the
double-publicity penalty fields, the request."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.models import AdapterKind, RecordCategory, Role
from tests.support.api import make_token
from tests.support.builders import make_department, make_feed


def penalty_item(source_id: Any, **overrides: Any) -> dict[str, Any]:
    """A pushed penalty of 北京星河科技有限公司 in CF_* fields, its number from ``source_id``."""
    item = {
        "source_id": source_id,
        "CF_XDR_MC": "北京星河科技有限公司",
        "CF_XDR_SHXYM": "91110000600037341L",
        "CF_XZCFJDSWH": f"京环罚〔2026〕{source_id}号",
        "CF_CFLB": "罚款",
        "CF_NR_FK": "5000",
        "CF_JDRQ": "2026-03-01",
        "CF_CFJG": "北京市生态环境局",
    }
    item.update(overrides)
    return item


def make_push_feed(
    session_factory: sessionmaker[Session], *, fine_unit: str = "yuan"
) -> dict[str, str]:
    """EPB's committed penalty push feed ``epb-push``; returns the headers of an EPB client."""
    with session_factory() as session:
        epb = make_department(session, code="EPB")
        make_feed(
            session,
            code="epb-push",
            department=epb,
            adapter=AdapterKind.PUSH,
            record_category=RecordCategory.PENALTY,
            field_mapping={"preset": "double_publicity_penalty", "fine_unit": fine_unit},
        )
        session.commit()
    return make_token(session_factory, Role.DEPARTMENT, department_code="EPB")


def push(client: FlaskClient, headers: dict[str, str], records: Any, feed: str = "epb-push") -> Any:
    return client.post("/api/v1/records", json={"feed": feed, "records": records}, headers=headers)
