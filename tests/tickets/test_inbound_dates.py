"""Each message keeps the Date it was written with next to the time it arrived; imported history keeps its
order; a Date in the future or unreadable falls back to the arrival time, and the timeline says so."""

import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.factories import QueueFactory, associate
from tests.tickets.test_inbound import PT_BODY, deliver
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def suporte():
    return QueueFactory(
        slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True, auto_acknowledge=True
    )


def dated_mail(date: str | None, *, body=PT_BODY, subject="Conta bloqueada", message_id=None, in_reply_to=None):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "Paula Reis <paula@example.com>",
        "suporte@acolhe.example",
        subject,
    )
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if date is not None:
        message["Date"] = date
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(body)
    return message


def received_event(message: Message) -> TicketEvent:
    return TicketEvent.objects.get(kind=TicketEvent.Kind.MESSAGE_RECEIVED, message=message)


def test_a_mail_keeps_the_date_it_was_written_next_to_when_it_arrived(suporte, client):
    written = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    inbound = deliver(dated_mail(format_datetime(written)).as_bytes())
    message = Message.objects.get(inbound_email=inbound)
    assert message.written_at == written
    assert message.created_at == inbound.received_at
    assert received_event(message).new_value["written_at"] == written.isoformat()
    assert "date_fallback" not in received_event(message).new_value
    client.force_login(associate([suporte]))
    page = client.get(reverse("ticket", args=[message.ticket.number])).content.decode()
    assert f'class="written-at" datetime="{timezone.localtime(written).isoformat()}"' in page
    messages = client.get(f"/api/v1/tickets/{message.ticket.number}/").json()["messages"]
    (api_message,) = [m for m in messages if m["direction"] == "in"]
    assert api_message["written_at"] == timezone.localtime(written).isoformat()
    assert api_message["created_at"] == timezone.localtime(inbound.received_at).isoformat()


@pytest.mark.parametrize(
    "date, fallback, note",
    [
        (format_datetime(datetime.now(UTC) + timedelta(days=2)), "future", "was in the future"),
        ("someday, soon", "unparseable", "could not be read"),
        ("Thu, 01 Jan 1970 00:00:00 +0000", "unparseable", "could not be read"),
        (None, "missing", "had no Date header"),
    ],
    # Named, not by the date: the future one is computed at collection, and every test process must collect
    # the same names.
    ids=["future", "unparseable", "epoch", "missing"],
)
def test_a_date_in_the_future_or_unreadable_falls_back_to_the_arrival_and_the_timeline_says_so(
    suporte, client, date, fallback, note
):
    # Written as bytes: the standard library's own policy would drop a Date it cannot read.
    raw = dated_mail(None).as_bytes()
    inbound = deliver(raw if date is None else f"Date: {date}\n".encode() + raw)
    message = Message.objects.get(inbound_email=inbound)
    assert message.written_at == message.created_at == inbound.received_at
    assert received_event(message).new_value["date_fallback"] == fallback
    client.force_login(associate([suporte]))
    client.cookies["django_language"] = "en"
    timeline = client.get(reverse("ticket_timeline", args=[message.ticket.number]), HTTP_ACCEPT_LANGUAGE="en")
    assert note in timeline.content.decode()


def test_import_mail_keeps_history_in_order_at_the_dates_it_was_written(suporte, tmp_path):
    first_at = datetime(2021, 3, 4, 9, 15, tzinfo=UTC)
    first_id, second_id = "<hist-1@example.com>", "<hist-2@example.com>"
    first = dated_mail(format_datetime(first_at), message_id=first_id)
    second = dated_mail(
        format_datetime(first_at + timedelta(days=1)), body="Continuo sem acesso, alguma novidade?",
        subject="Re: Conta bloqueada", message_id=second_id, in_reply_to=first_id,
    )  # fmt: skip
    third = dated_mail(
        format_datetime(first_at + timedelta(days=2)), body="Consegui entrar, obrigada pela ajuda de vocês.",
        subject="Re: Conta bloqueada", message_id="<hist-3@example.com>", in_reply_to=second_id,
    )  # fmt: skip
    box = mailbox.mbox(tmp_path / "old.mbox")
    for message in (third, first, second):  # an export in no particular order
        box.add(mailbox.mboxMessage(message.as_bytes()))
    box.flush()

    call_command("import_mail", str(tmp_path / "old.mbox"), verbosity=0)

    ticket = Ticket.objects.get()
    thread = list(ticket.messages.filter(direction="in").order_by("created_at", "id"))
    assert [m.message_id for m in thread] == [first_id, second_id, "<hist-3@example.com>"]
    assert [m.created_at for m in thread] == [first_at, first_at + timedelta(days=1), first_at + timedelta(days=2)]
    assert [m.written_at for m in thread] == [m.created_at for m in thread]
    assert ticket.created_at == first_at
    assert ticket.last_message_at == first_at + timedelta(days=2)
    events = list(ticket.events.order_by("created_at", "id").values_list("kind", "created_at"))
    assert events[0] == (TicketEvent.Kind.CREATED, first_at)
    received = [at for kind, at in events if kind == TicketEvent.Kind.MESSAGE_RECEIVED]
    assert received == [m.created_at for m in thread]
    # Years-old history is never acknowledged.
    assert not ticket.messages.filter(direction="out").exists()
