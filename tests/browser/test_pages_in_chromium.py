"""A person's way through the pages in a real browser: sign in, search, open a profile,
confirm a review item; an analyst sees masked identifiers; a bad token is refused.

Each step saves a screenshot under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.runtime import runtime
from core.models import AuditEvent, EntityReview, ReviewStatus
from tests.browser.conftest import ARTIFACTS, LiveServer, shot
from tests.support.credit import ID_ZHANG
from tests.support.pages import ZHANG_MASKED


def sign_in(page: Page, server: LiveServer, who: str) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/sign-in")
    page.get_by_label("API 令牌 API token").fill(server.world.tokens[who])
    page.get_by_role("button", name="登录 Sign in").click()
    expect(page).to_have_url(server.url + "/search")


def test_sign_in_search_open_a_profile_and_confirm_a_review(
    page: Page, live_server: LiveServer
) -> None:
    world = live_server.world
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录 Sign in")
    shot(page, "01-sign-in")
    sign_in(page, live_server, "regulator")
    expect(page.get_by_role("status")).to_contain_text("Signed in")

    page.get_by_label("统一社会信用代码、证件号或名称 Code, ID number or name").fill("星河科技")
    page.get_by_role("button", name="查询 Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q="))
    results = page.get_by_role("table")
    expect(results).to_contain_text("北京星河科技有限公司")
    shot(page, "02-search-results")

    page.get_by_role("link", name="北京星河科技有限公司", exact=True).first.click()
    expect(page).to_have_url(live_server.url + f"/entities/{world.ids['xinghe']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("北京星河科技有限公司")
    expect(page.locator(".grade-letter")).to_have_text(re.compile(r"^[ABCD]$"))
    expect(page.get_by_role("heading", name="主体信息 Golden record")).to_be_visible()
    expect(page.locator("#records")).to_contain_text("超标排放大气污染物")
    # A match explanation opens without JavaScript of ours (a <details> element).
    page.locator("details.match summary").first.click()
    expect(page.locator("details.match").first).to_have_attribute("open", "")
    shot(page, "03-profile")

    page.get_by_role("link", name="筛选全部记录 Filter all records").click()
    page.get_by_label("类别 Category").select_option("penalty")
    page.get_by_role("button", name="筛选 Filter").click()
    expect(page).to_have_url(re.compile(r"/records\?category=penalty"))
    expect(page.locator("main")).to_contain_text("共 1 条")
    expect(page.get_by_role("table")).to_contain_text("京环罚〔2026〕1号")
    shot(page, "03b-records-filtered")

    page.get_by_role("navigation", name="主导航 Main navigation").get_by_role(
        "link", name="主体复核 Reviews"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("主体复核队列 Review queue")
    item = page.locator("article.review").first
    expect(item).to_contain_text("北京星河科技有限责任公司")
    # The pair side by side: both names in the header, each field's level and weight, the total.
    side_by_side = item.locator("table.side-by-side")
    expect(side_by_side.locator("thead")).to_contain_text("北京星河科技有限公司")
    expect(side_by_side.locator("tbody")).to_contain_text("partial")
    expect(side_by_side.locator(".total-weight")).to_have_text("4.00")
    expect(side_by_side).to_contain_text("merge at ≥ 0.9")
    shot(page, "04-review-queue")
    item.get_by_label("理由 Reason").fill("同一企业：名称变更前后")
    item.get_by_role("button", name="确认为同一主体并合并 Confirm: same party").click()
    expect(page.get_by_role("status")).to_contain_text("confirmed: merged")
    expect(page.locator("main")).to_contain_text("队列为空。The queue is empty.")
    shot(page, "05-review-confirmed")

    with runtime(live_server.app).session_factory() as session:
        review = session.get(EntityReview, world.review_id)
        assert review is not None and review.status is ReviewStatus.CONFIRMED
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "review.confirm")
        ).all()
        assert actors == ["page-regulator"]

    # The merged id now answers with the survivor.
    page.goto(live_server.url + f"/entities/{world.ids['look_alike']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("北京星河科技有限公司")
    expect(page.locator("main")).to_contain_text("was merged into this entity")

    page.get_by_role("link", name="数据源 Feeds").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据源状态 Feed status")
    expect(page.get_by_role("table").first).to_contain_text("env-penalties")
    shot(page, "05b-feed-status")

    page.get_by_role("button", name="退出 Sign out").click()
    expect(page).to_have_url(live_server.url + "/sign-in")
    page.goto(live_server.url + "/reviews")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/reviews"))


def test_an_analyst_sees_masked_identifiers(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "analyst")
    expect(page.get_by_role("link", name="主体复核 Reviews")).to_have_count(0)
    page.get_by_label("统一社会信用代码、证件号或名称 Code, ID number or name").fill("张三")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="张三", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("张三")
    main = page.locator("main")
    expect(main).to_contain_text(ZHANG_MASKED)
    assert ID_ZHANG not in page.content()
    expect(page.locator(".badges")).to_contain_text("失信被执行人名单")
    shot(page, "06-analyst-profile-masked")


def test_a_bad_token_is_refused_with_a_message(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/sign-in")
    page.get_by_label("API 令牌 API token").fill("chk_wrong")
    page.get_by_role("button", name="登录 Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("令牌无效或已被撤销")
    expect(page.get_by_label("API 令牌 API token")).to_be_visible()
    shot(page, "07-sign-in-refused")


def test_pick_filter_download_a_report_and_see_its_chart(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "analyst")
    page.get_by_role("link", name="报表 Reports").click()
    page.get_by_role("link", name=re.compile("行政处罚统计")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("行政处罚统计")
    page.get_by_label("起始日期 From").fill("2026-01-01")
    page.get_by_label("行政区划 Region code").fill("11")
    page.get_by_role("button", name="筛选并更新图表 Apply").click()
    expect(page).to_have_url(re.compile(r"from=2026-01-01"))
    chart = page.get_by_role("img", name=re.compile("Monthly trend chart"))
    # decode() settles once the PNG has arrived and decoded (it rejects for a broken image).
    width = chart.evaluate("image => image.decode().then(() => image.naturalWidth)")
    assert width > 0, "the chart PNG did not load"
    expect(chart).to_be_visible()
    shot(page, "08-report-chart")

    page.get_by_label("文件格式 File format").select_option("xlsx")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载 Download").click()
    download = info.value
    assert download.suggested_filename == "penalties-20260601.xlsx"
    saved = ARTIFACTS / "downloads" / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    sheet = workbook[workbook.sheetnames[0]]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    assert rows[0][:2] == ("month", "department_code")
    assert sum(int(row[4]) for row in rows[1:]) == 2  # the two penalties decided this year

    page.goto(live_server.url + "/reports/records")
    page.get_by_label("记录类别 Category").select_option("list_entry")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载 Download").click()
    records = ARTIFACTS / "downloads" / info.value.suggested_filename
    info.value.save_as(records)
    table = _read_csv(records)
    assert table[0][0] == "record_id" and len(table) == 2
    joined = " ".join(table[1])
    assert ZHANG_MASKED in joined and ID_ZHANG not in joined  # masked for the analyst
    shot(page, "09-report-records-downloaded")


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))
