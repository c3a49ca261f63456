"""Playwright in Debian's headless Chromium (never a downloaded browser), against the live test server."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("ACOLHE_CHROMIUM", "/usr/bin/chromium")
# Django's live server runs in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """A factory of pages, each in its own browser context (its own cookies): one per person."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(locale=locale, timezone_id="America/Sao_Paulo")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def login(page, live_server, username: str, password: str = "secret-pass-123") -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(f"{live_server.url}/")
