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
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchConfig, SearchHeadline, SearchQuery, SearchRank
from django.db.models import Case, Exists, F, FloatField, Func, OuterRef, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce, Left
from django.utils.html import escape
from django.utils.safestring import mark_safe

from tickets import db, selectors
from tickets.models import SEARCH_CONFIGS, SEARCH_EXCERPT_CHARS, UNACCENT_TABLE, Message, Ticket, unaccent

# Ranking looks at this many recent matches per source; deeper pages of a vague query are not useful.
MAX_RESULTS = 200
START, STOP, FRAGMENT_DELIMITER = "[[[", "]]]", " ... "
HEADLINE_OPTIONS: dict[str, Any] = {
    "max_words": 30, "min_words": 12, "max_fragments": 2, "start_sel": START, "stop_sel": STOP,
    "fragment_delimiter": FRAGMENT_DELIMITER,
}  # fmt: skip
# Snippets are cut from a body's first SEARCH_EXCERPT_CHARS characters, stored apart for a long body
# (Message.search_excerpt): ts_headline parses the whole text it is given, so a 2 MB mail once cost 1.85 s on
# every search it matched. The opening holds the match for nearly every mail; a later match still finds the
# ticket (the search document covers SEARCH_MAX_CHARS), its snippet then being the body's opening.
SNIPPET_SOURCE_CHARS = SEARCH_EXCERPT_CHARS
MARKERS = re.compile(f"({re.escape(START)}|{re.escape(STOP)}|{re.escape(FRAGMENT_DELIMITER)})")


def headline_config(language_field: str) -> SearchConfig:
    return SearchConfig(
        Case(When(**{language_field: "en"}, then=Value(SEARCH_CONFIGS[1])), default=Value(SEARCH_CONFIGS[0]))
    )


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


def build_query(text: str) -> SearchQuery | None:
    # Fold accents as the search documents do (tickets.models.search_document).
    text = " ".join((text or "").split())[:200].translate(UNACCENT_TABLE)
    if not text:
        return None
    first, second = (SearchQuery(text, config=config, search_type="websearch") for config in SEARCH_CONFIGS)
    return first | second


def _snippet_source() -> Coalesce:
    """A body's opening for its snippet: the stored excerpt of a long body, else the (short) body itself.
    Bodies written before excerpts existed and not yet filled (fill_search_excerpts) are cut as they are read."""
    return Coalesce(F("search_excerpt"), Left("body_text", SNIPPET_SOURCE_CHARS))


def search_tickets(
    user: User, text: str, *, offset: int = 0, limit: int = 25, fields: Sequence[str] | None = None
) -> tuple[list[SearchHit], bool]:
    """Tickets the user can see that match `text`, best first, with a highlighted snippet. Returns the page
    of hits and whether more follow. Two queries: the ranked candidates, then the page's tickets with their
    snippets: every field of the ticket, its queue, requester and assignee, or only `fields` (names as
    `QuerySet.only` takes them; the search page's, `rows.HIT_FIELDS`)."""
    query = build_query(text)
    if query is None:
        return [], False
    visible = selectors.tickets_visible_to(user)
    # Candidates are the most recent matches of each source (subjects, message bodies), found through
    # their GIN index or by walking the primary key backwards, whichever PostgreSQL judges cheaper; only
    # those are ranked. A word found in a large share of all mail thus costs no more than a rare one.
    subject_rows = (
        visible.filter(search_document=query)
        .order_by("-pk")
        .annotate(rank=SearchRank(F("search_document"), query) * Value(2.0))  # a subject match counts double
        .values_list("pk", "rank")[:MAX_RESULTS]
    )
    message_rows = (
        Message.objects.filter(search_document=query)
        .filter(Exists(visible.filter(pk=OuterRef("ticket_id"))))
        .order_by("-pk")
        .annotate(rank=SearchRank(F("search_document"), query))
        .values_list("ticket_id", "rank")[: MAX_RESULTS * 2]
    )
    candidates = subject_rows.union(message_rows, all=True)
    if "@" in text and " " not in text.strip():
        address_rows = (
            visible.filter(requester__email__iexact=text.strip())
            .order_by("-pk")
            .annotate(rank=Value(10.0, output_field=FloatField()))
            .values_list("pk", "rank")[:MAX_RESULTS]
        )
        candidates = candidates.union(address_rows, all=True)
    ranks: dict[int, float] = {}
    for pk, rank in db.serial_rows(candidates):
        ranks[pk] = max(ranks.get(pk, 0.0), rank)
    ordered = sorted(ranks.items(), key=lambda item: (-item[1], -item[0]))
    page = ordered[offset : offset + limit]
    has_more = len(ordered) > offset + limit
    if not page:
        return [], has_more
    # The best-matching message of each ticket on the page gives the body snippet (the first of equals),
    # cut from its bounded opening: the headline and the opening it was cut from, to restore the accents.
    source = _snippet_source()
    best_message = (
        Message.objects.filter(ticket_id=OuterRef("pk"), search_document=query)
        .annotate(rank=SearchRank(F("search_document"), query))
        .order_by("-rank", "pk")
        .annotate(
            headline_and_opening=Func(
                SearchHeadline(unaccent(source), query, config=headline_config("ticket__language"), **HEADLINE_OPTIONS),
                source,
                template="ARRAY[%(expressions)s]",
                output_field=ArrayField(TextField()),
            )
        )
        .values("headline_and_opening")[:1]
    )
    found = Ticket.objects.filter(pk__in=[pk for pk, _ in page])
    if fields is None:
        found = found.select_related("queue", "requester", "assignee").defer("search_document")
    else:
        related = sorted({name.split("__")[0] for name in fields if "__" in name})
        found = found.select_related(*related).only(*fields)
    tickets = {
        t.pk: t
        for t in found.annotate(
            snippet=SearchHeadline(
                unaccent(F("subject")), query, config=headline_config("language"), **HEADLINE_OPTIONS
            ),
            body_snippet=Subquery(best_message, output_field=ArrayField(TextField())),
        )
    }
    hits = []
    for pk, rank in page:
        ticket = tickets[pk]
        headline, opening = ticket.body_snippet or ("", "")
        snippet = restore_accents(headline, opening) or restore_accents(ticket.snippet, ticket.subject)
        hits.append(SearchHit(ticket, rank, snippet_html(snippet)))
    return hits, has_more
