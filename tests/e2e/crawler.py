"""Visit every page a signed-in person can reach by following links, and report what a person would
notice: pages wider than the window, a list that scrolls sideways on a phone, an empty state with a list
bullet, script errors, failed or 4xx/5xx requests, Python literals in the visible text, English in the
interface of a Portuguese page. Used by `make e2e` (the whole crawl) and by a small smoke test in the normal suite.

Run by hand against a running server:  python -m tests.e2e.crawler http://127.0.0.1:8000 USER PASSWORD
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import polib

VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
LOCALES = {"pt-BR": "pt-br", "en": "en"}
# Pages that change state on GET, download files, or belong to other programs (the API browser,
# the admin's own crawl is capped below).
SKIP = re.compile(
    r"^/(logout|language|api/|anymail/|attachments/|media/|static/|healthz)"
    r"|/export|\.csv$|/source/$|/download|/admin/logout|/admin/jsi18n"
)
# Many pages share one template: two of each shape are enough (`/tickets/12/` and `/tickets/98/`).
PER_SHAPE = 2
PYTHON_LITERALS = re.compile(r"\[\]|\{'|\bNone\b|→ \['|\['|<bound method|object at 0x")
# What people wrote, in whatever language they wrote it: a message's body, a procedure in the ticket's
# language. Everything else on a Portuguese page is the interface, and speaks Portuguese.
WRITTEN_BY_PEOPLE = "script, style, template, .message-body, .sop-entry"
LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"


@functools.cache
def english_phrases() -> tuple[str, ...]:
    """The English of every translated interface message (a plural's singular too), cut at its placeholders:
    the pieces of twelve characters or more, with a space, that its Portuguese does not contain as well (a
    name such as "Trust & Safety" stays as it is in both)."""
    phrases = set()
    for entry in polib.pofile(str(LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / "django.po")).translated_entries():
        portuguese = entry.msgstr or " ".join(entry.msgstr_plural.values())  # a plural's forms
        for piece in re.split(r"%\(\w+\)[sd]|%[sd]|\{[^}]*\}", entry.msgid):
            piece = piece.strip(' .:·“”"()')
            if len(piece) >= 12 and " " in piece and piece not in portuguese:
                phrases.add(piece)
    return tuple(sorted(phrases))


def shape_of(path: str) -> str:
    """`/tickets/12/` and `/sop/bug-report/history/` as `/tickets/N/` and `/sop/*/history/`: numbers and
    slugs with a hyphen stand for any."""
    return re.sub(r"/(\d+|[\w.]*-[\w.-]*)(?=/|$)", "/*", path)


@dataclass
class Visit:
    path: str
    status: int
    problems: list[str] = field(default_factory=list)
    screenshot: str = ""


@dataclass
class Crawl:
    visits: list[Visit] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{visit.path}: {problem}" for visit in self.visits for problem in visit.problems]


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].button-primary")
    try:
        page.wait_for_url(f"{base_url}/")
    except Exception as exc:
        text = page.inner_text("body")[:300].replace("\n", " ")
        raise AssertionError(f"{username} could not sign in: at {page.url}: {text}") from exc


def settle(page) -> None:
    """Wait for the requests htmx makes as the page loads (the timeline, counts) to land."""
    # Polled from here: the CSP (no 'unsafe-eval') refuses wait_for_function's predicate.
    for _ in range(60):
        page.wait_for_timeout(150)
        if not page.evaluate("!!document.querySelector('.htmx-request')"):
            return


def use_language(page, base_url: str, language: str) -> None:
    """Switch the signed-in person's interface language, as the account menu does."""
    token = page.input_value("input[name=csrfmiddlewaretoken]")
    page.request.post(f"{base_url}/language/", form={"language": language, "next": "/", "csrfmiddlewaretoken": token})


def crawl(
    page,
    base_url: str,
    *,
    start: str = "/",
    max_pages: int = 80,
    shots: Path | None = None,
    label: str = "",
    include_admin: bool = False,
) -> Crawl:
    """Follow same-origin links from `start`, breadth first, up to `max_pages` pages."""
    result = Crawl()
    console_errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(f"{request.url} ({request.failure})"))
    page.on(
        "response",
        lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"),
    )
    origin = urlsplit(base_url).netloc
    queue, seen, shapes = [start], {start}, {}
    while queue and len(result.visits) < max_pages:
        path = queue.pop(0)
        console_errors.clear()
        failed.clear()
        # Not "networkidle": the ticket page polls for presence, so the network is never idle for long.
        response = page.goto(base_url + path, wait_until="load")
        settle(page)
        visit = Visit(path=path, status=response.status if response else 0)
        result.visits.append(visit)
        if visit.status >= 400:
            visit.problems.append(f"status {visit.status}")
        content_type = (response.headers.get("content-type", "") if response else "") or ""
        if "text/html" not in content_type:
            continue
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
            )
            visit.problems.append(f"{width[0]}px wide in a {width[1]}px window ({', '.join(wide)})")
        # A list of records shows each record whole on a phone (`table.stack`: a card a row); only a grid of
        # figures (`data-grid`) may scroll sideways inside itself. The ticket list has cards of its own.
        sideways = page.evaluate(
            """() => [...document.querySelectorAll('table:not([data-grid]):not(.tickets)')]
              .filter(t => t.scrollWidth > t.clientWidth + 1)
              .map(t => 'table' + (t.className ? '.' + t.className.trim().split(/ +/).join('.') : ''))"""
        )
        if sideways:
            visit.problems.append(f"a list of records scrolls sideways ({', '.join(sideways)})")
        # An empty state is a box of its own, never a bulleted item beside it.
        if page.evaluate(
            """() => [...document.querySelectorAll('li.empty')].some(li => {
                 const style = getComputedStyle(li);
                 return style.display === 'list-item' && style.listStyleType !== 'none';
               })"""
        ):
            visit.problems.append("an empty state shows a list bullet")
        if page.evaluate("document.documentElement.lang").startswith("pt"):
            interface = page.evaluate(
                """(skip) => { const copy = document.body.cloneNode(true);
                                copy.querySelectorAll(skip).forEach(e => e.remove()); return copy.textContent; }""",
                WRITTEN_BY_PEOPLE,
            )
            english = [phrase for phrase in english_phrases() if phrase in interface]
            if english:
                visit.problems.append(f"English on a Portuguese page: {', '.join(map(repr, english[:3]))}")
        text = page.evaluate("document.body.innerText")
        for match in PYTHON_LITERALS.finditer(text):
            around = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
            visit.problems.append(f"Python literal in the text: …{around}…")
            break
        visit.problems.extend(f"console: {error}" for error in console_errors)
        visit.problems.extend(f"request: {request}" for request in failed)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            name = f"{label}{shape_of(path).strip('/').replace('/', '_') or 'home'}.png"
            page.screenshot(path=str(shots / name), full_page=True)
            visit.screenshot = name
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url = urlsplit(urldefrag(href)[0])
            if url.netloc != origin or url.scheme not in ("http", "https"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target in seen or SKIP.search(url.path) or (url.path.startswith("/admin/") and not include_admin):
                continue
            if url.query and not url.path.startswith("/admin/"):
                target = url.path  # sorting and filter links show the same page
                if target in seen:
                    continue
            if url.query and url.path.startswith("/admin/"):
                continue
            shape = shape_of(url.path)
            if shapes.get(shape, 0) >= PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            seen.add(target)
            queue.append(target)
    return result


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    base_url, username, password = argv[1:4]
    shots = Path(argv[4]) if len(argv) > 4 else Path("build/screenshots")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-background-networking"]
        )
        count = 0
        for locale, code in LOCALES.items():
            for size, (width, height) in VIEWPORTS.items():
                context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
                page = context.new_page()
                sign_in(page, base_url, username, password)
                use_language(page, base_url, code)
                result = crawl(page, base_url, shots=shots, label=f"{username}-{locale}-{size}-", include_admin=True)
                count += len(result.visits)
                for problem in result.problems:
                    print(f"[{locale} {size}] {problem}")
                context.close()
        browser.close()
        print(f"{count} pages visited")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
