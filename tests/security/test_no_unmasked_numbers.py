"""Issue 14, finding 2: personal numbers written in the ways people write them (``+86``, dashes,
spaces, full-width digits, glued to letters or Chinese) came back verbatim in free text.

Records here carry every one of those forms in their title, content (CF_NR), legal basis
(CF_YJ) and removal reason. No answer to an analyst, a department or the public (every GET of
the API, the pages, the public lookup, every report in every table format, the CLI export)
may carry one of the numbers in full; the regulator's answers do (so the data is there and the
check can fail)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from app.reports.registry import REPORTS, TABLE_FORMATS
from cli.main import register_commands
from core.config import Config
from core.models import RecordCategory, Role
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import make_company, make_credit_feed, make_person, make_record
from tests.support.pages import signed_in_client

SECRET_ID = "110101196411122171"
OTHER_ID = "11010519491231002X"
MOBILES = ["13812345678", "13912345678", "13712345678", "13612345678", "13512345678"]
LANDLINE = "01062345678"
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")

# The forms of the issue, spread over the free-text fields.
TEXTS = {
    "title": f"当事人ID{SECRET_ID}处罚决定",
    "content": (
        f"身份证{SECRET_ID}号，电话+86{MOBILES[0]}，86{MOBILES[1]}，"
        f"{MOBILES[2][:3]}-{MOBILES[2][3:7]}-{MOBILES[2][7:]}，"
        f"{MOBILES[3][:3]} {MOBILES[3][3:7]} {MOBILES[3][7:]}，{SECRET_ID}x"
    ),
    "legal_basis": f"依据…联系人{MOBILES[4].translate(WIDE)}，{OTHER_ID[:6]} {OTHER_ID[6:14]} "
    f"{OTHER_ID[14:]}，座机010-{LANDLINE[3:]}",
    "removal_reason": f"经办人{SECRET_ID.translate(WIDE)}，tel{MOBILES[0]}ext",
}
SECRETS = [SECRET_ID, OTHER_ID, *MOBILES, LANDLINE]
TODAY = "2026-06-01"


def leaked(text: str) -> list[str]:
    """The secrets ``text`` carries in full, whatever their width, case or separators."""
    flat = re.sub(r"[\s\-()+]", "", unicodedata.normalize("NFKC", text)).upper()
    return [s for s in SECRETS if s in flat]


@dataclass
class World:
    app: Flask
    person: str
    company: str
    record_ids: list[int]
    headers: dict[str, dict[str, str]]
    tokens: dict[str, str]


@pytest.fixture
def world(
    config: Config, make_app: Callable[[Config], Flask], session_factory: sessionmaker[Session]
) -> World:
    with session_factory() as session:
        epb = make_department(session, code="EPB")
        penalties = make_credit_feed(session, department=epb)
        lists = make_credit_feed(session, department=epb, record_category=RecordCategory.LIST_ENTRY)
        person = make_person(session, name="张三", resident_id=SECRET_ID)
        company = make_company(session, name="北京星河科技有限公司", uscc="91110108551385082Q")
        records = [
            make_record(session, entity=person, feed=penalties, **TEXTS),
            make_record(session, entity=person, feed=lists, list_name="失信被执行人名单", **TEXTS),
            make_record(session, entity=company, feed=penalties, **TEXTS),
        ]
        ids = (person.public_id, company.public_id, [r.id for r in records])
        session.commit()
    headers = {
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
        "department": make_token(session_factory, Role.DEPARTMENT, department_code="EPB"),
        "public": {},
    }
    tokens = {who: h["Authorization"].removeprefix("Bearer ") for who, h in headers.items() if h}
    # Budgets off: this test reads many pages as one client.
    app = make_app(dataclasses.replace(config, today=TODAY, rate_limit_per_minute=0))
    return World(app, ids[0], ids[1], ids[2], headers, tokens)


def api_urls(world: World) -> list[str]:
    urls = []
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or "GET" not in (rule.methods or ()):
            continue
        if "<" not in rule.rule:
            urls += [rule.rule, f"{rule.rule}?q=张三", f"{rule.rule}?q=110101********2171"]
            continue
        for public_id in (world.person, world.company):
            filled = re.sub(r"<(?:string:)?public_id>", public_id, rule.rule)
            filled = re.sub(r"<int:\w+>", str(world.record_ids[0]), filled)
            if "<" not in filled:
                urls.append(filled)
    return urls


def page_urls(world: World) -> list[str]:
    return [
        "/search?q=张三",
        "/search?q=星河",
        f"/entities/{world.person}",
        f"/entities/{world.person}/records",
        f"/entities/{world.company}",
        "/feeds",
        "/objections",
    ]


def body_text(response: TestResponse) -> str:
    return file_text(response.get_data(), response.mimetype)


def file_text(data: bytes, kind: str) -> str:
    """The text of an answer or an exported file (XLSX cells, Parquet rows, else as text)."""
    if data[:2] == b"PK" and ("sheet" in kind or kind == "xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return " ".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    if "parquet" in kind or data[:4] == b"PAR1":
        rows = pq.read_table(io.BytesIO(data)).to_pylist()
        return json.dumps(rows, default=str, ensure_ascii=False)
    text = data.decode("utf-8", errors="replace")
    if "json" in kind:
        # \uXXXX escapes would hide a full-width number from the check: read them back.
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def answers(world: World, who: str) -> dict[str, str]:
    """Every answer ``who`` gets, by URL."""
    api = world.app.test_client()
    got = {url: body_text(api.get(url, headers=world.headers[who])) for url in api_urls(world)}
    if who != "public":
        pages = signed_in_client(world.app, world.tokens[who])
        got |= {url: body_text(pages.get(url)) for url in page_urls(world)}
        for report in REPORTS:
            for fmt in TABLE_FORMATS:
                url = f"/api/v1/reports/{report}?format={fmt}"
                response = api.get(url, headers=world.headers[who])
                got[url] = body_text(response)
                response.close()
    return got


@pytest.mark.parametrize("who", ["analyst", "department", "public"])
def test_no_answer_but_a_regulators_carries_a_personal_number(world: World, who: str) -> None:
    found = {url: leaked(text) for url, text in answers(world, who).items()}
    assert {url: secrets for url, secrets in found.items() if secrets} == {}


def test_the_regulator_sees_them_so_the_check_can_fail(world: World) -> None:
    got = answers(world, "regulator")
    assert set(leaked(got[f"/api/v1/entities/{world.person}"])) == set(SECRETS)
    assert SECRET_ID in leaked(got["/api/v1/reports/records?format=xlsx"])


def test_the_cli_export_masks_them_too(world: World, tmp_path: Path) -> None:
    register_commands(world.app)
    runner = world.app.test_cli_runner()
    for fmt in TABLE_FORMATS:
        out = f"{tmp_path}/records.{fmt}"
        result = runner.invoke(
            args=["report", "records", "--as-role", "analyst", "--format", fmt, "--out", out]
        )
        assert result.exit_code == 0, result.output
        with open(out, "rb") as handle:
            text = file_text(handle.read(), fmt)
        assert "处罚决定" in text, fmt  # the file holds the rows...
        assert leaked(text) == [], fmt  # ...and no number in full
