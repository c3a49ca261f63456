"""Property: for random ticket histories, the rollup equals a direct computation from the events, and
re-running it (whole, or day by day) changes nothing."""

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import services
from metrics.models import DailyStats
from tests.factories import QueueFactory, RequesterFactory, UserFactory
from tests.metrics.conftest import sp
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db
Kind = TicketEvent.Kind
SP = ZoneInfo("America/Sao_Paulo")
BASE = sp(2025, 3, 10, 8, 0)
FIRST_DAY = date(2025, 3, 10)

operation = st.tuples(
    st.sampled_from(["assign", "reply", "auto_reply", "note", "solve", "reopen", "pending", "open", "follow_up"]),
    st.integers(0, 2),  # which associate
    st.integers(1, 2 * 24 * 60),  # minutes after the previous event
)
history = st.tuples(st.integers(0, 3 * 24 * 60), st.lists(operation, max_size=12))


def build(queue, users, start_minutes, operations) -> Ticket:
    """Write one ticket's log directly, as the services would have."""
    at = BASE + timedelta(minutes=start_minutes)
    ticket = Ticket.objects.create(queue=queue, requester=RequesterFactory(), subject="x", created_at=at)
    events = [
        TicketEvent(ticket=ticket, kind=Kind.CREATED, new_value={"queue": queue.slug, "language": "pt"}, created_at=at)
    ]
    status = Ticket.Status.NEW
    for name, who, minutes in operations:
        at += timedelta(minutes=minutes)
        user = users[who]

        def event(kind, actor=None, old=None, new=None, at=at):
            events.append(
                TicketEvent(ticket=ticket, kind=kind, actor=actor, old_value=old, new_value=new, created_at=at)
            )

        if name == "assign":
            event(Kind.ASSIGNED, actor=user, new={"id": user.pk, "name": user.username})
        elif name == "reply":
            event(Kind.REPLY_SENT, actor=user)
        elif name == "auto_reply":
            event(Kind.REPLY_SENT)
        elif name == "note":
            event(Kind.NOTE_ADDED, actor=user)
        elif name == "follow_up" and status == Ticket.Status.SOLVED:
            event(Kind.FOLLOW_UP_OPENED, new={"ticket": 1})
        elif name == "reopen" and status == Ticket.Status.SOLVED:
            event(Kind.STATUS_CHANGED, old=status, new=Ticket.Status.OPEN)
            event(Kind.REOPENED, old=status, new=Ticket.Status.OPEN)
            status = Ticket.Status.OPEN
        elif name in ("solve", "pending", "open"):
            new = {"solve": Ticket.Status.SOLVED, "pending": Ticket.Status.PENDING, "open": Ticket.Status.OPEN}[name]
            if new != status:
                event(Kind.STATUS_CHANGED, actor=user, old=status, new=new)
                status = new
    TicketEvent.objects.bulk_create(events)
    return ticket


def local_day(moment) -> date:
    return moment.astimezone(SP).date()


def direct(ticket_ids) -> Counter:
    """The expected sums per (day, associate, field), computed plainly from the stored events."""
    expected = Counter()
    replies = (
        TicketEvent.objects.filter(kind=Kind.REPLY_SENT, actor__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=SP))
        .values("day", "actor_id")
        .annotate(n=Count("id"))
    )
    for row in replies:
        expected[(row["day"], row["actor_id"], "replies_sent")] += row["n"]
    for ticket_id in ticket_ids:
        events = list(TicketEvent.objects.filter(ticket_id=ticket_id).order_by("created_at", "id"))
        created = events[0].created_at
        expected[(local_day(created), None, "tickets_created")] += 1
        public = [e for e in events if e.kind == Kind.REPLY_SENT and e.actor_id]
        if public:
            first = public[0]
            expected[(local_day(first.created_at), first.actor_id, "first_responses")] += 1
            expected[(local_day(first.created_at), first.actor_id, "first_response_seconds")] += int(
                (first.created_at - created).total_seconds()
            )
        reopens = [
            e.created_at
            for e in events
            if e.kind in (Kind.REOPENED, Kind.FOLLOW_UP_OPENED)
            or (e.kind == Kind.STATUS_CHANGED and e.old_value in DONE and e.new_value in ACTIVE)
        ]
        assignee = None
        for e in events:
            if e.kind == Kind.ASSIGNED:
                assignee = e.new_value["id"]
            if e.kind == Kind.STATUS_CHANGED and e.new_value == "solved":
                who = assignee or e.actor_id
                day = local_day(e.created_at)
                replies_before = len([r for r in public if r.created_at < e.created_at])
                reopened = any(e.created_at < t <= e.created_at + timedelta(days=7) for t in reopens)
                expected[(day, who, "solved")] += 1
                expected[(day, who, "resolution_seconds")] += int((e.created_at - created).total_seconds())
                expected[(day, who, "reopened")] += int(reopened)
                expected[(day, who, "first_contact_resolved")] += int(replies_before == 1 and not reopened)
    return +expected


DONE = ("solved", "closed")
ACTIVE = ("new", "open", "pending", "on_hold")
FIELDS = ("tickets_created", "replies_sent", "first_responses", "first_response_seconds", "solved",
          "resolution_seconds", "reopened", "first_contact_resolved")  # fmt: skip


def rolled_up() -> Counter:
    found = Counter()
    for row in DailyStats.objects.all():
        for name in FIELDS:
            found[(row.day, row.associate_id, name)] += getattr(row, name)
    return +found


def snapshot():
    return sorted(DailyStats.objects.values_list(*["day", "associate_id", "queue_id", "language", *FIELDS]), key=repr)


@pytest.fixture
def world():
    queue = QueueFactory(slug="suporte")
    return queue, [UserFactory(username=f"prop{n}") for n in range(3)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=st.lists(history, min_size=1, max_size=6), split=st.integers(1, 30))
def test_rollup_equals_direct_computation_and_rerunning_changes_nothing(world, histories, split):
    queue, users = world
    with transaction.atomic():
        ids = [build(queue, users, start, operations).pk for start, operations in histories]
        last_day = FIRST_DAY + timedelta(days=40)
        services.rollup_days(FIRST_DAY, last_day, now=sp(2025, 6, 1, 0, 0))
        assert rolled_up() == direct(ids)
        once = snapshot()
        services.rollup_days(FIRST_DAY, last_day, now=sp(2025, 6, 1, 0, 0))
        assert snapshot() == once
        # Rebuilding in two parts gives the same rows as the whole range.
        middle = FIRST_DAY + timedelta(days=split)
        services.rollup_days(middle, last_day, now=sp(2025, 6, 1, 0, 0))
        services.rollup_days(FIRST_DAY, middle - timedelta(days=1), now=sp(2025, 6, 1, 0, 0))
        assert snapshot() == once
        transaction.set_rollback(True)
