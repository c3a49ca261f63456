"""Next ticket: eligibility, urgency order, and no ticket ever handed out twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import ProfileFactory, QueueFactory, TicketFactory, associate
from tickets.models import Ticket
from tickets.workspace.routing import assign_next


@pytest.mark.django_db
def test_next_ticket_is_the_most_urgent_eligible_one_and_is_assigned():
    queue = QueueFactory(slug="geral")
    other_queue = QueueFactory(slug="alheia")
    agent = associate([queue], username="bia")
    ProfileFactory(user=agent, languages=["pt"], skills=["pagamentos"])
    now = timezone.now()
    TicketFactory(queue=other_queue, first_response_due_at=now)  # not her queue
    TicketFactory(queue=queue, language="en", first_response_due_at=now)  # not her language
    TicketFactory(queue=queue, tags=["skill:juridico"], first_response_due_at=now)  # a skill she lacks
    TicketFactory(queue=queue, status="pending", first_response_due_at=now)  # waiting on the user
    later = TicketFactory(queue=queue, first_response_due_at=now + timedelta(hours=2), priority=4)
    sooner = TicketFactory(queue=queue, tags=["skill:pagamentos"], first_response_due_at=now + timedelta(hours=1))
    no_clock = TicketFactory(queue=queue, priority=4)

    assert [assign_next(agent) for _ in range(4)] == [sooner, later, no_clock, None]
    sooner.refresh_from_db()
    assert (sooner.assignee, sooner.status) == (agent, Ticket.Status.OPEN)
    assert sooner.events.filter(kind="assigned", actor=agent).exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_associates_pressing_next_at_once_get_twenty_different_tickets():
    queue = QueueFactory(slug="concorrida")
    agents = [associate([queue], username=f"agent{i}") for i in range(20)]
    TicketFactory.create_batch(25, queue=queue)
    barrier = threading.Barrier(len(agents))
    claimed: dict[str, int | None] = {}
    errors = []

    def press(agent):
        try:
            barrier.wait()
            ticket = assign_next(agent)
            claimed[agent.username] = ticket.pk if ticket else None
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    ids = list(claimed.values())
    assert None not in ids
    assert len(set(ids)) == 20
    assert Ticket.objects.filter(assignee__isnull=False).count() == 20
    for agent in agents:
        assert Ticket.objects.get(pk=claimed[agent.username]).assignee == agent
