"""Next ticket claims, assigns and opens in one statement: it must write what `update_ticket` writes, count
the intake once, follow profile changes at once and stay within a handful of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ProfileFactory, QueueFactory, TicketFactory, associate
from tickets import services, sla
from tickets.api.serializers import TicketSerializer
from tickets.models import ExposureBudget, ExposureEntry, SlaCheck, Ticket
from tickets.wellbeing.services import record_intake
from tickets.workspace.routing import assign_next

COMPARED = [
    "status",
    "assignee_id",
    "solved_at",
    "closed_at",
    "first_response_due_at",
    "resolution_due_at",
    "resolution_warn_at",
    "resolution_paused_at",
    "resolution_remaining_seconds",
    "resolution_warning_remaining_seconds",
    "sla_next_check_at",
]


def _events(ticket):
    return list(ticket.events.order_by("id").values_list("kind", "actor_id", "old_value", "new_value"))


def _twins(queue, elsewhere, **fields):
    """The same ticket twice: one Next ticket may take, one in a queue the associate does not work."""
    return TicketFactory(queue=queue, **fields), TicketFactory(queue=elsewhere, **fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "clocks",
    [
        pytest.param({}, id="no-clock"),
        pytest.param({"first_response_due_at": "soon", "sla_next_check_at": "stale"}, id="stale-next-check"),
        pytest.param({"resolution_due_at": "soon", "resolution_paused": True}, id="paused-resolution"),
    ],
)
def test_next_ticket_writes_what_update_ticket_writes(clocks):
    queue, elsewhere = QueueFactory(slug="geral"), QueueFactory(slug="alheia")
    agent = associate([queue], username="bia", first_name="Bia", last_name="Souza")
    now = timezone.now()
    fields = {}
    if clocks.get("first_response_due_at"):
        fields.update(
            first_response_warn_at=now + timedelta(minutes=30), first_response_due_at=now + timedelta(hours=1)
        )
    stale_check = now + timedelta(days=3) if clocks.get("sla_next_check_at") else None
    if clocks.get("resolution_due_at"):
        fields.update(resolution_warn_at=now - timedelta(hours=2), resolution_due_at=now - timedelta(hours=1))
    if clocks.get("resolution_paused"):
        fields.update(
            resolution_paused_at=now - timedelta(hours=3),
            resolution_remaining_seconds=7200,
            resolution_warning_remaining_seconds=3600,
        )
    taken, twin = _twins(queue, elsewhere, status=Ticket.Status.NEW, **fields)
    if stale_check is not None:
        SlaCheck.objects.bulk_create([SlaCheck(ticket=t, next_check_at=stale_check) for t in (taken, twin)])

    assert assign_next(agent) == taken
    services.update_ticket(twin, actor=agent, assignee=agent)
    services.update_ticket(twin, actor=agent, status=Ticket.Status.OPEN)

    taken.refresh_from_db()
    twin.refresh_from_db()
    for field in COMPARED:
        expected = getattr(twin, field)
        if isinstance(expected, type(now)):
            # Both resumed from "now", a moment apart.
            assert abs(getattr(taken, field) - expected) < timedelta(seconds=5), field
        else:
            assert getattr(taken, field) == expected, field
    assert taken.sla_next_check_at == sla.next_check_at(taken)
    assert (
        _events(taken)
        == _events(twin)
        == [
            ("assigned", agent.pk, None, {"id": agent.pk, "name": "Bia Souza"}),
            ("status_changed", agent.pk, "new", "open"),
        ]
    )
    assert taken.updated_at >= now
    entry = ExposureEntry.objects.get(user=agent, ticket=taken)
    assert (entry.sensitive, entry.categories) == (False, [])


@pytest.mark.django_db
def test_an_open_ticket_is_only_assigned_and_keeps_its_times():
    queue = QueueFactory(slug="geral")
    agent = associate([queue], username="bia")
    solved_at = timezone.now() - timedelta(days=1)
    ticket = TicketFactory(queue=queue, status=Ticket.Status.OPEN, solved_at=solved_at)

    assert assign_next(agent) == ticket
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.solved_at) == (Ticket.Status.OPEN, agent, solved_at)
    assert [kind for kind, *_ in _events(ticket)] == ["assigned"]


@pytest.mark.django_db
def test_the_ticket_comes_back_with_its_queue_requester_and_assignee(django_assert_num_queries):
    queue = QueueFactory(slug="geral")
    agent = associate([queue], username="bia")
    ticket = TicketFactory(queue=queue, tags=["vip"], sensitivity=["violence"])

    taken = assign_next(agent)
    with django_assert_num_queries(0):
        assert (taken.queue.slug, taken.requester.email) == ("geral", ticket.requester.email)
        assert taken.assignee == agent
        assert (taken.tags, taken.sensitivity, taken.number) == (["vip"], ["violence"], ticket.number)
        data = TicketSerializer(taken).data
    assert (data["queue"], data["requester"]["email"], data["status"]) == ("geral", ticket.requester.email, "open")
    entry = ExposureEntry.objects.get(user=agent, ticket=ticket)
    assert (entry.sensitive, entry.categories) == (True, ["violence"])


@pytest.mark.django_db
def test_a_ticket_taken_again_counts_once_and_the_first_press_creates_the_budget():
    queue = QueueFactory(slug="geral")
    agent = associate([queue], username="bia")
    ticket = TicketFactory(queue=queue, sensitivity=["violence"])
    assert not ExposureBudget.objects.filter(user=agent).exists()

    assert assign_next(agent) == ticket
    first = ExposureEntry.objects.get(user=agent, ticket=ticket)
    ticket.refresh_from_db()
    services.update_ticket(ticket, actor=agent, assignee=None)
    assert assign_next(agent) == ticket

    assert ExposureBudget.objects.filter(user=agent).count() == 1
    assert list(ExposureEntry.objects.filter(user=agent).values_list("pk", flat=True)) == [first.pk]
    again = record_intake(agent, ticket)
    assert (again.pk, again.taken_at, again.sensitive, again.categories) == (
        first.pk,
        first.taken_at,
        True,
        ["violence"],
    )


@pytest.mark.django_db
def test_eligibility_follows_profile_changes_between_presses():
    queue = QueueFactory(slug="geral")
    agent = associate([queue], username="bia")
    profile = ProfileFactory(user=agent, languages=["pt"], skills=[])
    english = TicketFactory(queue=queue, language="en")
    legal = TicketFactory(queue=queue, tags=["skill:juridico"])

    assert assign_next(agent) is None
    profile.languages = ["pt", "en"]
    profile.save()
    assert assign_next(agent) == english
    profile.skills = ["Juridico"]
    profile.save()
    assert assign_next(agent) == legal


@pytest.mark.django_db
def test_next_ticket_takes_a_handful_of_queries(django_assert_max_num_queries):
    queue = QueueFactory(slug="geral")
    agent = associate([queue], username="bia")
    TicketFactory.create_batch(2, queue=queue)
    assign_next(agent)  # creates the budget row and reads the associate's roles once

    # Savepoint, budget lock, exposure, profile, claim, events, intake, release.
    with django_assert_max_num_queries(8):
        assert assign_next(agent) is not None


@pytest.mark.django_db
def test_record_changes_writes_the_events_update_ticket_writes():
    queue = QueueFactory(slug="geral")
    agent = associate([queue], username="bia")
    ticket, twin = TicketFactory(queue=queue), TicketFactory(queue=queue)

    services.update_ticket(twin, actor=agent, assignee=agent, status=Ticket.Status.PENDING, tags=["b", "a"])
    services.record_changes(
        ticket,
        [("assignee", None, agent), ("status", "new", "pending"), ("tags", [], ["a", "b"])],
        actor=agent,
    )
    assert _events(ticket) == _events(twin)
    services.record_changes(ticket, [], actor=agent)
    assert len(_events(ticket)) == 3
