"""Mailing lists and null senders never get an acknowledgement, and become tickets only where their queue
says so; a DSN is recognised with or without `report-type` and marks our outbound message bounced."""

from pathlib import Path

import pytest

from tests.factories import MessageFactory, QueueFactory
from tests.tickets.email.test_inbound import PT_BODY, deliver, make_mail
from tickets.email import guards
from tickets.email.parsing import parse_email
from tickets.models import Message, Queue, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail_edge"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def suporte():
    return QueueFactory(
        slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True, auto_acknowledge=True
    )


def acknowledgements() -> int:
    return TicketEvent.objects.filter(kind=TicketEvent.Kind.AUTO_ACK_SENT).count()


LIST_MAIL = {
    "mailman digest": fixture("mailman_digest_request.eml"),
    "google group": fixture("google_groups_list_id.eml"),
    "null sender": fixture("null_sender_notification.eml"),
    "List-Unsubscribe only": make_mail(headers={"List-Unsubscribe": "<mailto:leave@news.example>"}),
    "X-Loop": make_mail(headers={"X-Loop": "helpdesk@other.example"}),
    "X-Mailman-Approved-At": make_mail(headers={"X-Mailman-Approved-At": "Mon, 23 Nov 2026 12:00:00 +0000"}),
    "-request sender": make_mail(sender="forum-request@lists.example"),
    "-bounces VERP sender": make_mail(sender="forum-bounces+paula=example.com@lists.example"),
    "owner- sender": make_mail(sender="owner-forum@lists.example"),
}


@pytest.mark.parametrize("name", LIST_MAIL)
def test_list_and_null_sender_mail_is_ignored_with_a_reason_by_default(suporte, name):
    inbound = deliver(LIST_MAIL[name])
    assert inbound.status == "ignored"
    assert "queue suporte ignores such mail" in inbound.reason
    assert not Ticket.objects.exists()
    assert acknowledgements() == 0


@pytest.mark.parametrize("name", LIST_MAIL)
def test_list_and_null_sender_mail_opens_a_ticket_without_acknowledgement_where_the_queue_says_so(suporte, name):
    Queue.objects.filter(pk=suporte.pk).update(list_mail=Queue.ListMail.TICKET)
    inbound = deliver(LIST_MAIL[name])
    assert inbound.status == "processed"
    assert Ticket.objects.get(pk=inbound.ticket_id).queue == suporte
    assert acknowledgements() == 0
    assert not Message.objects.filter(direction="out").exists()


def test_mail_a_person_wrote_to_the_same_queue_is_still_acknowledged(suporte):
    inbound = deliver(make_mail(PT_BODY))
    assert inbound.status == "processed"
    assert acknowledgements() == 1


def test_each_queue_makes_its_own_choice(suporte):
    QueueFactory(
        slug="support", languages=["en"], addresses=["support@acolhe.example"], list_mail=Queue.ListMail.TICKET
    )
    to_support = deliver(make_mail(headers={"List-Id": "<forum.lists.example>"}, to="support@acolhe.example"))
    to_suporte = deliver(make_mail(headers={"List-Id": "<forum.lists.example>"}))
    assert (to_support.status, to_suporte.status) == ("processed", "ignored")


def test_dsn_without_report_type_marks_the_outbound_message_bounced(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail(PT_BODY)).ticket_id)
    sent = MessageFactory(
        ticket=ticket, direction="out", message_id="<BOUNCED-OUTBOUND-ID@acolhe.example>", delivery_status="sent"
    )
    inbound = deliver(fixture("dsn_without_report_type.eml"))
    sent.refresh_from_db()
    assert inbound.status == "ignored"
    assert "marked 1 outbound message(s) bounced" in inbound.reason
    assert sent.delivery_status == Message.Delivery.BOUNCED


def test_dsn_is_recognised_with_and_without_report_type():
    bare = parse_email(fixture("dsn_without_report_type.eml"))
    labelled = parse_email(
        fixture("dsn_without_report_type.eml").replace(
            b"Content-Type: multipart/report;", b"Content-Type: multipart/report; report-type=delivery-status;"
        )
    )
    assert guards.classify(bare).kind == guards.classify(labelled).kind == "bounce"
    assert guards.classify(bare).bounced_message_ids == ("<BOUNCED-OUTBOUND-ID@acolhe.example>",)


def test_a_list_address_in_the_body_is_not_a_list_sender():
    assert not guards.is_list_sender("maria.request@example.com")
    assert guards.is_list_sender("Forum-Request@lists.example")
    assert guards.is_list_sender("forum-bounces+x=y.example@lists.example")
