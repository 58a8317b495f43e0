"""``/api/v1/reports``: listing, every format read back, charts, masking, audit, errors and
streaming, over HTTP on both databases."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import openpyxl
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import ric

from core.config import Config
from core.models import AuditEvent, Role
from tests.support.api import make_token
from tests.support.credit import ID_ZHANG
from tests.support.reports import TODAY, World, build_world

# Whole codes only: the digits inside a company's USCC are no one's id number.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dX]|\d{15})(?![0-9A-Za-z])")


def unmasked_ids(text: str) -> list[str]:
    return [m for m in _ID.findall(text) if len(m) == 15 or ric.is_valid(m)]


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def api(config: Config, make_app: Callable[[Config], Flask]) -> FlaskClient:
    return make_app(dataclasses.replace(config, today=TODAY)).test_client()


@pytest.fixture
def analyst(session_factory: sessionmaker[Session]) -> dict[str, str]:
    return make_token(session_factory, Role.ANALYST, name="analyst-ana")


@pytest.fixture
def regulator(session_factory: sessionmaker[Session]) -> dict[str, str]:
    return make_token(session_factory, Role.REGULATOR, name="regulator-reg")


def read_table(fmt: str, body: bytes) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str)
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(body), dtype=str)
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(body))
    return pd.DataFrame(json.loads(body)["rows"])


def test_listing_says_what_each_report_takes(
    api: FlaskClient, analyst: dict[str, str], world: World
) -> None:
    response = api.get("/api/v1/reports", headers=analyst)
    assert response.status_code == 200
    items = {item["name"]: item for item in response.get_json()["items"]}
    assert set(items) == {
        "records",
        "entities",
        "penalties",
        "list-members",
        "list-changes",
        "data-quality",
        "resolution",
        "credit-checks",
    }
    assert items["penalties"]["has_chart"] is True and "png" in items["penalties"]["formats"]
    assert items["records"]["has_chart"] is False
    assert items["data-quality"]["filters"] == ["from", "to", "department", "category"]
    assert items["entities"]["title_zh"] == "主体信用状况"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "json"])
def test_every_format_reads_back(
    api: FlaskClient, analyst: dict[str, str], world: World, fmt: str
) -> None:
    response = api.get(f"/api/v1/reports/records?format={fmt}&department=EPB", headers=analyst)
    assert response.status_code == 200, response.get_data(as_text=True)
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="records-20260601.{fmt}"'
    table = read_table(fmt, response.data)
    assert list(table.columns)[:3] == ["record_id", "entity_id", "entity_name"]
    assert sorted(int(v) for v in table["record_id"]) == sorted(world.penalty_ids)
    fines = sorted(Decimal(str(v)).quantize(Decimal("0.01")) for v in table["fine_amount"])
    assert fines == [Decimal("100.50"), Decimal("5000.00"), Decimal("20000.00")]
    assert set(table["entity_name"]) == {"北京星河科技有限公司"}
    assert sorted(str(v)[:10] for v in table["decision_date"]) == [
        "2025-12-20",
        "2026-03-01",
        "2026-04-15",
    ]


def test_content_types(api: FlaskClient, analyst: dict[str, str], world: World) -> None:
    expected = {
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for fmt, content_type in expected.items():
        response = api.get(f"/api/v1/reports/penalties?format={fmt}", headers=analyst)
        assert response.headers["Content-Type"] == content_type
        assert response.data


def test_xlsx_has_a_bold_frozen_header_and_trends_embed_their_chart(
    api: FlaskClient, analyst: dict[str, str], world: World
) -> None:
    plain = openpyxl.load_workbook(
        io.BytesIO(api.get("/api/v1/reports/entities?format=xlsx", headers=analyst).data)
    )
    sheet = plain["entities"]
    assert sheet["A1"].value == "entity_id" and sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert plain.sheetnames == ["entities"]

    trend = openpyxl.load_workbook(
        io.BytesIO(api.get("/api/v1/reports/penalties?format=xlsx", headers=analyst).data)
    )
    assert trend.sheetnames == ["penalties", "chart"]
    assert trend["penalties"]["A2"].value == "2025-12"
    assert trend["penalties"]["J2"].number_format == "#,##0.00"
    assert len(trend["chart"]._images) == 1


def test_chart_as_png(api: FlaskClient, analyst: dict[str, str], world: World) -> None:
    for name in ("penalties", "list-changes", "resolution"):
        response = api.get(f"/api/v1/reports/{name}?format=png", headers=analyst)
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
        assert response.headers["Content-Disposition"].startswith("inline;")
    refused = api.get("/api/v1/reports/records?format=png", headers=analyst)
    assert refused.status_code == 422
    assert "format" in refused.get_json()["errors"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_no_full_id_reaches_an_analyst_in_any_report(
    api: FlaskClient,
    analyst: dict[str, str],
    regulator: dict[str, str],
    world: World,
    fmt: str,
) -> None:
    names = [item["name"] for item in api.get("/api/v1/reports", headers=analyst).json["items"]]
    seen_by_regulator = ""
    for name in names:
        body = api.get(f"/api/v1/reports/{name}?format={fmt}", headers=analyst).data
        text = body.decode("utf-8")
        assert unmasked_ids(text) == [], name
        assert "张三" not in text and "13912345678" not in text, name
        seen_by_regulator += api.get(
            f"/api/v1/reports/{name}?format={fmt}", headers=regulator
        ).data.decode("utf-8")
    # The id and the name are really in the data: their absence above is masking.
    assert ID_ZHANG in seen_by_regulator and "张三" in seen_by_regulator


def test_every_export_is_audited(
    api: FlaskClient,
    analyst: dict[str, str],
    world: World,
    session_factory: sessionmaker[Session],
) -> None:
    api.get("/api/v1/reports/penalties?format=xlsx&severity=serious", headers=analyst)
    api.get("/api/v1/reports/penalties?format=png", headers=analyst)
    with session_factory() as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "report.export")
                .order_by(AuditEvent.id)
            )
        )
    assert [(e.actor, e.role, e.target_type, e.target_id) for e in events] == [
        ("analyst-ana", "analyst", "report", "penalties"),
        ("analyst-ana", "analyst", "report", "penalties"),
    ]
    assert events[0].details == {
        "format": "xlsx",
        "filters": {"severity": "serious"},
        "role": "analyst",
    }
    assert events[1].details["format"] == "png"
    assert all(e.request_id for e in events)


@pytest.mark.parametrize(
    ("url", "status", "param"),
    [
        ("/api/v1/reports/nope", 404, None),
        ("/api/v1/reports/records?format=docx", 422, "format"),
        ("/api/v1/reports/records?from=2026-02-30", 422, "from"),
        ("/api/v1/reports/records?from=2026-05-01&to=2026-04-01", 422, "to"),
        ("/api/v1/reports/records?region=beijing", 422, "region"),
        ("/api/v1/reports/records?colour=red", 422, "colour"),
        ("/api/v1/reports/records?department=NOPE", 422, "department"),
        ("/api/v1/reports/data-quality?severity=serious", 422, "severity"),
        ("/api/v1/reports/resolution?list_type=black", 422, "list_type"),
    ],
)
def test_errors_are_problem_documents(
    api: FlaskClient,
    analyst: dict[str, str],
    world: World,
    url: str,
    status: int,
    param: str | None,
    session_factory: sessionmaker[Session],
) -> None:
    response = api.get(url, headers=analyst)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    if param is not None:
        assert param in json.dumps(body["errors"]), body
    with session_factory() as session:
        # Nothing was exported, so nothing was audited.
        assert (
            session.scalar(select(AuditEvent).where(AuditEvent.action == "report.export")) is None
        )


def test_departments_may_not_export(
    api: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    headers = make_token(session_factory, Role.DEPARTMENT, department_code="EPB")
    assert api.get("/api/v1/reports/records", headers=headers).status_code == 403
    assert api.get("/api/v1/reports/records").status_code == 401


def test_the_response_streams_chunk_by_chunk(
    api: FlaskClient, analyst: dict[str, str], world: World
) -> None:
    response = api.get("/api/v1/reports/records?format=csv", headers=analyst, buffered=False)
    assert response.is_streamed
    assert not isinstance(response.response, list | tuple | bytes)
    pieces = list(response.response)
    response.close()
    # The header leaves before any row is read.
    assert pieces[0].decode("utf-8-sig").startswith("record_id,")
    assert pieces[0].count(b"\n") == 1
    assert len(pieces) >= 2
