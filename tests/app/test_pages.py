"""The web pages over the Flask test client: signing in and out, search, the profile, feed
status, masking by role, audit of reads, and accessibility basics."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.services import revoke_client
from core.config import Config
from core.models import (
    ApiClient,
    AuditEvent,
    Feed,
    IngestRun,
    IngestRunStatus,
    SourceRecord,
    SourceStatus,
)
from tests.support.builders import make_source_record
from tests.support.credit import ID_WANG, ID_ZHANG, ingest, penalty
from tests.support.pages import (
    PHONE,
    PHONE_MASKED,
    TODAY,
    WANG_MASKED,
    ZHANG_MASKED,
    PagesWorld,
    csrf_token,
    seed_pages_world,
    sign_in,
    signed_in_client,
)


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, today=TODAY)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> PagesWorld:
    return seed_pages_world(session_factory)


@pytest.fixture
def signed_in(app: Flask, world: PagesWorld) -> Callable[[str], FlaskClient]:
    """A new test client signed in as one of the world's clients."""

    def _as(who: str) -> FlaskClient:
        return signed_in_client(app, world.tokens[who])

    return _as


def audit_actions(session_factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with session_factory() as session:
        return [
            (e.action, e.actor) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


# --------------------------------------------------------------------------- signing in


def test_root_leads_to_sign_in_then_to_search(client: FlaskClient, world: PagesWorld) -> None:
    response = client.get("/")
    assert response.status_code == 303 and response.location == "/sign-in"
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert "credithub clients create" in page.text  # a first user learns how to get a token
    signed = sign_in(client, world.tokens["regulator"])
    assert signed.status_code == 303 and signed.location == "/search"
    assert client.get("/").location == "/search"
    assert "page-regulator" in client.get("/search").text


def test_pages_redirect_to_sign_in_and_come_back(client: FlaskClient, world: PagesWorld) -> None:
    response = client.get("/search?q=星河")
    assert response.status_code == 303
    assert response.location.startswith("/sign-in?next=")
    form = client.get(response.location)
    assert 'name="next" value="/search?q=' in form.text
    signed = sign_in(client, world.tokens["analyst"], next_url="/search?q=星河")
    assert unquote(signed.location) == "/search?q=星河"
    assert client.get(signed.location).status_code == 200


def test_sign_in_never_redirects_off_site(client: FlaskClient, world: PagesWorld) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "search"):
        signed = sign_in(client, world.tokens["analyst"], next_url=target)
        assert signed.location == "/search", target


def test_bad_empty_and_revoked_tokens_are_refused(
    app: Flask, client: FlaskClient, world: PagesWorld, session_factory: sessionmaker[Session]
) -> None:
    bad = sign_in(client, "chk_not-a-real-token")
    assert bad.status_code == 401
    assert "令牌无效或已被撤销" in bad.text and 'id="token"' in bad.text
    empty = sign_in(client, "   ")
    assert empty.status_code == 401 and "Paste your token" in empty.text
    assert client.get("/search").status_code == 303  # still not signed in

    assert sign_in(client, world.tokens["analyst"]).status_code == 303
    assert client.get("/search").status_code == 200
    with session_factory() as session:
        revoke_client(session=session, name="page-analyst")
        session.commit()
    # The next request finds the token revoked: signed out, told why, and the token no longer
    # signs in.
    after = client.get("/search")
    assert after.status_code == 303 and after.location.startswith("/sign-in")
    assert "Your token was revoked" in client.get(after.location).text
    assert sign_in(app.test_client(), world.tokens["analyst"]).status_code == 401


def test_session_cookie_is_http_only_and_same_site(client: FlaskClient, world: PagesWorld) -> None:
    response = sign_in(client, world.tokens["regulator"])
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("credithub_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_without_the_session_csrf_token_are_refused(
    app: Flask, client: FlaskClient, world: PagesWorld
) -> None:
    client.get("/sign-in")
    no_token = client.post("/sign-in", data={"token": world.tokens["regulator"]})
    assert no_token.status_code == 400 and "CSRF" in no_token.text
    forged = client.post(
        "/sign-in", data={"token": world.tokens["regulator"], "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    # A token from another browser's session does not work either.
    other = app.test_client()
    foreign = csrf_token(other.get("/sign-in").text)
    stolen = client.post(
        "/sign-in", data={"token": world.tokens["regulator"], "csrf_token": foreign}
    )
    assert stolen.status_code == 400
    assert client.get("/search").status_code == 303  # none of them signed in


def test_sign_out_ends_the_session(signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("regulator")
    page = client.get("/search")
    refused = client.post("/sign-out")  # no CSRF token: a cross-site form cannot sign you out
    assert refused.status_code == 400
    response = client.post("/sign-out", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.location == "/sign-in"
    assert client.get("/search").status_code == 303


def test_the_api_never_accepts_the_page_cookie(signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("regulator")
    response = client.get("/api/v1/entities?q=星河")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


# --------------------------------------------------------------------------- search and profile


def test_search_by_name_and_by_code(
    signed_in: Callable[[str], FlaskClient], world: PagesWorld
) -> None:
    client = signed_in("analyst")
    by_name = client.get("/search", query_string={"q": "星河科技"})
    assert by_name.status_code == 200
    assert f'href="/entities/{world.ids["xinghe"]}"' in by_name.text
    by_code = client.get("/search", query_string={"q": "91110000600037341L"})
    assert f'href="/entities/{world.ids["xinghe"]}"' in by_code.text
    assert "统一社会信用代码" in by_code.text
    nothing = client.get("/search", query_string={"q": "完全不存在的名称"})
    assert "No entity matches" in nothing.text


def test_search_shows_bad_filters_and_keeps_what_was_typed(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    client = signed_in("analyst")
    response = client.get("/search", query_string={"q": "星河", "region": "12x"})
    assert response.status_code == 422
    assert 'id="region-error"' in response.text and 'aria-invalid="true"' in response.text
    assert 'value="星河"' in response.text and 'value="12x"' in response.text


def test_analyst_sees_masked_ids_and_regulator_full_ones(
    signed_in: Callable[[str], FlaskClient], world: PagesWorld
) -> None:
    analyst, regulator = signed_in("analyst"), signed_in("regulator")
    for client, visible, hidden in (
        (analyst, [ZHANG_MASKED], [ID_ZHANG]),
        (regulator, [ID_ZHANG], [ZHANG_MASKED]),
    ):
        hits = client.get("/search", query_string={"q": "张三"}).text
        profile = client.get(f"/entities/{world.ids['zhang']}").text
        for text in (hits, profile):
            assert all(v in text for v in visible)
            assert not any(h in text for h in hidden)
    wang = analyst.get(f"/entities/{world.ids['wang']}").text
    assert WANG_MASKED in wang and ID_WANG not in wang
    xinghe = analyst.get(f"/entities/{world.ids['xinghe']}").text
    assert PHONE_MASKED in xinghe and PHONE not in xinghe
    assert PHONE in regulator.get(f"/entities/{world.ids['xinghe']}").text


def test_a_search_by_full_id_keeps_the_query_and_masks_the_hits(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    page = signed_in("epb").get("/search", query_string={"q": ID_ZHANG}).text
    assert f'value="{ID_ZHANG}"' in page  # what the department typed stays in the box
    assert page.count(ID_ZHANG) == 1 and ZHANG_MASKED in page  # ...and only there


def test_analysts_may_not_search_by_a_full_id_on_the_pages(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    refused = signed_in("analyst").get("/search", query_string={"q": ID_ZHANG})
    assert refused.status_code == 403 and "text/html" in refused.content_type
    assert ID_ZHANG not in refused.text and "masked" in refused.text


def test_profile_shows_golden_record_grade_lists_timeline_and_explanations(
    signed_in: Callable[[str], FlaskClient], world: PagesWorld
) -> None:
    zhang = signed_in("regulator").get(f"/entities/{world.ids['zhang']}").text
    assert "张三" in zhang
    assert 'class="badge badge-black"' in zhang and "失信被执行人名单" in zhang
    assert 'class="grade-letter"' in zhang and ">D<" in zhang
    assert "black_list" in zhang or "黑名单" in zhang
    assert "court-debtors" in zhang  # the record's source and its match explanation
    assert "匹配说明 Match explanations" in zhang and "<details" in zhang

    xinghe = signed_in("regulator").get(f"/entities/{world.ids['xinghe']}").text
    assert "王五" in xinghe and "北京市朝阳区建国路1号" in xinghe  # golden record values
    assert "北京市市场监督管理局" in xinghe  # ...with their source department
    assert "超标排放大气污染物" in xinghe and "2026-03-01" in xinghe  # the penalty, on the timeline
    assert "行政处罚 Penalty" in xinghe


def test_profile_follows_feed_sharing(
    signed_in: Callable[[str], FlaskClient], world: PagesWorld
) -> None:
    """The not-shared arrears list shows for its own department only: regulators, analysts and
    other departments do not see the entry (nor the black-list badge it gives)."""
    listing = "拖欠农民工工资失信联合惩戒对象名单"
    assert listing in signed_in("hrss").get(f"/entities/{world.ids['xinghe']}").text
    for who in ("analyst", "epb", "regulator"):
        assert listing not in signed_in(who).get(f"/entities/{world.ids['xinghe']}").text, who


def test_unknown_profile_is_a_404_page(signed_in: Callable[[str], FlaskClient]) -> None:
    response = signed_in("analyst").get("/entities/CHL-NOPE")
    assert response.status_code == 404
    assert response.mimetype == "text/html" and "未找到" in response.text
    # The service's refusal reaches the page through the one handler (app.errors), message kept.
    assert "No entity has the id &#39;CHL-NOPE&#39;." in response.text


def test_reading_people_is_audited_like_the_api(
    signed_in: Callable[[str], FlaskClient],
    world: PagesWorld,
    session_factory: sessionmaker[Session],
) -> None:
    client = signed_in("analyst")
    client.get(f"/entities/{world.ids['xinghe']}")  # a company: not a personal read
    assert audit_actions(session_factory) == []
    client.get("/search", query_string={"q": "星河科技"})  # every search is audited
    client.get(f"/entities/{world.ids['zhang']}")
    client.get("/search", query_string={"q": ZHANG_MASKED})
    client.get("/search", query_string={"q": ID_ZHANG})  # refused (403), audited all the same
    assert audit_actions(session_factory) == [
        ("entity.search", "page-analyst"),
        ("entity.read", "page-analyst"),
        ("entity.search", "page-analyst"),
        ("entity.search", "page-analyst"),
    ]


# --------------------------------------------------------------------------- feed status


def _runs_and_quarantine(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for code, status, error in (
            ("env-penalties", IngestRunStatus.SUCCEEDED, None),
            ("hrss-arrears", IngestRunStatus.FAILED, "连接超时 connection timed out"),
        ):
            feed = session.scalars(select(Feed).where(Feed.code == code)).one()
            session.add(
                IngestRun(
                    feed_id=feed.id, trigger="schedule", status=status, fetched=12,
                    accepted=9, duplicate=1, updated=0, quarantined=2, linked=9, error=error,
                )
            )  # fmt: skip
            make_source_record(
                session,
                feed=feed,
                source_key=f"{code}-bad",
                status=SourceStatus.QUARANTINED,
                raw_payload={"party_name": "张三", "id_number": ID_ZHANG},
                errors={"decision_date": ["not a date: 2026-13-01"]},
            )
        session.commit()


def test_feed_status_shows_last_runs_errors_and_quarantine(
    signed_in: Callable[[str], FlaskClient],
    world: PagesWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _runs_and_quarantine(session_factory)
    page = signed_in("regulator").get("/feeds")
    assert page.status_code == 200
    text = page.text
    assert "连接超时 connection timed out" in text and "失败 Failed" in text
    assert "env-penalties-bad" in text and "hrss-arrears-bad" in text
    assert "not a date: 2026-13-01" in text
    assert ID_ZHANG in text  # regulators see the raw payload as received

    own = signed_in("hrss").get("/feeds").text  # a department: its own feed's runs and quarantine
    assert "hrss-arrears-bad" in own and "env-penalties-bad" not in own
    assert ID_ZHANG not in own and ZHANG_MASKED in own  # ...masked for its role
    assert "连接超时" in own

    analyst = signed_in("analyst").get("/feeds").text  # analysts: runs, no quarantine
    assert "连接超时" in analyst and 'id="quarantine"' not in analyst
    with session_factory() as session:
        # Showing it changed nothing: the quarantined records are still there.
        quarantined = session.scalars(
            select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
        ).all()
        assert len(quarantined) == 2


def test_feed_filter_narrows_the_quarantine(
    signed_in: Callable[[str], FlaskClient],
    world: PagesWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _runs_and_quarantine(session_factory)
    text = signed_in("regulator").get("/feeds?feed=hrss-arrears").text
    assert "hrss-arrears-bad" in text and "env-penalties-bad" not in text


# --------------------------------------------------------------------------- accessibility


class _Markup(HTMLParser):
    """Collects what the accessibility checks look at."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.h1 = 0
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, str | None, bool]] = []  # (tag, id, inside a label)
        self.header_cells_without_scope = 0
        self._label_depth = 0
        self._in_thead = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"] or "")
        elif tag in ("input", "select", "textarea"):
            if a.get("type") not in ("hidden", "submit", "button"):
                self.controls.append((tag, a.get("id"), self._label_depth > 0))
        elif tag == "th" and "scope" not in a:
            self.header_cells_without_scope += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1


PAGES = [
    "/sign-in",
    "/search",
    "/search?q=星河科技",
    "/feeds",
    "/reviews",
    "/repairs",
    "/objections",
]


def test_every_page_is_labelled_and_has_one_h1(
    signed_in: Callable[[str], FlaskClient], world: PagesWorld, client: FlaskClient
) -> None:
    regulator = signed_in("regulator")
    xinghe = world.ids["xinghe"]
    urls = [*PAGES, f"/entities/{xinghe}", f"/entities/{world.ids['zhang']}"]
    urls += [f"/entities/{xinghe}/records", f"/entities/{xinghe}/records?date_from=x"]
    urls += ["/reports", "/reports/penalties", "/reports/records?region=x"]
    pages = [(url, regulator.get(url)) for url in urls]
    pages.append(("/sign-in (signed out)", client.get("/sign-in")))
    pages.append(("404", regulator.get("/entities/CHL-NOPE")))
    for url, response in pages:
        markup = _Markup()
        markup.feed(response.text)
        assert markup.lang == "zh-CN", url
        assert markup.h1 == 1, url
        unlabelled = [
            c
            for c in markup.controls
            if not c[2] and (c[1] is None or c[1] not in markup.label_for)
        ]
        assert unlabelled == [], url
        assert markup.header_cells_without_scope == 0, url
        assert 'href="http' not in response.text.split("</head>")[0], url  # every asset is local


def test_stylesheet_is_served_locally(client: FlaskClient) -> None:
    with client.get("/static/pages/pages.css") as response:
        assert response.status_code == 200 and response.mimetype == "text/css"
        assert "@import" not in response.text and "url(http" not in response.text


def test_records_page_filters_and_refuses_bad_dates(
    signed_in: Callable[[str], FlaskClient],
    world: PagesWorld,
    session_factory: sessionmaker[Session],
) -> None:
    client = signed_in("regulator")
    url = f"/entities/{world.ids['xinghe']}/records"
    everything = client.get(url).text
    assert "超标排放大气污染物" in everything and "共 2 条" in everything
    penalties = client.get(url, query_string={"category": "penalty"}).text
    assert "共 1 条" in penalties and "超标排放大气污染物" in penalties
    none = client.get(url, query_string={"date_from": "2026-04-01"}).text
    assert "No records match" in none
    bad = client.get(url, query_string={"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 422
    assert "date_to is before date_from" in bad.text and 'value="2026-04-01"' in bad.text
    assert client.get("/entities/CHL-NOPE/records").status_code == 404
    # A person's records are a read of that person, audited like the API's; refused filters
    # show no row of them, so that page is not.
    analyst = signed_in("analyst")
    person_url = f"/entities/{world.ids['zhang']}/records"
    assert analyst.get(person_url, query_string={"date_from": "not a date"}).status_code == 422
    analyst.get(person_url)
    with session_factory() as session:
        details = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "entity.read")
        ).all()
        assert details == [{"view": "records", "role": "analyst"}]


def test_templates_and_assets_are_package_data() -> None:
    """A non-editable install ships every template and asset of the pages (pyproject globs)."""
    root = Path(__file__).resolve().parents[2]
    with (root / "pyproject.toml").open("rb") as handle:
        globs = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["app.pages"]
    package = root / "app" / "pages"
    files = [
        p.relative_to(package).as_posix()
        for folder in ("templates", "static")
        for p in (package / folder).rglob("*")
        if p.is_file()
    ]
    assert files
    assert [f for f in files if not any(fnmatch(f, g) for g in globs)] == []


def test_pages_escape_data_and_forbid_scripts_and_framing(
    signed_in: Callable[[str], FlaskClient], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        feed = session.scalars(select(Feed).where(Feed.code == "env-penalties")).one()
        outcome = ingest(
            session,
            feed,
            [penalty("x1", party_name="<script>alert(1)</script>有限公司", uscc=None)],
        )
        session.commit()
    response = signed_in("regulator").get(f"/entities/{outcome[0].entity_id}")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司" in response.text
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_session_forged_with_the_secret_key_alone_is_refused(
    app: Flask, world: PagesWorld, session_factory: sessionmaker[Session]
) -> None:
    """Knowing SECRET_KEY (say, left at its default) is not enough to sign in as a client:
    the session must also carry a value derived from the client's stored token hash."""
    with session_factory() as session:
        regulator = session.scalars(
            select(ApiClient).where(ApiClient.name == "page-regulator")
        ).one()
    forged = app.test_client()
    with forged.session_transaction() as cookie:  # signed with the app's SECRET_KEY
        cookie["client_id"] = regulator.id
    response = forged.get("/reviews")
    assert response.status_code == 303 and response.location.startswith("/sign-in")
    with forged.session_transaction() as cookie:
        cookie["client_id"] = regulator.id
        cookie["client_binding"] = "0" * 64
    assert forged.get("/reviews").status_code == 303


def test_secure_cookies_setting_makes_the_session_cookie_https_only(
    config: Config, make_app: Callable[[Config], Flask], world: PagesWorld
) -> None:
    secure = make_app(Config.from_env({"CREDITHUB_SECURE_COOKIES": "true"}, **_fields(config)))
    response = sign_in(secure.test_client(), world.tokens["analyst"])
    assert "Secure" in response.headers["Set-Cookie"]
    plain = sign_in(make_app(config).test_client(), world.tokens["analyst"])
    assert "Secure" not in plain.headers["Set-Cookie"]


def _fields(config: Config) -> dict[str, object]:
    return {
        "instance_path": config.instance_path,
        "database_url": config.database_url,
        "secret_key": config.secret_key,
        "testing": True,
        "log_level": "WARNING",
        "today": TODAY,
    }
