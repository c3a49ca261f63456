"""SLA clocks on a ticket. The ticket services call the hooks below; the sweep only reads the stored times.

First response runs from the ticket's creation until the first public reply. Next response runs from a
requester's message (once the first response was given) until the next public reply. Resolution runs
while the ticket is new or open: `pending` and `on_hold` pause it, `solved` and `closed` stop it keeping
the time left, and a reopen resumes it with that time. A policy change affects clocks started after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise

from tickets.models import Queue, SlaCheck, SlaClock, SlaPolicy, Ticket
from tickets.sla.calendar import Calendar

PAUSED_STATUSES = (Ticket.Status.PENDING, Ticket.Status.ON_HOLD)
STOPPED_STATUSES = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
RUNNING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)


@dataclass(frozen=True)
class RunningClock:
    clock: str
    cycle: int
    warn_at: datetime | None
    due_at: datetime


def policy_for(queue: Queue | int, priority: int) -> SlaPolicy | None:
    """The most specific active policy: this queue and priority, then this queue, then this priority."""
    queue_id = queue.pk if isinstance(queue, Queue) else queue
    return (
        SlaPolicy.objects.filter(is_active=True)
        .filter(Q(queue_id=queue_id) | Q(queue__isnull=True), Q(priority=priority) | Q(priority__isnull=True))
        .order_by(F("queue").asc(nulls_last=True), F("priority").asc(nulls_last=True))
        .first()
    )


def calendar_for(policy: SlaPolicy | None) -> Calendar:
    if policy is None:
        return Calendar.always_open(settings.TIME_ZONE)
    return Calendar.parse(policy.time_zone, policy.business_hours, policy.holidays)


def _targets(calendar: Calendar, start: datetime, minutes: int, warning_percent: int) -> tuple[datetime, datetime]:
    seconds = minutes * 60
    return calendar.add(start, seconds * warning_percent / 100), calendar.add(start, seconds)


def running_clocks(ticket: Ticket) -> list[RunningClock]:
    """The clocks that can still warn or breach, with their stored times."""
    if ticket.status not in (*RUNNING_STATUSES, *PAUSED_STATUSES):
        return []
    clocks = []
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        clocks.append(
            RunningClock(SlaClock.FIRST_RESPONSE, 0, ticket.first_response_warn_at, ticket.first_response_due_at)
        )
    if ticket.next_response_due_at is not None:
        clocks.append(
            RunningClock(
                SlaClock.NEXT_RESPONSE,
                ticket.next_response_cycle,
                ticket.next_response_warn_at,
                ticket.next_response_due_at,
            )
        )
    if ticket.resolution_due_at is not None and ticket.resolution_paused_at is None:
        clocks.append(RunningClock(SlaClock.RESOLUTION, 0, ticket.resolution_warn_at, ticket.resolution_due_at))
    return clocks


def next_check_at(ticket: Ticket, after: datetime | None = None) -> datetime | None:
    """When the sweep must look at the ticket: the earliest warning or due time (after `after`, if given)."""
    times = [
        moment
        for clock in running_clocks(ticket)
        for moment in (clock.warn_at, clock.due_at)
        if moment is not None and (after is None or moment > after)
    ]
    return min(times, default=None)


def _clock_columns(alias: str) -> list[tuple[str, int, str, str, str, str]]:
    """Per clock of the ticket row `alias`: name, position, cycle, warning and due columns, and the SQL
    condition under which it runs (besides a due time and a watched status), as in `running_clocks`."""
    return [
        (
            SlaClock.FIRST_RESPONSE.value,
            1,
            "0",
            f"{alias}.first_response_warn_at",
            f"{alias}.first_response_due_at",
            f"{alias}.first_responded_at IS NULL",
        ),
        (
            SlaClock.NEXT_RESPONSE.value,
            2,
            f"{alias}.next_response_cycle",
            f"{alias}.next_response_warn_at",
            f"{alias}.next_response_due_at",
            "TRUE",
        ),
        (
            SlaClock.RESOLUTION.value,
            3,
            "0",
            f"{alias}.resolution_warn_at",
            f"{alias}.resolution_due_at",
            f"{alias}.resolution_paused_at IS NULL",
        ),
    ]


def _watched_sql(alias: str) -> str:
    statuses = ", ".join(f"'{status.value}'" for status in (*RUNNING_STATUSES, *PAUSED_STATUSES))
    return f"{alias}.status IN ({statuses})"


def running_clocks_sql(alias: str) -> str:
    """`running_clocks` for the ticket row `alias` in SQL: a subquery of (clock, position, cycle, warn_at,
    due_at) to join laterally, so the sweep can judge a whole batch without loading it into Python. The
    tests hold it to the same answers as `running_clocks`."""
    rows = ", ".join(
        f"('{clock}', {position}, {cycle}, {warn_at}, {due_at}, {running})"
        for clock, position, cycle, warn_at, due_at, running in _clock_columns(alias)
    )
    return (
        f"SELECT c.clock, c.position, c.cycle, c.warn_at, c.due_at FROM (VALUES {rows}) "
        "AS c(clock, position, cycle, warn_at, due_at, running) "
        f"WHERE {_watched_sql(alias)} AND c.running AND c.due_at IS NOT NULL"
    )


def next_check_sql(alias: str, after: str) -> str:
    """`next_check_at(ticket, after=...)` for the ticket row `alias` as one SQL expression (no subquery per
    row); `after` is an SQL expression. LEAST skips NULLs and is NULL when every argument is."""

    def later(moment: str) -> str:
        return f"CASE WHEN {moment} > {after} THEN {moment} END"

    clocks = ", ".join(
        f"CASE WHEN {running} AND {due_at} IS NOT NULL THEN LEAST({later(warn_at)}, {later(due_at)}) END"
        for _clock, _position, _cycle, warn_at, due_at, running in _clock_columns(alias)
    )
    return f"CASE WHEN {_watched_sql(alias)} THEN LEAST({clocks}) END"


def _save(ticket: Ticket, fields: list[str]) -> None:
    if fields:
        Ticket.objects.filter(pk=ticket.pk).update(**{f: getattr(ticket, f) for f in fields})
    # Times already behind us stay in the next check: the sweep records them (once) if it has not yet.
    store_next_check(ticket)


def _store_next_check(ticket: Ticket, at: datetime | None) -> None:
    """Keep the ticket's next check at `at`; None removes it (the sweep has nothing to look at). A check
    known to be absent (a ticket just opened has none) is not deleted again."""
    check = None
    known_absent = (
        Ticket.sla_check.related.is_cached(ticket) and Ticket.sla_check.related.get_cached_value(ticket) is None
    )
    if at is None and known_absent:
        return
    if at is None:
        SlaCheck.objects.filter(ticket_id=ticket.pk).delete()
    else:
        check = SlaCheck(ticket=ticket, next_check_at=at)
        if known_absent:
            check.save(force_insert=True)  # a plain INSERT: nothing can conflict
        else:
            SlaCheck.objects.bulk_create(
                [check], update_conflicts=True, unique_fields=["ticket"], update_fields=["next_check_at"]
            )
    # What `ticket.sla_next_check_at` reads from now on, without a query.
    Ticket.sla_check.related.set_cached_value(ticket, check)


_LOOK_UP = object()


def start_clocks(ticket: Ticket, now: datetime | None = None, *, policy=_LOOK_UP) -> None:
    """Start first-response and resolution clocks on a new ticket from the policy that applies now (or
    `policy`, when the caller looked it up already). Nothing is written that is already so: a ticket
    without a policy, just opened, costs no query."""
    _save(ticket, set_clocks(ticket, now, policy=policy))


def store_next_check(ticket: Ticket) -> None:
    """Keep the ticket's next check where its clocks now put it (after `set_clocks` and its INSERT, or an
    update of the clocks)."""
    _store_next_check(ticket, next_check_at(ticket))


def set_clocks(ticket: Ticket, now: datetime | None = None, *, policy=_LOOK_UP) -> list[str]:
    """The targets `start_clocks` writes, set on `ticket` in memory only; returns the fields it changed. A
    ticket not saved yet is inserted with them (then `store_next_check`), instead of updated after."""
    now = now or timezone.now()
    if policy is _LOOK_UP:
        policy = policy_for(ticket.queue_id, ticket.priority)
    fields = [] if ticket.sla_policy_id == (policy.pk if policy else None) else ["sla_policy"]
    ticket.sla_policy = policy
    if policy is not None:
        calendar = calendar_for(policy)
        if policy.first_response_minutes and ticket.first_responded_at is None:
            ticket.first_response_warn_at, ticket.first_response_due_at = _targets(
                calendar, now, policy.first_response_minutes, policy.warning_percent
            )
            fields += ["first_response_warn_at", "first_response_due_at"]
        if policy.resolution_minutes:
            ticket.resolution_warn_at, ticket.resolution_due_at = _targets(
                calendar, now, policy.resolution_minutes, policy.warning_percent
            )
            fields += ["resolution_warn_at", "resolution_due_at"]
    return fields


def on_requester_message(ticket: Ticket, now: datetime | None = None) -> None:
    """A requester wrote: once the first response was given, the next-response clock starts (an unanswered
    earlier message keeps the clock it started)."""
    if ticket.status not in RUNNING_STATUSES or ticket.first_responded_at is None:
        return
    if ticket.next_response_due_at is not None:
        return
    policy = policy_for(ticket.queue_id, ticket.priority)
    if policy is None or not policy.next_response_minutes:
        return
    now = now or timezone.now()
    ticket.next_response_cycle += 1
    ticket.next_response_warn_at, ticket.next_response_due_at = _targets(
        calendar_for(policy), now, policy.next_response_minutes, policy.warning_percent
    )
    _save(ticket, ["next_response_cycle", "next_response_warn_at", "next_response_due_at"])


def on_public_reply(ticket: Ticket, now: datetime | None = None) -> None:
    """An associate answered the requester: the first-response and next-response clocks stop."""
    now = now or timezone.now()
    fields = []
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    if ticket.next_response_due_at is not None:
        ticket.next_response_warn_at = ticket.next_response_due_at = None
        fields += ["next_response_warn_at", "next_response_due_at"]
    if fields:
        _save(ticket, fields)


def on_status_change(ticket: Ticket, old: str, new: str, now: datetime | None = None) -> None:
    """Pause the resolution clock on pending/on hold, stop it on solved/closed, resume it on new/open."""
    now = now or timezone.now()
    fields: list[str] = []
    if new in PAUSED_STATUSES or new in STOPPED_STATUSES:
        fields += _pause_resolution(ticket, now)
        if new in STOPPED_STATUSES and ticket.next_response_due_at is not None:
            ticket.next_response_warn_at = ticket.next_response_due_at = None
            fields += ["next_response_warn_at", "next_response_due_at"]
    elif new in RUNNING_STATUSES:
        fields += _resume_resolution(ticket, now)
    _save(ticket, fields)


def _pause_resolution(ticket: Ticket, now: datetime) -> list[str]:
    if ticket.resolution_due_at is None or ticket.resolution_paused_at is not None:
        return []
    calendar = calendar_for(ticket.sla_policy)
    ticket.resolution_paused_at = now
    ticket.resolution_remaining_seconds = calendar.seconds_between(now, ticket.resolution_due_at)
    warn_at = ticket.resolution_warn_at
    ticket.resolution_warning_remaining_seconds = calendar.seconds_between(now, warn_at) if warn_at else 0
    return ["resolution_paused_at", "resolution_remaining_seconds", "resolution_warning_remaining_seconds"]


def _resume_resolution(ticket: Ticket, now: datetime) -> list[str]:
    if ticket.resolution_paused_at is None:
        return []
    remaining = ticket.resolution_remaining_seconds or 0
    if remaining > 0:
        # A clock already past due keeps its old due time: the breach is recorded once, for that time.
        calendar = calendar_for(ticket.sla_policy)
        ticket.resolution_due_at = calendar.add(now, remaining)
        warning_left = ticket.resolution_warning_remaining_seconds or 0
        ticket.resolution_warn_at = calendar.add(now, warning_left) if warning_left > 0 else now
    ticket.resolution_paused_at = None
    ticket.resolution_remaining_seconds = ticket.resolution_warning_remaining_seconds = None
    return [
        "resolution_due_at",
        "resolution_warn_at",
        "resolution_paused_at",
        "resolution_remaining_seconds",
        "resolution_warning_remaining_seconds",
    ]


def escalation_due_at(ticket: Ticket, target_queue: Queue, now: datetime | None = None) -> datetime:
    """An escalation's own target: the target queue's resolution target for the ticket's priority, else
    `ACOLHE_ESCALATION_TARGET_MINUTES` around the clock."""
    now = now or timezone.now()
    policy = policy_for(target_queue, ticket.priority)
    if policy is not None and policy.resolution_minutes:
        return calendar_for(policy).add(now, policy.resolution_minutes * 60)
    minutes = settings.ACOLHE_ESCALATION_TARGET_MINUTES
    return calendar_for(None).add(now, minutes * 60)


@dataclass(frozen=True)
class ClockView:
    """One clock as the pages show it."""

    clock: str
    label: str | Promise  # the clock's name, translated when rendered
    state: str  # ok, warning, breached, paused, met, missed
    due_at: datetime | None
    remaining_seconds: int | None = None


# The clocks' names, lazily translated: each is turned into the reader's language where a page shows it.
_LABELS = dict(SlaClock.choices)


class ClockFields(Protocol):
    """What `clock_views` reads of a ticket: a `Ticket`, or a list's row of one
    (`tickets.workspace.selectors.ListedTicket`)."""

    @property
    def status(self) -> str: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def first_response_due_at(self) -> datetime | None: ...
    @property
    def first_response_warn_at(self) -> datetime | None: ...
    @property
    def first_responded_at(self) -> datetime | None: ...
    @property
    def next_response_due_at(self) -> datetime | None: ...
    @property
    def next_response_warn_at(self) -> datetime | None: ...
    @property
    def resolution_due_at(self) -> datetime | None: ...
    @property
    def resolution_warn_at(self) -> datetime | None: ...
    @property
    def resolution_paused_at(self) -> datetime | None: ...
    @property
    def resolution_remaining_seconds(self) -> int | None: ...


def clock_views(ticket: ClockFields, now: datetime | None = None) -> list[ClockView]:
    now = now or timezone.now()
    labels = _LABELS
    views = []

    def live(clock: str, warn_at: datetime | None, due_at: datetime) -> ClockView:
        state = "breached" if due_at <= now else "warning" if warn_at and warn_at <= now else "ok"
        return ClockView(clock, labels[clock], state, due_at)

    if ticket.first_response_due_at is not None:
        if ticket.first_responded_at is not None:
            met = ticket.first_responded_at <= ticket.first_response_due_at
            views.append(
                ClockView(SlaClock.FIRST_RESPONSE, labels[SlaClock.FIRST_RESPONSE], "met" if met else "missed", None)
            )
        elif ticket.is_active:
            views.append(live(SlaClock.FIRST_RESPONSE, ticket.first_response_warn_at, ticket.first_response_due_at))
    if ticket.next_response_due_at is not None and ticket.is_active:
        views.append(live(SlaClock.NEXT_RESPONSE, ticket.next_response_warn_at, ticket.next_response_due_at))
    if ticket.resolution_due_at is not None:
        label = labels[SlaClock.RESOLUTION]
        left = ticket.resolution_remaining_seconds
        if ticket.status in STOPPED_STATUSES:
            met = left is not None and left > 0
            views.append(ClockView(SlaClock.RESOLUTION, label, "met" if met else "missed", None))
        elif ticket.resolution_paused_at is not None:
            state = "paused" if left else "breached"
            views.append(ClockView(SlaClock.RESOLUTION, label, state, None, left))
        else:
            views.append(live(SlaClock.RESOLUTION, ticket.resolution_warn_at, ticket.resolution_due_at))
    return views
