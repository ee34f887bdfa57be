"""Real-browser tests: Python Playwright driving Debian's Chromium (never a downloaded one)."""

import os
import shutil

import pytest

from tests.conftest import CHROMIUM, REQUIRE_SERVICES

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not executable:
        message = f"Chromium is not installed at {CHROMIUM}"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 768}, locale="en-US"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Every browser test also proves the Content-Security-Policy blocks nothing the app
    # needs: Chromium reports each refused script, style or image on the console.
    csp_violations = []

    def note_csp_violation(message):
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    page.on("console", note_csp_violation)
    yield page
    context.close()
    assert csp_violations == []


@pytest.fixture
def login(page):
    """``login(user)``: sign in through the real login form."""
    from tests.factories import PASSWORD

    def sign_in(user, password=PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return sign_in
