"""Full-text search over ticket subjects, message bodies and requester addresses.

Both Portuguese and English configurations (after folding accents) are queried at once: a thread mixes
languages, and the associate should not have to say which one they typed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils.html import escape
from django.utils.safestring import mark_safe

from tickets import db, selectors
from tickets.models import SEARCH_EXCERPT_CHARS, UNACCENT_TABLE, Ticket

# Ranking looks at this many recent matches per source (subjects; twice as many message bodies); deeper pages
# of a vague query are not useful. At 200 (and 400 bodies) a two-word query found in about 1 % of all mail
# walked some 53,000 messages to collect its matches, 35 ms of PostgreSQL's time on the 1,000,000-ticket bench
# data set; at 100 half as many (search p90 in process, seven terms: 83 -> 51 ms).
MAX_RESULTS = 100
START, STOP, FRAGMENT_DELIMITER = "[[[", "]]]", " ... "
# ts_headline's options, by their PostgreSQL names.
HEADLINE_OPTIONS: dict[str, Any] = {
    "StartSel": START, "StopSel": STOP, "MaxWords": 30, "MinWords": 12, "MaxFragments": 2,
    "FragmentDelimiter": FRAGMENT_DELIMITER,
}  # fmt: skip
# Snippets are cut from a body's first SEARCH_EXCERPT_CHARS characters, stored apart for a long body
# (Message.search_excerpt): ts_headline parses the whole text it is given, so a 2 MB mail once cost 1.85 s on
# every search it matched. The opening holds the match for nearly every mail; a later match still finds the
# ticket (the search document covers SEARCH_MAX_CHARS), its snippet then being the body's opening.
SNIPPET_SOURCE_CHARS = SEARCH_EXCERPT_CHARS
MARKERS = re.compile(f"({re.escape(START)}|{re.escape(STOP)}|{re.escape(FRAGMENT_DELIMITER)})")


def snippet_html(snippet: str) -> str:
    """The headline escaped, with only the match markers turned into <mark>."""
    return mark_safe(escape(snippet or "").replace(START, "<mark>").replace(STOP, "</mark>"))


def restore_accents(headline: str, original: str) -> str:
    """Headlines are cut from the accent-folded text (so folded query words match); folding maps one
    character to one, so each piece of the headline stands at the same place in the original: copy it back."""
    folded = original.translate(UNACCENT_TABLE)
    pieces, cursor = [], 0
    for piece in MARKERS.split(headline or ""):
        at = -1 if piece in {START, STOP, FRAGMENT_DELIMITER} or not piece else folded.find(piece, cursor)
        if at < 0:
            pieces.append(piece)
            continue
        pieces.append(original[at : at + len(piece)])
        cursor = at + len(piece)
    return "".join(pieces)


@dataclass
class SearchHit:
    ticket: Ticket
    rank: float
    snippet: str


def folded_query(text: str) -> str:
    """What is searched for: `text` with its spaces collapsed, at most 200 characters, its accents folded as the
    search documents fold them (tickets.models.search_document)."""
    return " ".join((text or "").split())[:200].translate(UNACCENT_TABLE)


def search_tickets(
    user: User, text: str, *, offset: int = 0, limit: int = 25, fields: Sequence[str] | None = None
) -> tuple[list[SearchHit], bool]:
    """Tickets the user can see that match `text`, best first, with a highlighted snippet. Returns the page
    of hits and whether more follow. Two queries: the ranked candidates, then the page's tickets with their
    snippets: every field of the ticket, its queue, requester and assignee, or only `fields` (names as
    `QuerySet.only` takes them; the search page's, `rows.HIT_FIELDS`)."""
    query = folded_query(text)
    if not query:
        return [], False
    # Candidates are the most recent matches of each source (subjects, message bodies), found through
    # their GIN index or by walking the primary key backwards, whichever PostgreSQL judges cheaper; only
    # those are ranked. A word found in a large share of all mail thus costs no more than a rare one.
    visible = db.ticket_where(selectors.tickets_visible_to(user))
    address = text.strip() if "@" in text and " " not in text.strip() else None
    ranks: dict[int, float] = {}
    for pk, rank in db.search_candidates(visible, query, limit=MAX_RESULTS, address=address):
        ranks[pk] = max(ranks.get(pk, 0.0), rank)
    ordered = sorted(ranks.items(), key=lambda item: (-item[1], -item[0]))
    page = ordered[offset : offset + limit]
    has_more = len(ordered) > offset + limit
    if not page:
        return [], has_more
    # The best-matching message of each ticket on the page gives the body snippet, cut from its bounded
    # opening: the headline and the opening it was cut from, to restore the accents.
    found = Ticket.objects.filter(pk__in=[pk for pk, _ in page])
    if fields is None:
        found = found.select_related("queue", "requester", "assignee").defer("search_document")
    else:
        related = sorted({name.split("__")[0] for name in fields if "__" in name})
        found = found.select_related(*related).only(*fields)
    snippets = db.search_snippets(query, HEADLINE_OPTIONS, SNIPPET_SOURCE_CHARS)
    tickets: dict[int, Any] = {t.pk: t for t in found.annotate(**snippets)}  # with `snippet`, `body_snippet`
    hits = []
    for pk, rank in page:
        ticket = tickets[pk]
        headline, opening = ticket.body_snippet or ("", "")
        snippet = restore_accents(headline, opening) or restore_accents(ticket.snippet, ticket.subject)
        hits.append(SearchHit(ticket, rank, snippet_html(snippet)))
    return hits, has_more
