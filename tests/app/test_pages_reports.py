"""The reports pages: pick a report, filter it, download it, see the chart; same roles,
masking and audit as the API's exports."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
from collections.abc import Callable

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.reports.services import get_report
from core.config import Config
from core.models import AuditEvent
from tests.support.credit import ID_ZHANG
from tests.support.pages import TODAY, ZHANG_MASKED, PagesWorld, seed_pages_world, signed_in_client


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> PagesWorld:
    return seed_pages_world(session_factory)


@pytest.fixture
def signed_in(app: Flask, world: PagesWorld) -> Callable[[str], FlaskClient]:
    def _as(who: str) -> FlaskClient:
        return signed_in_client(app, world.tokens[who])

    return _as


def exports(
    session_factory: sessionmaker[Session],
) -> list[tuple[str, str | None, dict[str, object]]]:
    with session_factory() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.export").order_by(AuditEvent.id)
        )
        return [(e.actor, e.target_id, e.details) for e in events]


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_reports_are_listed_for_analysts_and_regulators_only(
    signed_in: Callable[[str], FlaskClient], client: FlaskClient
) -> None:
    page = signed_in("analyst").get("/reports")
    assert page.status_code == 200
    assert "行政处罚统计" in page.text and 'href="/reports/penalties"' in page.text
    assert 'href="/reports"' in signed_in("regulator").get("/search").text  # in the navigation
    assert signed_in("epb").get("/reports").status_code == 403
    assert 'href="/reports"' not in signed_in("epb").get("/search").text
    assert client.get("/reports/records/download").status_code == 303  # to the sign-in page


def test_a_report_page_offers_only_its_filters_and_shows_its_chart(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    text = signed_in("analyst").get("/reports/penalties?from=2026-01-01&region=11").text
    for name in get_report("penalties").filters:
        assert f'name="{name}"' in text
    assert 'name="category"' not in text  # penalties take no category filter
    assert '<img src="/reports/penalties/chart.png?' in text
    assert "from=2026-01-01" in text and "region=11" in text
    no_chart = signed_in("analyst").get("/reports/records").text
    assert "chart.png" not in no_chart and 'name="category"' in no_chart


def test_downloading_a_csv_is_masked_for_analysts_and_audited(
    signed_in: Callable[[str], FlaskClient], session_factory: sessionmaker[Session]
) -> None:
    response = signed_in("analyst").get("/reports/records/download?format=csv&category=list_entry")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="records-20260601.csv"'
    rows = read_csv(response.data)
    assert tuple(rows[0]) == get_report("records").column_names
    body = response.data.decode("utf-8-sig")
    assert ZHANG_MASKED in body and ID_ZHANG not in body
    assert len(rows) == 2  # the header and 张三's court entry (the arrears list is not shared)
    assert exports(session_factory) == [
        ("page-analyst", "records", {"format": "csv", "filters": {"category": "list_entry"},
                                     "role": "analyst"}),
    ]  # fmt: skip
    regulator = signed_in("regulator").get("/reports/records/download?category=list_entry")
    assert ID_ZHANG in regulator.data.decode("utf-8-sig")


def test_downloading_xlsx_gives_a_workbook(signed_in: Callable[[str], FlaskClient]) -> None:
    response = signed_in("regulator").get("/reports/penalties/download?format=xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = workbook[workbook.sheetnames[0]]
    header = next(sheet.iter_rows(values_only=True))
    assert tuple(header) == get_report("penalties").column_names
    workbook.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("region=1x", "region is a 2-6 digit division code prefix"),
        ("category=penalty", "does not take this filter"),
        ("from=2026-05-01&to=2026-01-01", "'to' is before 'from'"),
        ("department=NOPE", "no department has the code"),
        ("format=png", "download one of"),
        ("colour=red", "Unknown field"),
    ],
)
def test_bad_filters_show_the_form_again_and_export_nothing(
    signed_in: Callable[[str], FlaskClient],
    session_factory: sessionmaker[Session],
    query: str,
    message: str,
) -> None:
    response = signed_in("analyst").get(f"/reports/penalties/download?{query}")
    assert response.status_code == 422, response.text
    assert response.mimetype == "text/html" and message in html.unescape(response.text)
    assert "chart.png" not in response.text
    assert exports(session_factory) == []


def test_the_chart_is_a_png_and_is_audited(
    signed_in: Callable[[str], FlaskClient], session_factory: sessionmaker[Session]
) -> None:
    client = signed_in("analyst")
    response = client.get("/reports/penalties/chart.png?from=2026-01-01")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert exports(session_factory) == [
        ("page-analyst", "penalties", {"format": "png", "filters": {"from": "2026-01-01"},
                                       "role": "analyst"}),
    ]  # fmt: skip
    assert client.get("/reports/records/chart.png").status_code == 422
    assert client.get("/reports/nope").status_code == 404
    assert client.get("/reports/nope/download").status_code == 404
