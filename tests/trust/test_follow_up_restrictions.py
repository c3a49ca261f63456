"""A reply to a closed flagged ticket opens a follow-up that starts as restricted as the ticket it continues
(sensitivity, legal hold, escalation), so front-line associates never read the original report in its quote."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.factories import QueueFactory
from tickets import selectors, services
from tickets.email.inbound import process_inbound, store_inbound
from tickets.escalations import services as escalations
from tickets.models import Escalation, Queue, Ticket
from tickets.wellbeing import services as wellbeing
from tickets.workspace import search

pytestmark = pytest.mark.django_db

REPORT = "denuncia-original-5521 com o relato completo"


def deliver(body: str, subject: str, in_reply_to: str = "") -> Ticket:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Paula <paula@example.com>", "suporte@acolhe.example", subject
    message["Message-ID"] = make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(body)
    inbound, _ = store_inbound(message.as_bytes(), esp="test", enqueue=False)
    return Ticket.objects.get(pk=process_inbound(inbound.pk).ticket_id)


def closed_report(trust_and_safety, specialist) -> Ticket:
    ticket = deliver(REPORT, subject="Denúncia")
    wellbeing.flag_ticket(ticket, ["child_safety"])
    escalation = ticket.escalations.get(status=Escalation.Status.OPEN)
    escalations.hand_back(escalation.pk, actor=specialist, note="Reportado às autoridades.")
    ticket.refresh_from_db()
    services.update_ticket(ticket, actor=None, status=Ticket.Status.CLOSED)
    return ticket


def reply_quoting(ticket: Ticket) -> Ticket:
    first = ticket.messages.filter(direction="in").earliest("created_at")
    body = f"Alguma novidade?\n\nEm seg., 1 de dez., Paula <paula@example.com> escreveu:\n> {REPORT}\n"
    return deliver(body, subject=f"Re: {ticket.tag} Denúncia", in_reply_to=first.message_id)


def test_a_follow_up_of_a_child_safety_ticket_starts_restricted_held_and_escalated(
    suporte, trust_and_safety, agent, specialist
):
    report = closed_report(trust_and_safety, specialist)
    follow_up = reply_quoting(report)

    assert follow_up.follow_up_of == report
    assert "child_safety" in follow_up.sensitivity
    assert follow_up.legal_hold
    assert follow_up.escalations.filter(status=Escalation.Status.OPEN, target_queue=trust_and_safety).exists()
    # The quote carries the original report: the front line never reads it, nor finds it in search.
    assert REPORT in follow_up.messages.get().quoted_text
    assert selectors.ticket_for(agent, follow_up.number) is None
    hits, _more = search.search_tickets(agent, "denuncia-original-5521")
    assert hits == []
    assert selectors.ticket_for(specialist, follow_up.number) is not None


def test_a_follow_up_carries_the_open_escalations_and_legal_hold_of_the_closed_ticket(suporte, agent):
    legal = QueueFactory(slug="juridico", name="Jurídico", kind=Queue.Kind.CROSS_FUNCTIONAL)
    ticket = deliver("Recebi uma notificação judicial", subject="Processo")
    escalations.escalate(ticket, target_queue=legal, reason="Intimação", actor=agent)
    Ticket.objects.filter(pk=ticket.pk).update(legal_hold=True)
    ticket.refresh_from_db()
    services.update_ticket(ticket, actor=None, status=Ticket.Status.CLOSED)

    follow_up = deliver("Mais um documento", subject=f"Re: {ticket.tag} Processo")
    assert follow_up.follow_up_of == ticket
    assert follow_up.legal_hold
    carried = follow_up.escalations.get(status=Escalation.Status.OPEN)
    assert (carried.target_queue, carried.reason) == (legal, "Intimação")


def test_a_follow_up_of_a_plain_ticket_stays_plain(suporte, agent):
    ticket = deliver("Não consigo entrar", subject="Conta")
    services.update_ticket(ticket, actor=None, status=Ticket.Status.CLOSED)
    follow_up = deliver("Ainda não consigo", subject=f"Re: {ticket.tag} Conta")
    assert follow_up.follow_up_of == ticket
    assert follow_up.sensitivity == [] and not follow_up.legal_hold
    assert not follow_up.escalations.exists()
    assert selectors.ticket_for(agent, follow_up.number) is not None
