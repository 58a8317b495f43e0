"""Browser tests: a real headless Chromium (the Debian package, driven by Playwright's sync API)
against a real server started here, on a migrated SQLite file holding the pages world.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``CREDITHUB_CHROMIUM``)
with flags that need no network. Without Chromium the tests are skipped, unless
``CREDITHUB_TEST_REQUIRE_BROWSER=1`` (``make test``, CI), which makes a missing browser a
failure. Screenshots go to ``test-artifacts/screenshots/`` (``CREDITHUB_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from app import create_app
from app.runtime import runtime
from core.config import Config
from tests.support.pages import TODAY, PagesWorld, seed_pages_world

CHROMIUM = Path(os.environ.get("CREDITHUB_CHROMIUM", "/usr/bin/chromium"))
# What works without network access (and as root, in a container without a GPU).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CREDITHUB_TEST_ARTIFACTS", "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}


def _browser_required() -> bool:
    return os.environ.get("CREDITHUB_TEST_REQUIRE_BROWSER", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _browser_required():
        pytest.fail(f"the browser tests are required for this run but cannot run: {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask
    world: PagesWorld


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[LiveServer]:
    """The app served by werkzeug on a free port, in a thread, for this module's tests."""
    folder = tmp_path_factory.mktemp("live")
    database = folder / "credithub.sqlite3"
    shutil.copyfile(sqlite_template, database)
    config = Config(
        instance_path=folder / "instance",
        database_url=f"sqlite:///{database}",
        secret_key="browser-test-secret",
        log_level="WARNING",
        today=TODAY,
    )
    app = create_app(config)
    world = seed_pages_world(runtime(app).session_factory)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, world)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        runtime(app).engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # The machine may be busy (the rest of the suite, other jobs): allow slow pages.
    expect.set_options(timeout=15_000)
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (make chromium installs the Debian package)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) at laptop size; on failure, a screenshot of the
    page as it was is saved next to the others."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        report: Any = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            shot(new_page, f"FAILED-{request.node.name}", check_width=False)
        context.close()


def shot(page: Page, name: str, *, check_width: bool = True) -> Path:
    """Save a full-page screenshot as a test artifact; returns its path.

    Every page shot is also checked to fit the 1366-pixel laptop width: no horizontal
    scrolling (``check_width=False`` for the failure screenshot, which must always be taken).
    """
    if check_width:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
