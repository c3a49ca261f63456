"""What a worker batch writes when it groups statements: events in the order they happened, one
acknowledgement per requester and interval across batches, and a task whose mail is applied already."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import QueueFactory
from tickets.email.inbound import process_inbound_batch, store_inbound
from tickets.models import InboundEmail, Message, Ticket, TicketEvent

Kind = TicketEvent.Kind
PT_BODY = "Olá, não consigo acessar minha conta desde ontem. Já tentei trocar a senha, mas o código não chega."


@pytest.fixture
def suporte(db):
    return QueueFactory(
        slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True, auto_acknowledge=True
    )


def mail(
    subject="Conta bloqueada", body=PT_BODY, *, sender="Paula Reis <paula@example.com>", in_reply_to=None, headers=()
):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "suporte@acolhe.example", subject
    message["Message-ID"] = make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in headers:
        message[name] = value
    message.set_content(body)
    return message


def stored(message: EmailMessage) -> InboundEmail:
    return store_inbound(message.as_bytes(), esp="test", enqueue=False)[0]


def kinds(ticket: Ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))


def test_a_new_tickets_events_are_numbered_in_the_order_they_happened(suporte):
    process_inbound_batch(stored(mail()).pk)
    ticket = Ticket.objects.get()
    assert kinds(ticket) == [Kind.CREATED, Kind.MESSAGE_RECEIVED, Kind.AUTO_ACK_SENT]
    created, received = TicketEvent.objects.filter(ticket=ticket).order_by("id")[:2]
    assert created.new_value == {"queue": "suporte", "language": "pt", "follow_up_of": None}
    # The mail has no Date header: its arrival time stands in, and the event says so.
    assert received.new_value == {
        "from": "paula@example.com",
        "written_at": received.message.created_at.isoformat(),
        "date_fallback": "missing",
    }
    assert received.message == Message.objects.get(ticket=ticket, direction=Message.Direction.IN)
    assert created.created_at <= received.created_at


def test_a_follow_up_logs_on_the_closed_ticket_between_the_new_tickets_events(suporte):
    first = mail()
    process_inbound_batch(stored(first).pk)
    closed = Ticket.objects.get()
    Ticket.objects.filter(pk=closed.pk).update(status=Ticket.Status.CLOSED)
    process_inbound_batch(stored(mail("Re: Conta bloqueada", in_reply_to=first["Message-ID"])).pk)
    follow_up = Ticket.objects.get(follow_up_of=closed)
    events = list(TicketEvent.objects.filter(ticket__in=[closed, follow_up]).order_by("id"))
    recent = [(event.ticket_id, event.kind) for event in events[-3:]]
    assert recent == [
        (follow_up.pk, Kind.CREATED),
        (closed.pk, Kind.FOLLOW_UP_OPENED),
        (follow_up.pk, Kind.MESSAGE_RECEIVED),
    ]
    assert events[-2].new_value == {"ticket": follow_up.number}


def test_flagging_a_new_ticket_logs_after_its_created_event_and_before_the_mail(suporte):
    process_inbound_batch(stored(mail("Preciso de ajuda", "Não aguento mais, eu quero me matar.")).pk)
    ticket = Ticket.objects.get()
    logged = kinds(ticket)
    assert logged[0] == Kind.CREATED
    assert Kind.PRIORITY_CHANGED in logged
    assert logged.index(Kind.PRIORITY_CHANGED) < logged.index(Kind.MESSAGE_RECEIVED)
    assert ticket.priority == Ticket.Priority.URGENT


def test_every_event_of_a_flagged_follow_up_is_written_in_one_statement_in_order(suporte):
    # Opening the follow-up, flagging it (priority, tags, escalation rules), the mail and the acknowledgement
    # each log events from a service of their own; the mail's one event log writes them all at once.
    first = mail()
    process_inbound_batch(stored(first).pk)
    closed = Ticket.objects.get()
    Ticket.objects.filter(pk=closed.pk).update(status=Ticket.Status.CLOSED)
    reply = mail("Re: Conta bloqueada", "Não aguento mais, eu quero me matar.", in_reply_to=first["Message-ID"])
    row = stored(reply)
    with CaptureQueriesContext(connection) as queries:
        process_inbound_batch(row.pk)
    follow_up = Ticket.objects.get(follow_up_of=closed)
    writes = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"] and "ticketevent" in q["sql"]]
    assert len(writes) == 1
    logged = kinds(follow_up)
    assert logged[0] == Kind.CREATED
    assert logged.index(Kind.SENSITIVITY_FLAGGED) < logged.index(Kind.PRIORITY_CHANGED)
    assert logged.index(Kind.PRIORITY_CHANGED) < logged.index(Kind.MESSAGE_RECEIVED)
    assert TicketEvent.objects.filter(ticket=closed).order_by("id").last().kind == Kind.FOLLOW_UP_OPENED


def test_mail_from_one_requester_in_one_batch_is_acknowledged_once(suporte):
    rows = [stored(mail(f"Pedido {n}")) for n in range(3)]
    process_inbound_batch(rows[0].pk)
    assert Ticket.objects.count() == 3
    assert TicketEvent.objects.filter(kind=Kind.AUTO_ACK_SENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_acknowledgements_across_committed_batches_keep_the_interval(suporte, settings):
    settings.ACOLHE_AUTO_ACK_INTERVAL_SECONDS = 3600
    process_inbound_batch(stored(mail("Pedido 1")).pk)
    process_inbound_batch(stored(mail("Pedido 2")).pk)
    assert TicketEvent.objects.filter(kind=Kind.AUTO_ACK_SENT).count() == 1
    # Once the interval has passed, a new ticket is acknowledged again.
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        process_inbound_batch(stored(mail("Pedido 3")).pk)
    assert TicketEvent.objects.filter(kind=Kind.AUTO_ACK_SENT).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_remembered_acknowledgement_stops_counting_when_its_interval_ends(suporte, settings):
    settings.ACOLHE_AUTO_ACK_INTERVAL_SECONDS = 60
    process_inbound_batch(stored(mail("Pedido 1")).pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        process_inbound_batch(stored(mail("Pedido 2")).pk)
    assert TicketEvent.objects.filter(kind=Kind.AUTO_ACK_SENT).count() == 2


def test_a_task_whose_mail_another_batch_applied_returns_its_status_after_one_read(suporte):
    rows = [stored(mail(f"Pedido {n}", sender=f"p{n}@example.com")) for n in range(3)]
    process_inbound_batch(rows[0].pk)
    with CaptureQueriesContext(connection) as queries:
        assert process_inbound_batch(rows[1].pk) == "processed"
    assert len(queries) == 1
    assert InboundEmail.objects.get(pk=rows[1].pk).attempts == 1
