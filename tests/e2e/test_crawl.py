"""`make e2e`: every page each role can reach, in pt-BR and English, on a desktop and a phone, over the
demo data. A page fails when it is wider than the window, logs a script error, has a failed request or a
4xx/5xx, or shows a Python literal; or when a list scrolls sideways on a phone, an empty state shows a list
bullet, or a Portuguese page's interface shows English (`tests/e2e/crawler.py`). Screenshots land in
build/screenshots/<role>/ for people to look at.

The whole crawl runs only when ACOLHE_CRAWL=1 (make e2e sets it); the smoke test below, a few pages of one
role, runs with the normal suite.
"""

import json
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from tests.e2e.crawler import LOCALES, VIEWPORTS, crawl, sign_in, use_language
from tickets.models import Role

pytestmark = [pytest.mark.e2e]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ROLES = {
    "associate": "ana.souza",
    "bilingual-associate": "carlos.pereira",
    "lead": "lead.ana",
    "specialist": "tessa.trust",
    "admin": "admin",
}
PASSWORD = "acolhe-demo"
MAX_PAGES = int(os.environ.get("ACOLHE_CRAWL_PAGES", "45"))
full_crawl = pytest.mark.skipif(os.environ.get("ACOLHE_CRAWL") != "1", reason="the full crawl runs with make e2e")


def load_demo(tickets: int) -> None:
    """A live-server test empties the database after it (the roles its migration made included), so each
    test puts the roles back and loads its own demo."""
    for role in Role.values:
        Group.objects.get_or_create(name=role)
    call_command("seed_demo", tickets=tickets)


@pytest.fixture
def demo(transactional_db):
    load_demo(int(os.environ.get("ACOLHE_CRAWL_TICKETS", "60")))


@pytest.fixture
def small_demo(transactional_db):
    load_demo(20)


def crawl_as(browser, live_server, username, *, locale, size, max_pages, shots=None, include_admin=False):
    width, height = VIEWPORTS[size]
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, username, PASSWORD)
        use_language(page, live_server.url, LOCALES[locale])
        return crawl(
            page,
            live_server.url,
            max_pages=max_pages,
            shots=shots,
            label=f"{locale}-{size}-",
            include_admin=include_admin,
        )
    finally:
        context.close()


def test_smoke_an_associates_main_pages_fit_a_phone_and_a_desktop_without_errors(browser, live_server, small_demo):
    for size in VIEWPORTS:
        result = crawl_as(browser, live_server, "ana.souza", locale="pt-BR", size=size, max_pages=8)
        assert len(result.visits) == 8
        assert result.problems == [], "\n".join(result.problems)


@full_crawl
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_a_role_reaches_fits_and_loads_cleanly(browser, live_server, demo, role):
    problems, visited = [], {}
    for locale in LOCALES:
        for size in VIEWPORTS:
            result = crawl_as(
                browser,
                live_server,
                ROLES[role],
                locale=locale,
                size=size,
                max_pages=MAX_PAGES,
                shots=SHOTS / role,
                include_admin=role == "admin",
            )
            visited[f"{locale} {size}"] = len(result.visits)
            problems += [f"[{locale} {size}] {problem}" for problem in result.problems]
    # Beside the screenshots, what was visited and found, for a person reading the build's artifacts.
    summary = {"role": role, "pages": visited, "problems": problems}
    (SHOTS / role / "crawl.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    assert min(visited.values()) >= 5, visited
    assert problems == [], "\n".join(problems)
