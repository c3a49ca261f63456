"""A worker batch writes the outcomes of its mail (status, events, the tickets' times) together at its end:
what it leaves must be what applying each mail on its own leaves, for threads inside one batch too."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import QueueFactory
from tests.tickets.email.test_inbound_batch_writes import mail
from tickets.email.inbound import process_inbound, process_inbound_batch, store_inbound
from tickets.models import InboundEmail, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def suporte():
    return QueueFactory(
        slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True, auto_acknowledge=True
    )


def conversation(tag: str) -> list[InboundEmail]:
    """A thread and its neighbours, stored in arrival order: a new ticket, two replies to it (the second to
    the first), an out-of-office, another requester's ticket, the first requester's second ticket, a reply
    that reopens the first ticket once it is solved (the caller solves it) and one more reply to that, and
    a mail without a sender."""
    # Each conversation its own requesters: an acknowledgement sent to one is remembered for the next.
    paula, joana = f"Paula Reis <paula-{tag}@example.com>", f"Joana <joana-{tag}@example.com>"
    first = mail(f"Conta bloqueada {tag}", sender=paula)
    reply = mail(f"Re: Conta bloqueada {tag}", sender=paula, in_reply_to=first["Message-ID"], body="Alguma novidade?")
    again = mail(f"Re: Conta bloqueada {tag}", sender=paula, in_reply_to=reply["Message-ID"], body="Sem acesso ainda.")
    away = mail("Ausente", sender=f"bot-{tag}@example.com", headers=[("Auto-Submitted", "auto-replied")])
    other = mail(f"Boleto {tag}", sender=joana, body="Meu boleto venceu, podem reenviar?")
    second = mail(f"Cartão {tag}", sender=paula, body="Meu cartão foi recusado na compra de ontem.")
    reopen = mail(f"Re: Conta bloqueada {tag}", sender=paula, in_reply_to=again["Message-ID"], body="Voltou a falhar.")
    more = mail(f"Re: Conta bloqueada {tag}", sender=paula, in_reply_to=reopen["Message-ID"], body="Segue o print.")
    no_sender = mail(f"Sem remetente {tag}")
    del no_sender["From"]
    messages = [first, reply, again, away, other, second, reopen, more, no_sender]
    return [store_inbound(m.as_bytes(), esp="test", enqueue=False)[0] for m in messages]


def outcome(rows: list[InboundEmail]) -> list:
    """What the rows' processing left, without ids and times: each mail's status, reason, attempts and
    which of the conversation's mails opened its ticket; each ticket's events and its last message time."""
    rows = [InboundEmail.objects.get(pk=row.pk) for row in rows]
    index_of = {row.pk: index for index, row in enumerate(rows)}
    opener: dict[int | None, int] = {}
    for index, row in enumerate(rows):
        opener.setdefault(row.ticket_id, index)
    found: list[tuple] = []
    for row in rows:
        found.append((row.status, row.reason, row.attempts, opener[row.ticket_id] if row.ticket_id else None))
        assert row.processed_at is not None
    for ticket in Ticket.objects.filter(pk__in=[row.ticket_id for row in rows if row.ticket_id]).order_by("pk"):
        events = TicketEvent.objects.filter(ticket=ticket).order_by("id")
        applied = [row for row in rows if row.ticket_id == ticket.pk and row.status == "processed"]
        found.append(
            (
                ticket.status,
                [(e.kind, index_of.get(e.message.inbound_email_id or 0) if e.message else None) for e in events],
                ticket.last_message_at == max(row.received_at for row in applied),
                ticket.updated_at >= max(row.received_at for row in applied),
            )
        )
    return found


def test_a_batch_leaves_what_applying_each_mail_on_its_own_leaves():
    alone = conversation("a")
    for row in alone[:3]:
        process_inbound(row.pk)
    Ticket.objects.filter(pk=InboundEmail.objects.get(pk=alone[0].pk).ticket_id).update(status="solved")
    for row in alone[3:]:
        process_inbound(row.pk)

    batched = conversation("b")
    # The first three in one batch, then the rest in another, with the first ticket solved in between.
    process_inbound_batch(batched[0].pk, limit=3, drain_seconds=0)
    Ticket.objects.filter(pk=InboundEmail.objects.get(pk=batched[0].pk).ticket_id).update(status="solved")
    process_inbound_batch(batched[3].pk)

    assert outcome(batched) == outcome(alone)
    found = outcome(batched)
    assert [row[0] for row in found[:9]] == ["processed"] * 3 + ["ignored"] + ["processed"] * 4 + ["failed"]
    reopened = found[9]
    assert reopened[0] == "open" and ("reopened", 6) in reopened[1]


def test_a_reply_to_a_mail_earlier_in_its_batch_joins_that_mails_ticket_without_applying_it_twice():
    first = mail("Conta bloqueada")
    reply = mail("Re: Conta bloqueada", in_reply_to=first["Message-ID"], body="Alguma novidade?")
    rows = [store_inbound(m.as_bytes(), esp="test", enqueue=False)[0] for m in (first, reply)]
    with CaptureQueriesContext(connection) as queries:
        process_inbound_batch(rows[0].pk)
    rows = [InboundEmail.objects.get(pk=row.pk) for row in rows]
    assert [(row.status, row.reason, row.attempts) for row in rows] == [("processed", "", 1), ("processed", "", 1)]
    assert rows[0].ticket_id == rows[1].ticket_id
    assert Message.objects.filter(ticket_id=rows[0].ticket_id, direction=Message.Direction.IN).count() == 2
    # The parent's outcome is written before the reply looks for it: it is not locked again as pending.
    locks = [
        q["sql"] for q in queries.captured_queries if "tickets_inboundemail" in q["sql"] and "FOR UPDATE" in q["sql"]
    ]
    assert len(locks) == 2  # the task's own row, then the batch's others


def new_mail(n: int) -> bytes:
    return mail(f"Pedido {n}", sender=f"p{n}@example.com").as_bytes()


def test_a_batch_writes_its_outcomes_and_events_in_one_statement_and_a_few_per_mail():
    def batch_queries(count: int, start: int) -> list[str]:
        rows = [store_inbound(new_mail(start + n), esp="test", enqueue=False)[0] for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            process_inbound_batch(rows[0].pk)
        assert all(row.status == "processed" for row in InboundEmail.objects.filter(pk__in=[r.pk for r in rows]))
        return [q["sql"] for q in queries.captured_queries]

    batch_queries(2, 0)  # the drain's lookups (queue, SLA policy) are cached from here on
    five, ten = batch_queries(5, 100), batch_queries(10, 200)
    for queries in (five, ten):
        assert len([sql for sql in queries if sql.startswith("WITH logged AS")]) == 1
        assert len([sql for sql in queries if "INSERT INTO tickets_ticketevent" in sql]) == 1
        assert len([sql for sql in queries if sql.startswith("UPDATE") and "tickets_inboundemail" in sql]) == 0
    # Per new ticket: its thread hints, the requester, the ticket, its message, the acknowledgement's
    # message; no statement per mail for its outcome or its events.
    assert (len(ten) - len(five)) / 5 <= 5


def test_a_batch_that_raises_writes_no_outcome_before_isolating_its_mail(monkeypatch):
    from tickets.email import inbound

    rows = [store_inbound(new_mail(n), esp="test", enqueue=False)[0] for n in range(3)]
    real = inbound._apply

    def failing(row, *args, **kwargs):
        if row.pk == rows[1].pk:
            raise RuntimeError("scanner unavailable")
        return real(row, *args, **kwargs)

    monkeypatch.setattr(inbound, "_apply", failing)
    with pytest.raises(RuntimeError):
        process_inbound_batch(rows[1].pk)
    found = [InboundEmail.objects.get(pk=row.pk) for row in rows]
    assert [row.status for row in found] == ["processed", "failed", "processed"]
    assert [found[0].attempts, found[2].attempts] == [1, 1]
    assert Ticket.objects.count() == 2
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.MESSAGE_RECEIVED).count() == 2


def test_the_references_index_that_threading_reads_for_every_mail_keeps_no_pending_list():
    # With a pending list every lookup reads through each message added since the last vacuum.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'message_references_gin'")
        assert cursor.fetchone()[0] == ["fastupdate=off"]
