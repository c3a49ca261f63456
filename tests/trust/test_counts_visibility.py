"""Queue counts count only the tickets the viewer can open: a child-safety report in a front-line queue is
not a "1" that the associate can never reach (the security review saw 123 shown and 122 reachable)."""

import pytest

from tests.factories import QueueFactory, TicketFactory, associate
from tickets.sla import health
from tickets.workspace import selectors as workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue_with_a_restricted_ticket():
    queue = QueueFactory(slug="suporte", name="Suporte")
    TicketFactory.create_batch(2, queue=queue)
    TicketFactory(queue=queue, sensitivity=["child_safety"], subject="relato")
    return queue, associate(queues=[queue], username="ana")


def test_the_landing_page_counts_only_tickets_the_associate_can_open(client, queue_with_a_restricted_ticket):
    _queue, ana = queue_with_a_restricted_ticket
    client.force_login(ana)
    [row] = client.get("/").context["queues"]
    assert (row.open_count, row.unassigned_count) == (2, 2)


def test_the_queues_api_counts_only_tickets_the_associate_can_open(client, queue_with_a_restricted_ticket):
    _queue, ana = queue_with_a_restricted_ticket
    client.force_login(ana)
    [row] = client.get("/api/v1/queues/").json()
    assert row["open_count"] == 2


def test_the_workspace_sidebar_counts_only_tickets_the_associate_can_open(queue_with_a_restricted_ticket):
    _queue, ana = queue_with_a_restricted_ticket
    views, queues = workspace._sidebar_counts(ana)
    assert [q.open_count for q in queues] == [2]
    assert views["all"] == 2


def test_sla_health_counts_only_tickets_the_associate_can_open(queue_with_a_restricted_ticket):
    _queue, ana = queue_with_a_restricted_ticket
    assert [row.open_count for row in health.per_queue(ana)] == [2]
