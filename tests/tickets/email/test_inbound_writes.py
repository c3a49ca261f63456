"""What the worker's shortcuts must leave exactly as the long way would: SLA clocks on tickets opened from
mail, the acknowledgement's threading headers, and the ticket's last-message time."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail

from tests.factories import QueueFactory, RequesterFactory, SlaPolicyFactory
from tickets import services, sla
from tickets.email.inbound import process_inbound_batch, store_inbound
from tickets.email.outbound import thread_headers
from tickets.models import InboundEmail, Message, Ticket
from tickets.models.core import SlaCheck

pytestmark = pytest.mark.django_db

SLA_FIELDS = [
    "sla_policy_id",
    "first_response_warn_at",
    "first_response_due_at",
    "resolution_warn_at",
    "resolution_due_at",
    "next_response_cycle",
    "next_response_warn_at",
    "next_response_due_at",
]


@pytest.fixture
def suporte():
    return QueueFactory(
        slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True, auto_acknowledge=True
    )


def make_mail(subject="Conta bloqueada", *, sender="Paula Reis <paula@example.com>", message_id=None,
              in_reply_to=None) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "suporte@acolhe.example", subject
    if message_id != "":
        message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content("Olá, não consigo acessar minha conta desde ontem. Já tentei trocar a senha.")
    return message.as_bytes()


def apply(*raws: bytes) -> list[InboundEmail]:
    rows = [store_inbound(raw, esp="test", enqueue=False)[0] for raw in raws]
    process_inbound_batch(rows[0].pk)
    for row in rows:
        row.refresh_from_db()
    return rows


def sla_state(ticket: Ticket) -> tuple:
    ticket.refresh_from_db()
    check = SlaCheck.objects.filter(ticket_id=ticket.pk).values_list("next_check_at", flat=True).first()
    return (*(getattr(ticket, f) for f in SLA_FIELDS), check)


def test_ticket_opened_without_a_policy_reads_as_if_its_clocks_were_started(suporte):
    ticket = services.open_ticket(
        requester=RequesterFactory(), queue=suporte, subject="Sem SLA", language="pt", sla_policy_for=sla.policy_for
    )
    assert ticket.sla_next_check_at is None
    skipped = sla_state(ticket)
    sla.start_clocks(ticket)
    assert sla_state(ticket) == skipped


def test_ticket_opened_with_a_policy_lookup_starts_that_policys_clocks(suporte):
    policy = SlaPolicyFactory(queue=suporte)
    ticket = services.open_ticket(
        requester=RequesterFactory(), queue=suporte, subject="Com SLA", language="pt", sla_policy_for=sla.policy_for
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == policy.pk
    assert ticket.first_response_due_at is not None and ticket.resolution_due_at is not None
    assert SlaCheck.objects.get(ticket=ticket).next_check_at == ticket.first_response_warn_at


def test_tickets_opened_from_a_batch_of_mail_get_the_policy_of_their_queue(suporte):
    policy = SlaPolicyFactory(queue=suporte)
    rows = apply(*(make_mail(f"Assunto {i}", sender=f"pessoa{i}@example.com") for i in range(3)))
    tickets = list(Ticket.objects.filter(pk__in=[row.ticket_id for row in rows]))
    assert len(tickets) == 3
    for ticket in tickets:
        assert ticket.sla_policy_id == policy.pk
        assert ticket.first_response_due_at is not None
        assert SlaCheck.objects.filter(ticket=ticket).exists()


def test_tickets_opened_from_mail_without_a_policy_have_no_clocks_and_no_check(suporte):
    rows = apply(make_mail("Um"), make_mail("Dois", sender="outra@example.com"))
    for row in rows:
        ticket = Ticket.objects.get(pk=row.ticket_id)
        assert ticket.sla_policy_id is None and ticket.first_response_due_at is None
        assert not SlaCheck.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("message_id", [None, ""])
def test_acknowledgement_answers_the_mail_as_the_tickets_thread_says(
    suporte, message_id, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = apply(make_mail(message_id=message_id))
    ticket = Ticket.objects.get(pk=row.ticket_id)
    incoming = ticket.messages.get(direction=Message.Direction.IN)
    ack = ticket.messages.get(direction=Message.Direction.OUT)
    if message_id == "":
        assert ack.in_reply_to == "" and ack.references == []
    else:
        assert ack.in_reply_to == incoming.message_id != ""
        assert ack.references == [incoming.message_id]
    # What reading the thread back (the ticket's messages before the acknowledgement) gives.
    ack_id = ack.message_id
    Message.objects.filter(pk=ack.pk).update(message_id="")
    assert thread_headers(ticket) == (ack.in_reply_to, ack.references)
    Message.objects.filter(pk=ack.pk).update(message_id=ack_id)
    assert len(mail.outbox) == 1


def test_applied_mail_moves_its_tickets_last_message_time(suporte):
    (first,) = apply(make_mail())
    ticket = Ticket.objects.get(pk=first.ticket_id)
    opened = ticket.messages.get(direction=Message.Direction.IN).created_at
    assert ticket.last_message_at >= opened
    assert ticket.updated_at >= ticket.last_message_at
    assert first.status == InboundEmail.Status.PROCESSED and first.processed_at >= ticket.last_message_at
    assert first.attempts == 1 and first.reason == ""

    reply_to = ticket.messages.get(direction=Message.Direction.IN).message_id
    (reply,) = apply(make_mail("Re: Conta bloqueada", in_reply_to=reply_to))
    assert reply.ticket_id == ticket.pk
    later = Ticket.objects.get(pk=ticket.pk)
    assert later.last_message_at > ticket.last_message_at
    assert later.last_message_at >= ticket.messages.latest("created_at").created_at
    assert later.updated_at >= later.last_message_at


def test_a_mail_that_opens_a_ticket_under_a_policy_writes_the_ticket_row_once(suporte):
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    SlaPolicyFactory(queue=suporte, priority=None, first_response_minutes=60, resolution_minutes=480)
    row = store_inbound(make_mail(), esp="test", enqueue=False)[0]
    with CaptureQueriesContext(connection) as queries:
        process_inbound_batch(row.pk)
    writes = re.compile(rf'(^|\bAS \()(INSERT INTO|UPDATE) "?{Ticket._meta.db_table}"? ')
    ticket_writes = [q["sql"] for q in queries if writes.search(q["sql"])]
    assert len(ticket_writes) == 1 and ticket_writes[0].startswith("INSERT INTO")
    row.refresh_from_db()
    ticket = Ticket.objects.get(pk=row.ticket_id)
    assert ticket.first_response_due_at is not None and ticket.last_message_at is not None


def test_a_new_requester_writing_twice_in_one_batch_is_acknowledged_once(suporte, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rows = apply(make_mail("Primeiro"), make_mail("Segundo assunto"), make_mail("Terceiro assunto"))
    assert len({row.ticket_id for row in rows}) == 3
    assert len(mail.outbox) == 1
    assert Message.objects.filter(direction=Message.Direction.OUT).count() == 1


def test_a_known_requester_is_acknowledged_only_when_the_last_hour_had_none(
    suporte, django_capture_on_commit_callbacks
):
    RequesterFactory(email="paula@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        apply(make_mail("Primeiro"))
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        apply(make_mail("Outro assunto"))
    assert len(mail.outbox) == 1
