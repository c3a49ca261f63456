"""Search snippets come from a bounded excerpt of each long body (Message.search_excerpt), kept in step with
the body on every write: saving, editing, erasure and retention; a write that would leave it stale is refused
by the database. Bodies written before the excerpt existed get it from a batched backfill, and read the same
snippet meanwhile."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.factories import MessageFactory, QueueFactory, RequesterFactory, TicketFactory, associate
from tickets.models import SEARCH_EXCERPT_CHARS, Message, Ticket
from tickets.privacy import services as privacy
from tickets.services import fill_search_excerpts
from tickets.workspace.search import search_tickets

pytestmark = pytest.mark.django_db

SECRET = "extrato-bancario-9931"


def long_body(word: str = SECRET) -> str:
    opening = f"Olá, anexo o {word} que pediram; a conta continua bloqueada.\n"
    return opening + "linha do log de sincronização sem nada de especial\n" * 2_000


@pytest.fixture
def queue():
    return QueueFactory(slug="suporte")


@pytest.fixture
def ana(queue):
    return associate([queue], username="ana")


def test_a_long_body_keeps_its_opening_as_excerpt_and_a_short_one_none(queue):
    ticket = TicketFactory(queue=queue)
    body = long_body()
    long_message = MessageFactory(ticket=ticket, body_text=body)
    short_message = MessageFactory(ticket=ticket, body_text="Esqueci a senha.")
    stored = dict(Message.objects.values_list("pk", "search_excerpt"))
    assert stored[long_message.pk] == body[:SEARCH_EXCERPT_CHARS]
    assert stored[short_message.pk] is None


def test_editing_a_body_replaces_its_excerpt(queue, ana):
    ticket = TicketFactory(queue=queue)
    message = MessageFactory(ticket=ticket, body_text=long_body())
    message.body_text = long_body("comprovante-novo")
    message.save(update_fields=["body_text"])
    message.refresh_from_db()
    assert SECRET not in message.search_excerpt
    assert "comprovante-novo" in message.search_excerpt
    assert search_tickets(ana, SECRET) == ([], False)
    [hit], _more = search_tickets(ana, "comprovante-novo")
    assert "<mark>comprovante</mark>-<mark>novo</mark>" in hit.snippet


def test_a_write_that_would_leave_the_excerpt_stale_is_refused(queue):
    message = MessageFactory(ticket=TicketFactory(queue=queue), body_text=long_body())
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=message.pk).update(body_text="[redacted]")
    message.refresh_from_db()
    assert SECRET in message.body_text and SECRET in message.search_excerpt


def test_erasing_a_requester_erases_the_excerpts_too(queue, ana):
    requester = RequesterFactory(email="rita@example.com")
    ticket = TicketFactory(queue=queue, requester=requester)
    MessageFactory(ticket=ticket, body_text=long_body())
    [hit], _more = search_tickets(ana, SECRET)
    assert "<mark>extrato</mark>" in hit.snippet
    privacy.erase_requester(requester, actor=None)
    assert Message.objects.get(ticket=ticket).search_excerpt is None
    assert not Message.objects.filter(search_excerpt__contains=SECRET).exists()
    assert search_tickets(ana, SECRET) == ([], False)


def test_retention_erases_the_excerpts_too(queue, ana):
    queue.retention_days = 30
    queue.save(update_fields=["retention_days"])
    ticket = TicketFactory(queue=queue, status=Ticket.Status.CLOSED, closed_at=timezone.now() - timedelta(days=31))
    MessageFactory(ticket=ticket, body_text=long_body())
    assert privacy.purge_expired_tickets() == 1
    assert not Message.objects.filter(search_excerpt__contains=SECRET).exists()
    assert search_tickets(ana, SECRET) == ([], False)


def test_the_backfill_gives_long_bodies_their_excerpt_in_batches_and_changes_no_snippet(queue, ana):
    ticket = TicketFactory(queue=queue)
    body = long_body()
    long_ids = [MessageFactory(ticket=ticket, body_text=body).pk for _ in range(3)]
    short = MessageFactory(ticket=ticket, body_text=f"{SECRET} curto")
    # As written before the column existed.
    Message.objects.update(search_excerpt=None)
    before, _more = search_tickets(ana, SECRET)
    after, filled, batches = 0, 0, 0
    while True:
        after, count = fill_search_excerpts(after=after, batch_size=2)
        if not after:
            break
        filled, batches = filled + count, batches + 1
    assert (filled, batches) == (3, 2)
    stored = dict(Message.objects.values_list("pk", "search_excerpt"))
    assert all(stored[pk] == body[:SEARCH_EXCERPT_CHARS] for pk in long_ids)
    assert stored[short.pk] is None
    assert fill_search_excerpts(after=0, batch_size=10) == (short.pk, 0)  # a second run finds nothing to do
    again, _more = search_tickets(ana, SECRET)
    assert [(h.ticket, h.snippet) for h in again] == [(h.ticket, h.snippet) for h in before]


# Outside a transaction, as a page runs it (inside one the candidates' query hands back a planner setting).
@pytest.mark.django_db(transaction=True)
def test_a_search_page_costs_two_queries_whatever_it_finds(queue, ana, django_assert_num_queries):
    for n in range(3):
        ticket = TicketFactory(queue=queue, subject=f"Conta {n}", requester__email=f"p{n}@example.com")
        MessageFactory(ticket=ticket, body_text=long_body())
        MessageFactory(ticket=ticket, body_text="a conta voltou")
    search_tickets(ana, "senha")  # the user's role, read once per request (a page has read it by then)
    planner = "SHOW max_parallel_workers_per_gather"
    with connection.cursor() as cursor:
        cursor.execute(planner)
        before = cursor.fetchone()
    with django_assert_num_queries(2):
        hits, _more = search_tickets(ana, "conta")
    assert len(hits) == 3
    with connection.cursor() as cursor:  # the candidates' query turned parallel workers off for itself only
        cursor.execute(planner)
        assert cursor.fetchone() == before
    with django_assert_num_queries(2):
        hits, _more = search_tickets(ana, "p1@example.com")
    assert [h.ticket.subject for h in hits] == ["Conta 1"]
