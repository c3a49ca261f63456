"""Suggestions that need no model: the solved tickets most like this one, what solved them, and the macro,
queue, priority and tags they suggest.

Neighbours are found with the full-text search documents the workspace search uses (GIN indexes on the
ticket subject and the message bodies, both pt and en configurations), with the words of the ticket OR-ed
rather than AND-ed: a new mail shares some words with the right old ticket, rarely all. Candidates are
always drawn from `tickets_visible_to(user)`, so a restricted ticket is never suggested to someone who
cannot open it.

Measured on 23,000 labelled solved tickets (46,000 messages, `tests/bench/assist.py`), analysed: the whole
panel took 25 ms and 7 queries, the slowest (message bodies) 15 ms. On the QUICK load data set (50,000
tickets, 14,005 answered with a macro, `make bench QUICK=1`), for an associate of every queue, on a 2-core
machine kept at a load average near 18 by other work: 11 queries, a median of 450 ms against 186 ms for the
ranking that kept the common words, under the same load. The rare-word query matches few messages, and
PostgreSQL then hashes every visible solved ticket; the queue's habits add one join. It loads after the
ticket page.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TypeVar

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, QuerySet
from django.utils.functional import Promise

from sop.selectors import macros_for
from tickets import db, selectors
from tickets.models import SEARCH_CONFIGS, UNACCENT_TABLE, Message, Ticket, TicketEvent

SOLVED_STATUSES = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
# The most recent matches of each source are ranked, as in the workspace search: a word found in a large
# share of all mail costs no more than a rare one.
CANDIDATES = 200
# Neighbours that vote for the macro, queue, priority and tags; the first three are shown.
VOTERS = 10
SHOWN = 3
# Words of the ticket that make the query (its subject and the opening of its first message).
QUERY_WORDS = 40
QUERY_SOURCE_CHARS = 2_000
WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)
# The queue's latest macro uses read to fill the macro slots the neighbours leave empty.
QUEUE_HABIT_EVENTS = 500
SOLUTION_LINES = 3
SOLUTION_CHARS = 280

K = TypeVar("K")


@dataclass
class Neighbour:
    ticket: Ticket
    score: float
    solution: str = ""
    macro_name: str = ""


@dataclass
class Vote:
    value: int
    label: str | Promise
    weight: float


@dataclass
class Suggestions:
    neighbours: list[Neighbour] = field(default_factory=list)
    macros: list[Vote] = field(default_factory=list)
    queues: list[Vote] = field(default_factory=list)
    priority: Vote | None = None
    tags: list[str] = field(default_factory=list)


def query_text(ticket: Ticket) -> str:
    """What the ticket is about: its subject and the opening of the requester's first message."""
    first = (
        ticket.messages.filter(direction=Message.Direction.IN)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
        .first()
    )
    return f"{ticket.subject}\n{(first or '')[:QUERY_SOURCE_CHARS]}"


# A word found in more than this share of all subjects or message bodies ("conta", "olá", "obrigado") says
# little about what one ticket is about, and as one of the OR-ed words it fills the candidates with the most recent mail
# that happens to contain it. Such words are left out when PostgreSQL's statistics (ANALYZE, kept in
# `pg_stats`) name them among the most common lexemes; without statistics (a new database) every word counts.
# On the load data set (`make bench`, `assist_*`) this lifts top-1 macro accuracy from below the baseline to
# above it (`tests/bench/assist.py`).
COMMON_WORD_SHARE = 0.05
COMMON_WORDS_SECONDS = 600
_common: tuple[float | None, list[str]] = (None, [])


def common_lexemes() -> list[str]:
    """The subjects' and message bodies' lexemes above COMMON_WORD_SHARE, as the last ANALYZE counted them;
    read at most once per COMMON_WORDS_SECONDS per process (losing it costs one catalog read)."""
    global _common
    read_at, lexemes = _common
    now = time.monotonic()
    if read_at is None or now - read_at > COMMON_WORDS_SECONDS:
        lexemes = db.common_search_lexemes(COMMON_WORD_SHARE)
        _common = (now, lexemes)
    return lexemes


def _without_common_words(words: list[str]) -> list[str]:
    """`words` less those whose lexemes (either config) are common; all of them if every one is."""
    common = common_lexemes()
    if not common or not words:
        return words
    kept = db.words_without_lexemes(words, common, SEARCH_CONFIGS)
    return kept or words


def build_any_words_query(text: str) -> SearchQuery | None:
    """A tsquery matching any of the text's words (folded as the search documents are, the most common
    left out), in both configs."""
    words: list[str] = []
    for word in WORD.findall((text or "").translate(UNACCENT_TABLE).lower()):
        if word not in words:
            words.append(word)
        if len(words) >= 2 * QUERY_WORDS:
            break
    words = _without_common_words(words)[:QUERY_WORDS]
    if not words:
        return None
    raw = " | ".join(words)  # letters and digits only: safe in a raw tsquery
    first, second = (SearchQuery(raw, config=config, search_type="raw") for config in SEARCH_CONFIGS)
    return first | second


def rank_neighbours(candidates: QuerySet[Ticket], text: str, *, limit: int = VOTERS) -> list[tuple[int, float]]:
    """(ticket id, score) of the candidates most like `text`, best first. Two indexed queries: subjects and
    message bodies, each through its GIN index, each stopping at the most recent CANDIDATES matches."""
    query = build_any_words_query(text)
    if query is None:
        return []
    scores: dict[int, float] = defaultdict(float)
    subject_rows = (
        candidates.filter(search_document=query)
        .annotate(rank=SearchRank(F("search_document"), query))
        .order_by("-pk")
        .values_list("pk", "rank")[:CANDIDATES]
    )
    for pk, rank in subject_rows:
        scores[pk] += 2 * rank  # a subject match counts double, as in the workspace search
    message_rows = (
        Message.objects.filter(search_document=query, ticket__in=candidates.values("pk"))
        .annotate(rank=SearchRank(F("search_document"), query))
        .order_by("-pk")
        .values_list("ticket_id", "rank")[: CANDIDATES * 2]
    )
    best: dict[int, float] = {}
    for pk, rank in message_rows:
        best[pk] = max(best.get(pk, 0.0), rank)
    for pk, rank in best.items():
        scores[pk] += rank
    return sorted(scores.items(), key=lambda item: (-item[1], -item[0]))[:limit]


def macros_used_on(ticket_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """The last macro applied on each ticket: ticket id -> (macro id, macro name)."""
    used: dict[int, tuple[int, str]] = {}
    for ticket_id, value in (
        TicketEvent.objects.filter(ticket_id__in=list(ticket_ids), kind=TicketEvent.Kind.MACRO_APPLIED)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "new_value")
    ):
        if isinstance(value, dict) and value.get("macro"):
            used[ticket_id] = (value["macro"], str(value.get("name") or ""))
    return used


def vote_macros(ranked: list[tuple[int, float]], used: dict[int, tuple[int, str]]) -> list[Vote]:
    weights: dict[int, float] = defaultdict(float)
    labels: dict[int, str] = {}
    for pk, score in ranked:
        if pk in used:
            macro_id, name = used[pk]
            weights[macro_id] += score
            labels[macro_id] = name
    return [Vote(macro_id, labels[macro_id], weight) for macro_id, weight in _best(weights)]


def queue_habits(candidates: QuerySet[Ticket], queue_id: int) -> list[tuple[int, str]]:
    """(macro id, name) of the macros most used on the queue's latest solved tickets among `candidates`,
    most used first."""
    counts: Counter[tuple[int, str]] = Counter()
    for value in (
        TicketEvent.objects.filter(
            kind=TicketEvent.Kind.MACRO_APPLIED, ticket__in=candidates.filter(queue_id=queue_id).values("pk")
        )
        .order_by("-created_at")
        .values_list("new_value", flat=True)[:QUEUE_HABIT_EVENTS]
    ):
        if isinstance(value, dict) and value.get("macro"):
            counts[(value["macro"], str(value.get("name") or ""))] += 1
    return [macro for macro, _ in counts.most_common()]


def with_queue_habits(votes: list[Vote], habits: list[tuple[int, str]], *, slots: int) -> list[Vote]:
    """The neighbours' first choice, then the queue's most used macro, then turn and turn about: the
    neighbours know what this mail is about, the queue what its team answers most (and fills the slots when
    few neighbours used a macro)."""
    queue_choices = [Vote(macro_id, name, 0.0) for macro_id, name in habits]
    chosen: list[Vote] = []
    seen: set = set()
    for vote in (vote for pair in zip_longest(votes, queue_choices) for vote in pair if vote is not None):
        if len(chosen) >= slots:
            break
        if vote.value not in seen:
            chosen.append(vote)
            seen.add(vote.value)
    return chosen


def _best(weights: Mapping[K, float]) -> list[tuple[K, float]]:
    return sorted(weights.items(), key=lambda item: (-item[1], str(item[0])))


def _solution(messages: list[Message]) -> str:
    """The first lines of the last public reply: what the associate told the requester."""
    lines = [line.strip() for line in messages[-1].body_text.splitlines() if line.strip()] if messages else []
    text = "\n".join(lines[:SOLUTION_LINES])
    return text if len(text) <= SOLUTION_CHARS else text[: SOLUTION_CHARS - 1].rstrip() + "…"


def suggestions_for(user: User, ticket: Ticket) -> Suggestions:
    """Suggestions for `ticket` (which the caller read through `ticket_or_404`), drawn only from solved
    tickets that `user` may open."""
    candidates = selectors.tickets_visible_to(user).filter(status__in=SOLVED_STATUSES).exclude(pk=ticket.pk)
    ranked = rank_neighbours(candidates, query_text(ticket))
    if not ranked:
        return Suggestions()
    ids = [pk for pk, _ in ranked]
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=ids).select_related("queue")}
    used = macros_used_on(ids)
    shown_ids = ids[:SHOWN]
    replies: dict[int, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(ticket_id__in=shown_ids, direction=Message.Direction.OUT).order_by(
        "created_at", "id"
    ):
        replies[message.ticket_id].append(message)
    neighbours = [
        Neighbour(tickets[pk], score, _solution(replies[pk]), used.get(pk, (0, ""))[1]) for pk, score in ranked[:SHOWN]
    ]
    queue_weights: dict[int, float] = defaultdict(float)
    priority_weights: dict[int, float] = defaultdict(float)
    tag_weights: dict[str, float] = defaultdict(float)
    for pk, score in ranked:
        neighbour = tickets[pk]
        queue_weights[neighbour.queue_id] += score
        priority_weights[neighbour.priority] += score
        for tag in neighbour.tags:
            tag_weights[tag] += score
    # Only macros the user may insert (shared ones and their own, active).
    votes = with_queue_habits(vote_macros(ranked, used), queue_habits(candidates, ticket.queue_id), slots=2 * SHOWN)
    allowed = set(macros_for(user).filter(pk__in=[vote.value for vote in votes]).values_list("pk", flat=True))
    usable = [vote for vote in votes if vote.value in allowed]
    queue_names = {t.queue_id: t.queue.name for t in tickets.values()}
    priority_id, priority_weight = _best(priority_weights)[0]
    total = sum(score for _, score in ranked) or 1.0
    return Suggestions(
        neighbours=neighbours,
        macros=usable[:3],
        queues=[Vote(pk, queue_names[pk], weight / total) for pk, weight in _best(queue_weights)[:2]],
        priority=Vote(priority_id, Ticket.Priority(priority_id).label, priority_weight / total),
        # Tags that at least a third of the neighbours' weight carries.
        tags=[
            tag
            for tag, weight in sorted(tag_weights.items(), key=lambda item: item[1], reverse=True)[:5]
            if weight >= total / 3
        ],
    )
