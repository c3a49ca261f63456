"""How good the suggestions are: on a held-out slice of tickets whose macro is known, top-1 and top-3 macro
accuracy and top-1 queue accuracy, against the simple baselines (the most used macros of the ticket's queue;
the most common queue of the ticket's language). Used by `make bench` and by the tests."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass

from django.db.models import F, QuerySet

from assist.selectors import (
    SHOWN,
    SOLVED_STATUSES,
    macros_used_on,
    query_text,
    rank_neighbours,
    vote_macros,
    with_queue_habits,
)
from tickets.models import Ticket, TicketEvent


@dataclass
class Accuracy:
    held_out: int
    macro_top1: float
    macro_top3: float
    queue_top1: float
    baseline_macro_top1: float
    baseline_macro_top3: float
    baseline_queue_top1: float

    def as_dict(self) -> dict:
        return asdict(self)


def labelled_tickets() -> QuerySet[Ticket]:
    """Solved tickets on which a macro was applied: the ones whose right answer is known."""
    with_macro = TicketEvent.objects.filter(kind=TicketEvent.Kind.MACRO_APPLIED).values("ticket_id")
    return Ticket.objects.filter(status__in=SOLVED_STATUSES, pk__in=with_macro)


def evaluate(tickets: QuerySet[Ticket] | None = None, *, every: int = 5, limit: int | None = None) -> Accuracy:
    """Hold out the labelled tickets whose id is a multiple of `every`; suggest for each from the others only.
    The split is a condition in SQL, not a list of ids, so the neighbour queries stay what the page runs.
    With `limit`, at most that many of the held-out tickets are asked about, spread evenly over them."""
    tickets = (labelled_tickets() if tickets is None else tickets).annotate(fold=F("pk") % every)
    training_qs = tickets.exclude(fold=0)
    training = list(training_qs.values_list("pk", "queue_id", "language"))
    held_out = list(tickets.filter(fold=0).order_by("pk").values_list("pk", "queue_id", "language"))
    used = macros_used_on([pk for pk, _, _ in training + held_out])
    held_out = [row for row in held_out if row[0] in used]
    if limit is not None and len(held_out) > limit:
        held_out = held_out[:: -(-len(held_out) // limit)]
    held_ids = {pk for pk, _, _ in held_out}

    macros_by_queue: dict[int, Counter] = defaultdict(Counter)
    queues_by_language: dict[str, Counter] = defaultdict(Counter)
    queue_of = {}
    for pk, queue_id, language in training:
        if pk in used:
            macros_by_queue[queue_id][used[pk][0]] += 1
            queues_by_language[language][queue_id] += 1
        queue_of[pk] = queue_id

    hits: Counter[str] = Counter()
    by_pk = {t.pk: t for t in Ticket.objects.filter(pk__in=held_ids)}
    for pk, queue_id, language in held_out:
        truth = used[pk][0]
        ranked = rank_neighbours(training_qs, query_text(by_pk[pk]))
        habits = [(macro, "") for macro, _ in macros_by_queue[queue_id].most_common(SHOWN)]
        macros = [vote.value for vote in with_queue_habits(vote_macros(ranked, used), habits, slots=SHOWN)]
        hits["macro_top1"] += truth in macros[:1]
        hits["macro_top3"] += truth in macros[:3]
        queue_weights: Counter = Counter()
        for neighbour, score in ranked:
            queue_weights[queue_of[neighbour]] += score  # type: ignore[assignment]  # a Counter sums floats too
        hits["queue_top1"] += bool(queue_weights) and queue_weights.most_common(1)[0][0] == queue_id
        baseline = [macro for macro, _ in macros_by_queue[queue_id].most_common(3)]
        hits["baseline_macro_top1"] += truth in baseline[:1]
        hits["baseline_macro_top3"] += truth in baseline[:3]
        common_queue = queues_by_language[language].most_common(1)
        hits["baseline_queue_top1"] += bool(common_queue) and common_queue[0][0] == queue_id
    total = len(held_out) or 1

    def share(key: str) -> float:
        return round(hits[key] / total, 3)

    return Accuracy(
        held_out=len(held_out),
        macro_top1=share("macro_top1"),
        macro_top3=share("macro_top3"),
        queue_top1=share("queue_top1"),
        baseline_macro_top1=share("baseline_macro_top1"),
        baseline_macro_top3=share("baseline_macro_top3"),
        baseline_queue_top1=share("baseline_queue_top1"),
    )
