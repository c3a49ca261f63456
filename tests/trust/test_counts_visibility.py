"""Queue counts count only the tickets the viewer can open: a child-safety report in a front-line queue is
not a "1" that the associate can never reach (the security review saw 123 shown and 122 reachable)."""

import pytest
from django.utils.timezone import now

from tests.factories import QueueFactory, TicketFactory, associate
from tickets import selectors
from tickets.models import Notification, Ticket
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


def test_the_unread_notice_count_counts_only_notices_the_associate_may_read(queue_with_a_restricted_ticket, settings):
    """The navigation counts notices about restricted tickets apart (`count_about_readable`): the same figure as
    the notices page's rule, whether or not any notice is about a restricted ticket."""
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    queue, ana = queue_with_a_restricted_ticket
    Notification.objects.create(user=ana, kind="sla", text="sem ticket")
    Notification.objects.create(user=ana, ticket=TicketFactory(queue=queue), kind="sla", text="comum")
    Notification.objects.create(user=ana, ticket=TicketFactory(queue=queue), kind="sla", text="lida", read_at=now())
    assert selectors.navigation_counts(ana)["unread"] == 2
    child_safety = Ticket.objects.get(sensitivity__contains=["child_safety"])
    Notification.objects.create(user=ana, ticket=child_safety, kind="escalated", text="relato")
    on_hold = TicketFactory(queue=queue, legal_hold=True)  # restricted records, but a ticket she may open
    Notification.objects.create(user=ana, ticket=on_hold, kind="sla", text="retido")
    elsewhere = TicketFactory(queue=QueueFactory(slug="outra"), legal_hold=True)  # not one she may open
    Notification.objects.create(user=ana, ticket=elsewhere, kind="sla", text="outra fila")
    assert selectors.navigation_counts(ana)["unread"] == 3
    assert selectors.notifications_for(ana).filter(read_at=None).count() == 3
