"""Hand-back and notices: a scanner escalation never returns the ticket to someone who cannot open it, the
hand-back of a restricted ticket falls back to a specialist or a lead who can, notices go only to users who
can see the ticket, and a restricted ticket's notes never travel in notices or mail."""

import pytest
from django.core import mail

from tests.factories import MessageFactory, TicketFactory, UserFactory
from tickets import selectors
from tickets.escalations import services as escalations
from tickets.models import Escalation, Notification, Role, Ticket
from tickets.wellbeing import services as wellbeing

pytestmark = pytest.mark.django_db

NOTE = "Reportado à SaferNet, conta suspeita @fulano123 banida"


@pytest.fixture
def lead(suporte, team):
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, email="lia@acolhe.example")
    team.leads.add(lead)
    return lead


@pytest.fixture
def reviewer(trust_and_safety):
    """A Trust & Safety queue member outside the specialist group: reads the ticket only while escalated."""
    return UserFactory(username="rui", role=Role.ASSOCIATE, queues=[trust_and_safety], email="rui@acolhe.example")


def _flagged_while_assigned(suporte, agent) -> Ticket:
    ticket = TicketFactory(queue=suporte, assignee=agent)
    MessageFactory(ticket=ticket, body_text="relato")
    wellbeing.flag_ticket(ticket, ["child_safety"])
    ticket.refresh_from_db()
    return ticket


def test_a_scanner_escalation_does_not_return_to_an_assignee_who_cannot_open_the_ticket(
    suporte, trust_and_safety, agent
):
    ticket = _flagged_while_assigned(suporte, agent)
    escalation = ticket.escalations.get(target_queue=trust_and_safety)
    assert escalation.return_to is None
    # Nor is the associate left assigned to a ticket they get a 404 on.
    assert ticket.assignee is None
    assert not selectors.can_open(agent, ticket)


def test_the_hand_back_of_a_restricted_ticket_goes_to_someone_who_can_open_it(
    suporte, trust_and_safety, agent, lead, reviewer, specialist, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(queue=suporte, assignee=agent)
    MessageFactory(ticket=ticket, body_text="relato")
    # The associate escalated by hand; the scanner flagged child safety afterwards.
    escalation = escalations.escalate(ticket, target_queue=trust_and_safety, reason="Suspeita", actor=agent)
    assert escalation.return_to == agent
    wellbeing.flag_ticket(ticket, ["child_safety"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        escalations.hand_back(escalation.pk, actor=reviewer, note=NOTE)
    ticket.refresh_from_db()

    # Neither the associate nor the lead (no Trust & Safety) nor the reviewer (the escalation closed) can
    # open it now: the specialist of the team takes it.
    assert ticket.assignee == specialist
    assert selectors.can_open(ticket.assignee, ticket)
    assert not Notification.objects.filter(user__in=[agent, lead, reviewer]).filter(ticket=ticket).exists()
    assert all(message.to != [agent.email] for message in mail.outbox)
    # The note stays on the ticket: no notice or mail carries it.
    assert not Notification.objects.filter(text__contains="SaferNet").exists()
    assert all("SaferNet" not in m.subject and "SaferNet" not in m.body for m in mail.outbox)
    assert ticket.messages.filter(body_text=NOTE).exists()


def test_a_restricted_hand_back_with_nobody_to_return_to_falls_back_to_the_specialist_handing_back(
    suporte, trust_and_safety, agent
):
    handing_back = UserFactory(username="sol", role=Role.SPECIALIST, queues=[suporte, trust_and_safety])
    ticket = _flagged_while_assigned(suporte, agent)
    escalation = ticket.escalations.get(status=Escalation.Status.OPEN)
    ticket.assignee = agent  # assigned again by hand before the fix, say
    ticket.save(update_fields=["assignee"])
    escalations.hand_back(escalation.pk, actor=handing_back, note=NOTE)
    ticket.refresh_from_db()
    assert ticket.assignee == handing_back


def test_a_restricted_hand_back_nobody_can_open_leaves_the_ticket_unassigned_and_tells_nobody(
    suporte, trust_and_safety, agent, lead, reviewer
):
    ticket = _flagged_while_assigned(suporte, agent)
    escalation = ticket.escalations.get(status=Escalation.Status.OPEN)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    Notification.objects.all().delete()
    escalations.hand_back(escalation.pk, actor=reviewer, note=NOTE)
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert not Notification.objects.exists()


def test_an_ordinary_hand_back_still_returns_the_ticket_and_the_note_to_the_associate(
    suporte, trust_and_safety, agent, specialist, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(queue=suporte, assignee=agent)
    escalation = escalations.escalate(ticket, target_queue=trust_and_safety, reason="Dúvida", actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        escalations.hand_back(escalation.pk, actor=specialist, note="Pode responder que está resolvido.")
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    notice = Notification.objects.get(user=agent, kind=Notification.Kind.HANDED_BACK)
    assert "Pode responder" in notice.text


def test_notices_go_only_to_users_who_can_open_the_ticket(suporte, trust_and_safety, agent, lead, specialist):
    ticket = _flagged_while_assigned(suporte, agent)
    mail.outbox.clear()
    told = escalations.notify(
        [agent, lead, specialist], ticket=ticket, kind=Notification.Kind.SLA, text=lambda: "SLA a vencer"
    )
    assert told == 1
    assert list(Notification.objects.filter(kind=Notification.Kind.SLA).values_list("user__username", flat=True)) == [
        "tessa"
    ]


def test_the_escalation_notice_of_a_child_safety_ticket_carries_no_reason(suporte, trust_and_safety, specialist):
    lead = UserFactory(username="tslead", role=Role.TEAM_LEAD, queues=[trust_and_safety])
    ticket = TicketFactory(queue=suporte, sensitivity=["child_safety"])
    escalations.escalate(ticket, target_queue=trust_and_safety, reason=NOTE)
    notice = Notification.objects.get(user=lead, kind=Notification.Kind.ESCALATED)
    assert f"#{ticket.number}" in notice.text and "SaferNet" not in notice.text
