"""Reads for the team-lead SLA health page: breached and at-risk tickets per queue now, compliance per day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from tickets import selectors
from tickets.models import Queue, SlaAlert, SlaClock, Ticket


def breached_q(now: datetime) -> Q:
    return (
        Q(first_responded_at__isnull=True, first_response_due_at__lte=now)
        | Q(next_response_due_at__lte=now)
        | Q(resolution_paused_at__isnull=True, resolution_due_at__lte=now)
    )


def at_risk_q(now: datetime) -> Q:
    warned = (
        Q(first_responded_at__isnull=True, first_response_warn_at__lte=now)
        | Q(next_response_warn_at__lte=now)
        | Q(resolution_paused_at__isnull=True, resolution_warn_at__lte=now)
    )
    return warned & ~breached_q(now)


def per_queue(user: User, now: datetime | None = None) -> list[Queue]:
    now = now or timezone.now()
    # Only the tickets the user can open count, as in every other count (selectors.queues_with_open_counts).
    active = Q(
        tickets__status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING, Ticket.Status.ON_HOLD],
        tickets__in=selectors.tickets_visible_to(user).values("pk"),
    )

    def prefixed(q: Q) -> Q:
        # The same conditions, read from the queue through its tickets.
        children: list[Q | tuple[str, Any]] = []
        for child in q.children:
            if isinstance(child, Q):
                children.append(prefixed(child))
            else:
                lookup, value = cast(tuple[str, Any], child)
                children.append((f"tickets__{lookup}", value))
        return Q(*children, _connector=q.connector, _negated=q.negated)

    rows = (
        selectors.queues_visible_to(user)
        .annotate(
            open_count=Count("tickets", filter=active),
            breached=Count("tickets", filter=active & prefixed(breached_q(now))),
            at_risk=Count("tickets", filter=active & prefixed(at_risk_q(now))),
        )
        .order_by("kind", "name")
    )
    return list(rows)


def tickets_needing_attention(user: User, now: datetime | None = None, limit: int = 50) -> QuerySet:
    now = now or timezone.now()
    return (
        selectors.tickets_visible_to(user)
        .filter(status__in=Ticket.ACTIVE_STATUSES)
        .filter(breached_q(now) | at_risk_q(now))
        .select_related("queue", "assignee")
        .order_by("-priority", "created_at")[:limit]
    )


def daily_compliance(user: User, days: int = 14, now: datetime | None = None) -> list[dict]:
    """Per local day: first responses given and within target, resolutions and those never breached."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now, zone).date()
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()), zone)
    tickets = Ticket.objects.filter(queue__in=selectors.queues_visible_to(user))
    responses = (
        tickets.filter(first_responded_at__gte=since, first_response_due_at__isnull=False)
        .annotate(day=TruncDate("first_responded_at", tzinfo=zone))
        .values("day")
        .annotate(total=Count("pk"), met=Count("pk", filter=Q(first_responded_at__lte=F("first_response_due_at"))))
    )
    breached = SlaAlert.objects.filter(ticket=OuterRef("pk"), clock=SlaClock.RESOLUTION, kind=SlaAlert.Kind.BREACH)
    resolutions = (
        tickets.filter(solved_at__gte=since, resolution_due_at__isnull=False)
        .annotate(day=TruncDate("solved_at", tzinfo=zone), breached=Exists(breached))
        .values("day")
        .annotate(total=Count("pk"), met=Count("pk", filter=Q(breached=False)))
    )
    by_day = {
        first_day + timedelta(days=n): {"responses": 0, "responses_met": 0, "resolved": 0, "resolved_met": 0}
        for n in range(days)
    }
    for row in responses:
        if row["day"] in by_day:
            by_day[row["day"]].update(responses=row["total"], responses_met=row["met"])
    for row in resolutions:
        if row["day"] in by_day:
            by_day[row["day"]].update(resolved=row["total"], resolved_met=row["met"])
    result = []
    for day, counts in sorted(by_day.items(), reverse=True):
        total = counts["responses"] + counts["resolved"]
        met = counts["responses_met"] + counts["resolved_met"]
        result.append({"day": day, **counts, "percent": round(100 * met / total) if total else None})
    return result
