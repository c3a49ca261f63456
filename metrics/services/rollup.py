"""Daily rollups: rebuild whole days of `DailyStats` (and the counts of `QueueDay`) from the event log.

A day's rows depend only on what the database holds, never on earlier runs, so re-running any range
changes nothing, and a late event is picked up by rebuilding the days it touches (`touched_days`).
"""

from __future__ import annotations

import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk import generations
from metrics import definitions
from metrics.definitions import Event, Key, TicketHistory
from metrics.models import CsatSurvey, DailyStats, Heartbeat, QueueDay, Review
from metrics.selectors import ROLLUPS
from tickets import db
from tickets.models import Profile, Queue, SlaAlert, Ticket, TicketEvent

Kind = TicketEvent.Kind
# Rollups of overlapping days must not interleave their delete-and-insert.
ADVISORY_LOCK = 7_000_007
TICKET_CHUNK = 2000


@dataclass
class RollupResult:
    first: date
    last: date
    tickets: int = 0
    rows: int = 0


def reporting_tz() -> tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def day_bounds(first: date, last: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    tz = tz or reporting_tz()
    return datetime.combine(first, time.min, tz), datetime.combine(last + timedelta(days=1), time.min, tz)


def local_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), reporting_tz()).date()


def rollup_days(first: date, last: date, *, now: datetime | None = None) -> RollupResult:
    """Rebuild the rollup rows of every day from `first` to `last` (inclusive)."""
    if last < first:
        raise ValueError("the range ends before it starts")
    now = now or timezone.now()
    tz = reporting_tz()
    start, end = day_bounds(first, last, tz)
    result = RollupResult(first, last)
    with transaction.atomic():
        db.advisory_xact_lock(ADVISORY_LOCK)
        rows: dict[Key, Counter] = defaultdict(Counter)
        result.tickets = _add_log_contributions(rows, first, last, start, end, tz)
        _add_heartbeats(rows, start, end, tz)
        _add_reviews(rows, start, end, tz)
        _add_csat(rows, start, end, tz)
        result.rows = _write_daily(rows, first, last)
        _write_queue_days(first, last, start, end, tz, now)
        # Written in bulk, without signals: the dashboards kept before are stale.
        generations.replace(ROLLUPS)
    return result


def _add_log_contributions(
    rows: dict[Key, Counter], first: date, last: date, start: datetime, end: datetime, tz: tzinfo
) -> int:
    # Every ticket with an event in the range, read whole: a definition may need events before or after it.
    ticket_ids = sorted(
        TicketEvent.objects.filter(kind__in=definitions.KINDS, created_at__gte=start, created_at__lt=end)
        # Without clearing the model's ordering, DISTINCT would run over (ticket, created_at, id): one id per
        # event, and a ticket split across two chunks would be counted twice.
        .order_by()
        .values_list("ticket_id", flat=True)
        .distinct()
    )
    queue_ids_by_slug = dict(Queue.objects.values_list("slug", "pk"))
    for offset in range(0, len(ticket_ids), TICKET_CHUNK):
        chunk = ticket_ids[offset : offset + TICKET_CHUNK]
        for history in _histories(chunk):
            for key, values in definitions.ticket_contributions(history, tz, queue_ids_by_slug).items():
                if first <= key[0] <= last:
                    rows[key].update(values)
    return len(ticket_ids)


def _histories(ticket_ids: list[int]) -> list[TicketHistory]:
    tickets = {
        pk: TicketHistory(
            ticket_id=pk,
            created_at=created_at,
            queue_id=queue_id,
            language=language,
            events=[],
            first_response_due_at=first_response_due_at,
            has_resolution_target=resolution_due_at is not None,
        )
        for pk, created_at, queue_id, language, first_response_due_at, resolution_due_at in Ticket.objects.filter(
            pk__in=ticket_ids
        ).values_list("pk", "created_at", "queue_id", "language", "first_response_due_at", "resolution_due_at")
    }
    events = (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind__in=definitions.KINDS)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "kind", "created_at", "actor_id", "old_value", "new_value")
    )
    for ticket_id, kind, at, actor_id, old, new in events.iterator(chunk_size=10_000):
        tickets[ticket_id].events.append(Event(kind, at, actor_id, old, new))
    breaches = SlaAlert.objects.filter(ticket_id__in=ticket_ids, kind=SlaAlert.Kind.BREACH).values_list(
        "ticket_id", "clock", "due_at"
    )
    for ticket_id, clock, due_at in breaches:
        tickets[ticket_id].breaches.setdefault(clock, []).append(due_at)
    return list(tickets.values())


def _add_heartbeats(rows: dict[Key, Counter], start: datetime, end: datetime, tz: tzinfo) -> None:
    beats = Heartbeat.objects.filter(at__gte=start, at__lt=end).values_list(
        "at", "user_id", "ticket__queue_id", "ticket__language"
    )
    for at, user_id, queue_id, language in beats.iterator(chunk_size=10_000):
        rows[(definitions.day_of(at, tz), user_id, queue_id, language)]["handle_seconds"] += (
            definitions.HEARTBEAT_SECONDS
        )


def _add_reviews(rows: dict[Key, Counter], start: datetime, end: datetime, tz: tzinfo) -> None:
    reviews = Review.objects.filter(created_at__gte=start, created_at__lt=end, calibration__isnull=True).values_list(
        "created_at", "associate_id", "ticket__queue_id", "ticket__language", "score"
    )
    for at, associate_id, queue_id, language, score in reviews:
        row = rows[(definitions.day_of(at, tz), associate_id, queue_id, language)]
        row["qa_reviews"] += 1
        row["qa_score_sum"] += score  # type: ignore[assignment]  # a Counter sums floats too
        row[definitions.qa_bucket(score)] += 1


def _add_csat(rows: dict[Key, Counter], start: datetime, end: datetime, tz: tzinfo) -> None:
    surveys = CsatSurvey.objects.filter(answered_at__gte=start, answered_at__lt=end, rating__isnull=False).values_list(
        "answered_at", "associate_id", "ticket__queue_id", "ticket__language", "rating"
    )
    for at, associate_id, queue_id, language, rating in surveys:
        assert at is not None and rating is not None  # the filter above
        row = rows[(definitions.day_of(at, tz), associate_id, queue_id, language)]
        row["csat_responses"] += 1
        row["csat_sum"] += rating
        row[f"csat_{rating}"] += 1


def _write_daily(rows: dict[Key, Counter], first: date, last: date) -> int:
    associate_ids = {key[1] for key in rows if key[1] is not None}
    queue_ids = {key[2] for key in rows if key[2] is not None}
    associate_teams = dict(Profile.objects.filter(user_id__in=associate_ids).values_list("user_id", "team_id"))
    queue_teams = dict(Queue.objects.filter(pk__in=queue_ids).values_list("pk", "team_id"))
    DailyStats.objects.filter(day__gte=first, day__lte=last).delete()
    objects = []
    for (day, associate_id, queue_id, language), values in rows.items():
        if not any(values.values()):
            continue
        team_id = (
            associate_teams.get(associate_id)
            if associate_id is not None
            else queue_teams.get(queue_id)
            if queue_id is not None
            else None
        )
        objects.append(
            DailyStats(
                day=day,
                associate_id=associate_id,
                queue_id=queue_id,
                language=language or "",
                team_id=team_id,
                **{name: values[name] for name in definitions.SUM_FIELDS if values.get(name)},
            )
        )
    DailyStats.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


def _write_queue_days(first: date, last: date, start: datetime, end: datetime, tz: tzinfo, now: datetime) -> None:
    """Recount breaches per queue and day; take the backlog snapshot when today is in the range."""
    found: dict[tuple[date, int, str], dict] = defaultdict(lambda: {"sla_breaches": 0})
    breaches = SlaAlert.objects.filter(
        kind=SlaAlert.Kind.BREACH, recorded_at__gte=start, recorded_at__lt=end, queue__isnull=False
    ).values_list("recorded_at", "queue_id", "ticket__language")
    for at, queue_id, language in breaches:
        found[(definitions.day_of(at, tz), queue_id, language)]["sla_breaches"] += 1
    today = local_today(now)
    snapshot = first <= today <= last
    if snapshot:
        backlog = Ticket.objects.filter(status__in=Ticket.ACTIVE_STATUSES).values_list(
            "queue_id", "language", "created_at", "assignee_id"
        )
        for queue_id, language, created_at, assignee_id in backlog.iterator(chunk_size=10_000):
            values = found[(today, queue_id, language)]
            values["backlog"] = values.get("backlog", 0) + 1
            values["backlog_age_seconds"] = values.get("backlog_age_seconds", 0) + int(
                (now - created_at).total_seconds()
            )
            values["unassigned"] = values.get("unassigned", 0) + (assignee_id is None)
            values["snapshot_at"] = now
    queue_teams = dict(Queue.objects.values_list("pk", "team_id"))
    QueueDay.objects.filter(day__gte=first, day__lte=last).update(sla_breaches=0)
    if snapshot:
        QueueDay.objects.filter(day=today).update(backlog=0, backlog_age_seconds=0, unassigned=0, snapshot_at=now)
    objects = [
        QueueDay(day=day, queue_id=queue_id, language=language, team_id=queue_teams.get(queue_id), **values)
        for (day, queue_id, language), values in found.items()
    ]
    # Past days keep the backlog snapshot their last same-day rollup took.
    snapshot_fields = ["sla_breaches", "team", "backlog", "backlog_age_seconds", "unassigned", "snapshot_at"]
    today_rows = [row for row in objects if snapshot and row.day == today]
    other_rows = [row for row in objects if not (snapshot and row.day == today)]
    for batch, fields in ((today_rows, snapshot_fields), (other_rows, ["sla_breaches", "team"])):
        if batch:
            QueueDay.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["day", "queue", "language"], update_fields=fields
            )


def touched_days(start: datetime, end: datetime) -> set[date]:
    """Earlier days whose numbers events in [start, end) change: a reopen counts against the solves of
    the 7 days before it."""
    tz = reporting_tz()
    reopened = TicketEvent.objects.filter(
        Q(kind__in=[Kind.REOPENED, Kind.FOLLOW_UP_OPENED])
        | Q(kind=Kind.STATUS_CHANGED, old_value__in=[Ticket.Status.SOLVED, Ticket.Status.CLOSED]),
        created_at__gte=start,
        created_at__lt=end,
    ).values("ticket_id")
    solves = TicketEvent.objects.filter(
        ticket_id__in=reopened,
        kind=Kind.STATUS_CHANGED,
        new_value=Ticket.Status.SOLVED,
        created_at__gte=start - definitions.REOPEN_WINDOW,
        created_at__lt=start,
    ).values_list("created_at", flat=True)
    return {definitions.day_of(at, tz) for at in solves}


def rollup_recent(day: date, *, now: datetime | None = None) -> list[RollupResult]:
    """Rebuild `day` and every earlier day that events of `day` changed."""
    start, end = day_bounds(day, day)
    days = sorted({day} | touched_days(start, end))
    return [rollup_days(d, d, now=now) for d in days]
