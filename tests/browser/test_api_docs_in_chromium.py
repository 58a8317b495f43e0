"""``/api/docs/`` in Chromium under its Content-Security-Policy: Swagger UI renders with no
policy violation, and a bearer token typed into "Authorize" is not kept in the browser."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.conftest import LiveServer


def test_docs_render_under_the_policy_and_forget_the_token(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", watch)
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill("secret-regulator-token")
    page.locator(".auth-btn-wrapper button.authorize").first.click()
    expect(page.get_by_role("button", name="Logout").first).to_be_visible()
    stored = page.evaluate(
        "JSON.stringify(Object.assign({}, window.localStorage, window.sessionStorage))"
    )
    assert "secret-regulator-token" not in stored
    assert not [p for p in problems if "Content Security Policy" in p], problems
