"""Every metric Acolhe scores associates on, defined once. `docs/metrics.md` says the same in prose.

A ticket's history (its `TicketEvent` log, plus its SLA breach records) is turned into *contributions*:
a number added to one field of one (day, associate, queue, language) row. The rollup sums contributions
into `DailyStats`; the pages divide the sums (`Summary`). Days are calendar days in `settings.TIME_ZONE`;
each contribution lands on the day of the event that produced it.

Counted from the event log (`ticket_contributions`):

- **Tickets created**: one per `created` event, for the queue (no associate).
- **Replies sent**: one per `reply_sent` event with an actor (automatic acknowledgements have none), for
  the actor. Internal notes are not replies.
- **First response time**: from the ticket's creation to its first reply with an actor, for that reply's
  actor, on the reply's day. Wall-clock time: it is what the requester waited.
- **Tickets solved**: one per status change *to solved*, for the ticket's assignee at that moment (from
  the `assigned` events), else for the actor. A ticket solved, reopened and solved again counts twice.
  Closing without solving (a merge closes the duplicate) is not a solve.
- **Full resolution time**: from the ticket's creation to each solve, wall-clock (pending time included).
- **First-contact resolution**: a solve with exactly one public reply before it and no reopen within 7
  days after it.
- **Reopen rate**: the share of solves followed within 7 days by a reopen: a status change from solved or
  closed back to an active status, a `reopened` event, or a follow-up ticket opened from it.
- **Escalation rate**: the share of solves whose ticket was escalated (an `escalated` event) before the
  solve.
- **SLA compliance**: the share of SLA clocks met. A ticket's first-response clock counts on its first
  reply when the ticket had a first-response target, and is met when the reply came by the target and no
  first-response breach was recorded. Its resolution clock counts on each solve when the ticket had a
  resolution target, and is met when no resolution breach was recorded before the solve (the clock pauses
  while pending or on hold, so pauses help here but not in full resolution time). Both go to whoever the
  reply or solve is attributed to.

Counted from their own records (`services.rollup_days` aggregates them in SQL):

- **Handle time**: 30 seconds per heartbeat. The ticket page sends one every 30 s while it is visible and
  focused; each (associate, ticket, 30-second slot) counts once, so two tabs do not double it. Attributed
  to the ticket's current queue and language, on the heartbeat's day.
- **Tickets solved per hour worked**: tickets solved divided by handle time in hours. Acolhe only knows an
  associate is working while a ticket page is focused.
- **QA score**: the average of the associate's QA review scores on the review's day (calibration reviews
  excluded). A review's score is the weighted average of its 1-5 ratings mapped to 0-100:
  `sum(weight * (rating - 1) / 4) / sum(weight) * 100`.
- **CSAT**: the average 1-5 rating of answered surveys, and the share of 4s and 5s, for the associate
  the survey was sent for (the assignee when the ticket was solved), on the day it was first answered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from tickets.models import SlaClock, Ticket, TicketEvent

Kind = TicketEvent.Kind
REOPEN_WINDOW = timedelta(days=7)
HEARTBEAT_SECONDS = 30
ACTIVE = set(Ticket.ACTIVE_STATUSES)
DONE = {Ticket.Status.SOLVED, Ticket.Status.CLOSED}
# The event kinds the log-based definitions read; the rollup loads only these.
KINDS = (
    Kind.CREATED,
    Kind.REPLY_SENT,
    Kind.STATUS_CHANGED,
    Kind.ASSIGNED,
    Kind.QUEUE_CHANGED,
    Kind.LANGUAGE_CHANGED,
    Kind.REOPENED,
    Kind.FOLLOW_UP_OPENED,
    Kind.ESCALATED,
)
# The kinds whose arrival can change a past day (a reopen up to 7 days after a solve).
LATE_KINDS = (Kind.STATUS_CHANGED, Kind.REOPENED, Kind.FOLLOW_UP_OPENED)


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    actor_id: int | None = None
    old: Any = None
    new: Any = None


@dataclass
class TicketHistory:
    """What the definitions need to know about one ticket: its log and its SLA records."""

    ticket_id: int
    created_at: datetime
    queue_id: int
    language: str
    events: list[Event]
    first_response_due_at: datetime | None = None
    has_resolution_target: bool = False
    # Due times of the recorded breaches, per clock.
    breaches: dict[str, list[datetime]] = field(default_factory=dict)


Key = tuple[date, int | None, int | None, str]


def day_of(moment: datetime, tz: tzinfo) -> date:
    return timezone.localtime(moment, tz).date()


def is_public_reply(event: Event) -> bool:
    return event.kind == Kind.REPLY_SENT and event.actor_id is not None


def is_solve(event: Event) -> bool:
    return event.kind == Kind.STATUS_CHANGED and event.new == Ticket.Status.SOLVED and event.old != event.new


def is_reopen(event: Event) -> bool:
    if event.kind in (Kind.REOPENED, Kind.FOLLOW_UP_OPENED):
        return True
    return event.kind == Kind.STATUS_CHANGED and event.old in DONE and event.new in ACTIVE


def _id(value: Any) -> int | None:
    return value.get("id") if isinstance(value, dict) else None


def ticket_contributions(
    history: TicketHistory, tz: tzinfo, queue_ids_by_slug: dict[str, int] | None = None
) -> dict[Key, Counter]:
    """The sums one ticket adds to each (day, associate, queue, language) row; see the module docstring."""
    rows: dict[Key, Counter] = {}
    events = sorted(history.events, key=lambda e: e.at)
    reopen_times = [e.at for e in events if is_reopen(e)]
    queue_id = history.queue_id
    language = history.language
    assignee_id: int | None = None
    public_replies = 0
    escalated = False

    def add(at: datetime, associate_id: int | None, **values: int) -> None:
        counter = rows.setdefault((day_of(at, tz), associate_id, queue_id, language), Counter())
        counter.update(values)

    for event in events:
        if event.kind == Kind.CREATED:
            created = event.new if isinstance(event.new, dict) else {}
            if queue_ids_by_slug and created.get("queue") in queue_ids_by_slug:
                queue_id = queue_ids_by_slug[created["queue"]]
            language = created.get("language") or language
            add(event.at, None, tickets_created=1)
        elif event.kind == Kind.QUEUE_CHANGED:
            queue_id = _id(event.new) or queue_id
        elif event.kind == Kind.LANGUAGE_CHANGED:
            language = event.new or language
        elif event.kind == Kind.ASSIGNED:
            assignee_id = _id(event.new)
        elif event.kind == Kind.ESCALATED:
            escalated = True
        elif is_public_reply(event):
            public_replies += 1
            values = {"replies_sent": 1}
            if public_replies == 1:
                values["first_responses"] = 1
                values["first_response_seconds"] = int((event.at - history.created_at).total_seconds())
                due = history.first_response_due_at
                if due is not None:
                    met = event.at <= due and not history.breaches.get(SlaClock.FIRST_RESPONSE)
                    values["sla_clocks"] = 1
                    values["sla_met"] = int(met)
            add(event.at, event.actor_id, **values)
        elif is_solve(event):
            reopened = any(event.at < t <= event.at + REOPEN_WINDOW for t in reopen_times)
            values = {
                "solved": 1,
                "resolution_seconds": int((event.at - history.created_at).total_seconds()),
                "first_contact_resolved": int(public_replies == 1 and not reopened),
                "reopened": int(reopened),
                "escalated_solved": int(escalated),
            }
            if history.has_resolution_target:
                breached = any(due <= event.at for due in history.breaches.get(SlaClock.RESOLUTION, []))
                values["sla_clocks"] = 1
                values["sla_met"] = int(not breached)
            add(event.at, assignee_id or event.actor_id, **values)
    return rows


def review_score(answers: Iterable[tuple[int, int]]) -> float:
    """QA score 0-100 from (weight, rating 1-5) pairs."""
    answers = list(answers)
    total_weight = sum(weight for weight, _ in answers)
    if not total_weight:
        return 0.0
    return round(sum(weight * (rating - 1) / 4 for weight, rating in answers) / total_weight * 100, 2)


def qa_bucket(score: float) -> str:
    """The `DailyStats` column counting a QA score in the distribution."""
    if score >= 90:
        return "qa_90"
    if score >= 80:
        return "qa_80"
    if score >= 70:
        return "qa_70"
    if score >= 60:
        return "qa_60"
    return "qa_below_60"


SUM_FIELDS = (
    "tickets_created",
    "replies_sent",
    "first_responses",
    "first_response_seconds",
    "solved",
    "resolution_seconds",
    "first_contact_resolved",
    "reopened",
    "escalated_solved",
    "sla_clocks",
    "sla_met",
    "handle_seconds",
    "qa_reviews",
    "qa_score_sum",
    "qa_below_60",
    "qa_60",
    "qa_70",
    "qa_80",
    "qa_90",
    "csat_responses",
    "csat_sum",
    "csat_1",
    "csat_2",
    "csat_3",
    "csat_4",
    "csat_5",
)
QA_BUCKETS = ("qa_below_60", "qa_60", "qa_70", "qa_80", "qa_90")
CSAT_BUCKETS = ("csat_1", "csat_2", "csat_3", "csat_4", "csat_5")


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    return round(numerator / denominator * scale, 2) if denominator else None


@dataclass
class Summary:
    """The derived metrics of any sum of `DailyStats` rows. Empty denominators give None (shown as "—")."""

    sums: dict[str, float]

    def __post_init__(self) -> None:
        # Each sum as an attribute of its own (0 for none): a dashboard reads some 30,000 of them, each
        # through `__getattr__` (after a failed lookup) before.
        self.__dict__.update({name: self.sums.get(name) or 0 for name in SUM_FIELDS})

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...  # the sums set above

    @property
    def first_response_minutes(self) -> float | None:
        return _ratio(self.first_response_seconds, self.first_responses * 60)

    @property
    def resolution_hours(self) -> float | None:
        return _ratio(self.resolution_seconds, self.solved * 3600)

    @property
    def handle_hours(self) -> float:
        return round(self.handle_seconds / 3600, 2)

    @property
    def solved_per_hour(self) -> float | None:
        return _ratio(self.solved * 3600, self.handle_seconds)

    @property
    def fcr_percent(self) -> float | None:
        return _ratio(self.first_contact_resolved, self.solved, 100)

    @property
    def reopen_percent(self) -> float | None:
        return _ratio(self.reopened, self.solved, 100)

    @property
    def escalation_percent(self) -> float | None:
        return _ratio(self.escalated_solved, self.solved, 100)

    @property
    def sla_percent(self) -> float | None:
        return _ratio(self.sla_met, self.sla_clocks, 100)

    @property
    def qa_score(self) -> float | None:
        return _ratio(self.qa_score_sum, self.qa_reviews)

    @property
    def csat_average(self) -> float | None:
        return _ratio(self.csat_sum, self.csat_responses)

    @property
    def csat_percent(self) -> float | None:
        return _ratio(self.csat_4 + self.csat_5, self.csat_responses, 100)

    def as_dict(self) -> dict[str, Any]:
        derived = {
            name: getattr(self, name)
            for name in (
                "first_response_minutes",
                "resolution_hours",
                "handle_hours",
                "solved_per_hour",
                "fcr_percent",
                "reopen_percent",
                "escalation_percent",
                "sla_percent",
                "qa_score",
                "csat_average",
                "csat_percent",
            )
        }
        return {"replies_sent": self.replies_sent, "solved": self.solved, **derived}
