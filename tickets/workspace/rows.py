"""The rows of a ticket list, and the search page's results, rendered in Python.

A list page shows 50 rows of 11 cells. Through the template engine those rows were three quarters of the
page's time: some 1,750 variable lookups, 100 URL reversals and 50 template includes a page. Here a row
is one string built from values read once, each escaped, with the same markup, strings and translations
the template had (`_ticket_rows.html` keeps the empty state and the "more" link); the phrases and labels
are translated once a page.

Each row but its SLA cell is also kept in the cache (`ROW_SECONDS`), under a digest of everything it is made
of (`ROW_FIELDS`, the names of its requester, queue and assignee, the reader's language and time zone, this
module's source), as the ticket page keeps its messages (`tickets.workspace.thread.kept_or_built`): so a
change to a ticket gives its row a new key and re-renders that row only, and nothing needs invalidating. A
row reaches only a reader whose own access-checked query returned its ticket. The SLA cell reads the clock,
so it is rendered for every page and set into the kept row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS, timesince, timeuntil
from django.utils.translation import get_language, gettext

from tickets import sla
from tickets.models import SlaClock, Ticket
from tickets.sla.clocks import ClockView
from tickets.wellbeing.detection import CATEGORIES
from tickets.workspace.search import SearchHit
from tickets.workspace.selectors import ListedTicket
from tickets.workspace.thread import kept_or_built

RUNNING_ORDER = {"breached": 0, "warning": 1, "ok": 2, "paused": 3}
# A kept row lives this long: one ticket's row is rendered about once an hour per language while unchanged.
ROW_SECONDS = 3600
# Every field of a ticket a row shows, in its key (a test reads `_row` and `_subject` against this list).
ROW_FIELDS = ("pk", "number", "subject", "tags", "status", "priority", "language", "sensitivity", "updated_at")
# Where a kept row takes its SLA cell.
_CLOCK_CELL = "\x00clock\x00"  # a NUL never comes from the database (PostgreSQL text holds none)
_SOURCE_DIGEST = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=8).hexdigest()


def most_urgent_clock(ticket: ListedTicket, now: datetime | None = None) -> ClockView | None:
    """The running clock nearest its due time (breached first), for one cell of a ticket list; None when
    no clock runs. Reads only the ticket's own fields: no query per row."""
    running = [c for c in sla.clock_views(ticket, now) if c.state in RUNNING_ORDER]
    return min(running, key=lambda c: (RUNNING_ORDER[c.state], c.due_at or ticket.created_at), default=None)


class _Counted:
    """One of `timesince`'s phrases ("%(num)d hours"), each count's text translated once a page: `timesince`
    and `timeuntil` take these in place of their lazy phrases, which translate on every use (two thirds of
    their 27 µs a call; a list shows 50 clocks)."""

    def __init__(self, phrase) -> None:
        self.phrase = phrase
        self.texts: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        text = self.texts.get(values["num"])
        if text is None:
            text = self.texts[values["num"]] = self.phrase % values
        return text


@dataclass(frozen=True)
class _Page:
    """What every row of a page shares, worked out once: the URL prefix (every ticket URL differs only by
    its number), the labels and phrases in the reader's language, the date format, the time."""

    url_prefix: str
    statuses: dict[str, str]
    priorities: dict[int, str]
    categories: dict[str, str]
    clocks: dict[str, str]
    phrases: dict[str, str]
    date_format: str
    now: datetime
    time_strings: dict[str, Any]  # of `_Counted`, which `timesince` uses as its phrases


def _page() -> _Page:
    return _Page(
        url_prefix=reverse("ticket", args=[0])[: -len("0/")],
        statuses={value: str(label) for value, label in Ticket.Status.choices},
        priorities={value: str(label) for value, label in Ticket.Priority.choices},
        categories={key: str(label) for key, label in CATEGORIES.items()},
        clocks={value: str(label) for value, label in SlaClock.choices},
        phrases={
            "select": gettext("Select ticket #%(number)s"),
            "sensitive": gettext("Sensitive content: %(categories)s"),
            "no_subject": gettext("(no subject)"),
            "overdue": gettext("overdue by %(late)s"),
            "left": gettext("%(left)s left"),
            "breached": gettext("breached"),
            "paused": gettext("paused"),
        },
        date_format=formats.get_format("SHORT_DATETIME_FORMAT"),
        now=timezone.now(),
        time_strings={name: _Counted(phrase) for name, phrase in TIME_STRINGS.items()},
    )


def ticket_rows(tickets: Iterable[ListedTicket]) -> SafeString:
    tickets = list(tickets)
    if not tickets:
        return mark_safe("")
    page = _page()
    reader = "\x1f".join([_SOURCE_DIGEST, get_language() or "", timezone.get_current_timezone_name()])
    kept = kept_or_built(
        tickets, lambda ticket: row_key(ticket, reader), lambda ticket: _row(ticket, page), ROW_SECONDS
    )
    return mark_safe(
        "".join(row.replace(_CLOCK_CELL, _clock(ticket, page), 1) for ticket, row in zip(tickets, kept, strict=True))
    )


def row_key(ticket: ListedTicket, reader: str) -> str:
    requester, assignee = ticket.requester, ticket.assignee
    shown = [getattr(ticket, name) for name in ROW_FIELDS] + [
        requester.name,
        requester.email,
        ticket.queue.name,
        (assignee.get_full_name() or assignee.username) if assignee else None,
    ]
    digest = hashlib.blake2b(f"{reader}\x1e{shown!r}".encode(), digest_size=20).hexdigest()
    return f"rows:ticket:{ticket.pk}:{digest}"


def _row(ticket: ListedTicket, page: _Page) -> str:
    """Every value that is not a number or one of our own codes goes through `escape`."""
    requester = ticket.requester
    assignee = ticket.assignee
    updated = timezone.localtime(ticket.updated_at)
    url = f"{page.url_prefix}{ticket.number}/"
    tags = "".join(f' <span class="tag">{escape(tag)}</span>' for tag in ticket.tags or ())
    select = escape(page.phrases["select"] % {"number": ticket.number})
    assignee_name = escape(assignee.get_full_name() or assignee.username) if assignee else "—"
    return (
        f'<tr data-row data-href="{url}" class="priority-{ticket.priority}">\n'
        f'  <td class="c-select"><input type="checkbox" name="tickets" value="{ticket.number}" '
        f'aria-label="{select}"></td>\n'
        f'  <td class="c-number"><a href="{url}">{ticket.number}</a></td>\n'
        f'  <td class="c-subject"><a href="{url}" data-row-link>{_subject(ticket, page)}</a>{tags}</td>\n'
        f'  <td class="c-requester">{escape(requester.name or requester.email)}</td>\n'
        f'  <td class="c-status"><span class="status status-{escape(ticket.status)}">'
        f"{escape(page.statuses.get(ticket.status, ticket.status))}</span></td>\n"
        f'  <td class="c-priority">{escape(page.priorities.get(ticket.priority, ticket.priority))}</td>\n'
        f'  <td class="c-language">{escape(ticket.language.upper())}</td>\n'
        f'  <td class="c-queue">{escape(ticket.queue.name)}</td>\n'
        f'  <td class="c-assignee">{assignee_name}</td>\n'
        f'  <td class="c-due">{_CLOCK_CELL}</td>\n'
        f'  <td class="c-updated"><time datetime="{updated.isoformat()}">'
        f"{escape(dateformat.format(updated, page.date_format))}"
        "</time></td>\n"
        "</tr>\n"
    )


# What a search result shows of its ticket: the search page loads only these (`search.search_tickets`); a test
# fails if `_hit` reads another field (it would cost a query per result).
HIT_FIELDS = ("number", "subject", "status", "sensitivity", "updated_at", "requester__email", "queue__name")


def search_hits(hits: Iterable[SearchHit]) -> SafeString:
    """The search page's results, one `<li>` each, as the template loop wrote them: the subject masked on a
    flagged ticket, and no snippet there either."""
    page = _page()
    return mark_safe("".join(_hit(hit, page) for hit in hits))


def _hit(hit: SearchHit, page: _Page) -> str:
    ticket = hit.ticket
    url = f"{page.url_prefix}{ticket.number}/"
    updated = dateformat.format(timezone.localtime(ticket.updated_at), page.date_format)
    snippet = (
        f'\n      <p class="snippet">{conditional_escape(hit.snippet)}</p>'
        if hit.snippet and not ticket.sensitivity
        else ""
    )
    return (
        f'\n    <li data-row data-href="{url}">\n'
        f'      <a href="{url}" data-row-link><span class="ticket-number">#{ticket.number}</span> '
        f"{_subject(ticket, page)}</a>\n"
        f'      <span class="status status-{escape(ticket.status)}">'
        f"{escape(page.statuses.get(ticket.status, ticket.status))}</span>\n"
        f'      <span class="muted">{escape(ticket.requester.email)} · {escape(ticket.queue.name)} · '
        f"{escape(updated)}</span>{snippet}\n"
        "    </li>"
    )


def _subject(ticket: Ticket | ListedTicket, page: _Page) -> str:
    """As `tickets/wellbeing/_subject.html`: a flagged ticket's subject is masked behind its categories."""
    if ticket.sensitivity:
        labels = ", ".join(page.categories[c] for c in ticket.sensitivity if c in page.categories)
        masked = escape(page.phrases["sensitive"] % {"categories": labels})
        return f'<span class="wb-masked" data-testid="masked-subject">{masked}</span>'
    return escape(ticket.subject or page.phrases["no_subject"])


def _clock(ticket: ListedTicket, page: _Page) -> str:
    clock = most_urgent_clock(ticket, page.now)
    if clock is None:
        return "—"
    inner: str
    if clock.state == "breached":
        if clock.due_at:
            inner = escape(
                page.phrases["overdue"] % {"late": timesince(clock.due_at, page.now, time_strings=page.time_strings)}
            )
        else:
            inner = escape(page.phrases["breached"])
    elif clock.state == "paused":
        inner = escape(page.phrases["paused"])
    else:
        assert clock.due_at is not None  # a running clock has its due time
        left = escape(
            page.phrases["left"] % {"left": timeuntil(clock.due_at, page.now, time_strings=page.time_strings)}
        )
        inner = f'<time datetime="{timezone.localtime(clock.due_at).isoformat()}">{left}</time>'
    label = escape(page.clocks[clock.clock])
    return f'<span class="sla-clock sla-{clock.state}" data-state="{clock.state}" title="{label}">{inner}</span>'
