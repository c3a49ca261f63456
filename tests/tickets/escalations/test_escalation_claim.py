"""Specialists take escalations from their inbox; counts on their landing page and inbox; outsiders cannot."""

import pytest

from tests.factories import QueueFactory, TicketFactory, UserFactory, associate
from tickets.escalations import selectors as escalation_selectors
from tickets.escalations import services as escalations
from tickets.models import Queue, Role, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    suporte = QueueFactory(slug="suporte", name="Suporte")
    trust = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    ana = associate([suporte], username="ana")
    tessa = UserFactory(username="tessa", first_name="Tessa", last_name="Moreira", role=Role.SPECIALIST, queues=[trust])
    ticket = TicketFactory(queue=suporte, assignee=ana)
    escalation = escalations.escalate(ticket, target_queue=trust, reason="Ameaça a um menor", actor=ana)
    return ana, tessa, ticket, escalation


def test_a_specialist_takes_an_escalation_and_the_counts_follow(client, world):
    _ana, tessa, ticket, escalation = world
    client.force_login(tessa)
    home = client.get("/").content.decode()
    assert 'data-testid="home-escalations"' in home and "1 escalonamento aberto" in home

    response = client.post(f"/escalations/{escalation.pk}/claim/")
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.number}/"
    escalation.refresh_from_db()
    assert escalation.claimed_by == tessa
    assert escalation_selectors.escalation_counts(tessa) == {"open": 1, "unclaimed": 0, "mine": 1}
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATION_CLAIMED, actor=tessa).count() == 1
    inbox = client.get("/escalations/?show=mine").content.decode()
    assert "Tessa Moreira" in inbox


def test_someone_outside_the_specialist_team_cannot_take_it(client, world):
    ana, _tessa, _ticket, escalation = world
    client.force_login(ana)
    assert client.post(f"/escalations/{escalation.pk}/claim/").status_code == 404
    escalation.refresh_from_db()
    assert escalation.claimed_by is None
    assert 'data-testid="home-escalations"' not in client.get("/").content.decode()
