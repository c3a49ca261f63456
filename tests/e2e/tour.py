"""The README's screenshot tour: the main screens, taken from a running Acolhe with the demo data.

make screenshots            (against http://127.0.0.1:8000, the address `make run` serves)
python -m tests.e2e.tour http://127.0.0.1:8000 docs/screenshots
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.e2e.crawler import settle, sign_in, use_language

PASSWORD = "acolhe-demo"
# (file name, who, language, viewport, path or "first:<css>" to follow the first matching link)
SHOTS = [
    ("1-queue-list.png", "lead.ana", "pt-br", (1440, 900), "/work/all/"),
    ("2-ticket.png", "lead.ana", "pt-br", (1440, 900), "first:table.tickets [data-row-link]"),
    ("3-ticket-phone.png", "ana.souza", "pt-br", (390, 844), "first:table.tickets [data-row-link]"),
    ("4-dashboard.png", "lead.ana", "en", (1440, 900), "/metrics/"),
    ("5-escalations.png", "tessa.trust", "en", (1440, 900), "/escalations/"),
]


def take(browser, base_url: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    for name, username, language, (width, height), target in SHOTS:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="pt-BR")
        page = context.new_page()
        sign_in(page, base_url, username, PASSWORD)
        use_language(page, base_url, language)
        if target.startswith("first:"):
            page.goto(f"{base_url}/work/all/")
            page.locator(target.removeprefix("first:")).first.click()
            page.wait_for_load_state("load")
        else:
            page.goto(base_url + target)
        settle(page)
        page.screenshot(path=str(folder / name))
        taken.append(folder / name)
        context.close()
    return taken


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    base_url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000"
    folder = Path(argv[2] if len(argv) > 2 else "docs/screenshots")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-background-networking"]
        )
        for path in take(browser, base_url.rstrip("/"), folder):
            print(path)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
