import pytest
from django.urls import reverse

from tests.factories import QueueFactory, TicketFactory, associate
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def suporte():
    return QueueFactory(slug="suporte", name="Suporte (pt-BR)")


def test_landing_page_lists_only_my_queues_with_open_counts(client, suporte):
    legal = QueueFactory(slug="legal", name="Legal")
    TicketFactory.create_batch(3, queue=suporte)
    TicketFactory(queue=suporte, status=Ticket.Status.SOLVED)
    TicketFactory(queue=legal)
    user = associate([suporte], username="ana")
    client.force_login(user)
    response = client.get("/")
    queues = list(response.context["queues"])
    assert [q.slug for q in queues] == ["suporte"]
    assert queues[0].open_count == 3
    assert "Legal" not in response.content.decode()


def test_ticket_page_is_not_found_outside_my_queues(client, suporte):
    other = TicketFactory(queue=QueueFactory(slug="legal"))
    client.force_login(associate([suporte], username="ana"))
    assert client.get(reverse("ticket", args=[other.number])).status_code == 404
