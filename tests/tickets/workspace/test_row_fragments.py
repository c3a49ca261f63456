"""The rows of a ticket list are rendered once and kept (tickets/workspace/rows.py): a kept row is never shown
after its ticket, requester, queue or assignee changed, nor in another language or time zone, and its SLA
cell is always of the moment."""

import inspect
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince, timeuntil

from accounts.middleware import SESSION_TIMEZONE_KEY
from tests.factories import RequesterFactory, TicketFactory
from tickets.models import Requester, Ticket
from tickets.workspace import rows

# Every request renders the page: what is under test is the cache of its rows.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendered_every_time")]


@pytest.fixture
def built(monkeypatch):
    """The tickets whose row was built (not taken from the cache), by number."""
    numbers = []
    build = rows._row

    def counting(ticket, page):
        numbers.append(ticket.number)
        return build(ticket, page)

    monkeypatch.setattr(rows, "_row", counting)
    return numbers


def _row(html: str, ticket: Ticket) -> str:
    start = html.index(f'data-href="/tickets/{ticket.number}/"')
    return html[start : html.index("</tr>", start)]


def _list(client, language: str = "pt-br") -> str:
    return client.get(reverse("workspace", args=["all"]), HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_a_change_rebuilds_that_row_only_and_a_kept_row_reads_as_a_new_one(client, agent, queue, built):
    first, second = TicketFactory(queue=queue, subject="Senha"), TicketFactory(queue=queue, subject="Upload")
    client.force_login(agent)
    fresh = _list(client)
    assert sorted(built) == sorted([first.number, second.number])
    built.clear()
    kept = _list(client)
    assert built == []  # every row kept, with the same markup
    assert [_row(kept, t) for t in (first, second)] == [_row(fresh, t) for t in (first, second)]
    # A write that does not even move updated_at (a queryset update) still gives the row a new key.
    Ticket.objects.filter(pk=first.pk).update(subject="Senha <nova>")
    html = _list(client)
    assert built == [first.number]
    assert "Senha &lt;nova&gt;" in _row(html, first) and "Upload" in _row(html, second)


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (lambda t: Requester.objects.filter(pk=t.requester_id).update(name="Rita Nova"), "Rita Nova"),
        (lambda t: type(t.queue).objects.filter(pk=t.queue_id).update(name="Fila Renomeada"), "Fila Renomeada"),
        (lambda t: Ticket.objects.filter(pk=t.pk).update(sensitivity=["self_harm"]), "Conteúdo sensível"),
        (lambda t: Ticket.objects.filter(pk=t.pk).update(status="pending"), "Pendente"),
        (lambda t: Ticket.objects.filter(pk=t.pk).update(tags=["vip"]), '<span class="tag">vip</span>'),
    ],
)
def test_what_a_row_shows_from_elsewhere_is_in_its_key(client, agent, queue, built, change, shown):
    ticket = TicketFactory(queue=queue, subject="Minha conta")
    client.force_login(agent)
    assert shown not in _row(_list(client), ticket)
    change(ticket)
    built.clear()
    assert shown in _row(_list(client), ticket)
    assert built == [ticket.number]


def test_the_assignees_name_is_in_the_key(client, agent, queue, built):
    ticket = TicketFactory(queue=queue, assignee=agent)
    client.force_login(agent)
    assert "Bia Souza" in _row(_list(client), ticket)
    type(agent).objects.filter(pk=agent.pk).update(first_name="Beatriz")
    built.clear()
    assert "Beatriz Souza" in _row(_list(client), ticket) and built == [ticket.number]


def test_each_language_and_time_zone_has_its_own_row(client, agent, queue, built):
    ticket = TicketFactory(queue=queue, priority=Ticket.Priority.URGENT)
    client.force_login(agent)
    assert "Urgente" in _row(_list(client, "pt-br"), ticket)
    assert "Urgent<" in _row(_list(client, "en"), ticket)
    assert built == [ticket.number, ticket.number]
    built.clear()
    session = client.session
    session[SESSION_TIMEZONE_KEY] = "Asia/Tokyo"
    session.save()
    _list(client, "en")
    assert built == [ticket.number]


def test_the_sla_cell_is_of_the_moment_in_a_kept_row(client, agent, queue, built):
    now = timezone.now()
    ticket = TicketFactory(queue=queue, first_response_due_at=now + timedelta(hours=5))
    client.force_login(agent)
    assert 'data-state="ok"' in _row(_list(client, "en"), ticket)
    Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=now - timedelta(minutes=10))
    built.clear()
    row = _row(_list(client, "en"), ticket)
    assert built == []  # the row was kept: the due time is not part of it
    assert 'data-state="breached"' in row and "overdue by" in row


def test_the_key_holds_every_field_the_row_reads():
    source = inspect.getsource(rows._row) + inspect.getsource(rows._subject)
    read = set(re.findall(r"\bticket\.(\w+)", source)) - {"requester", "assignee", "queue"}
    assert read <= set(rows.ROW_FIELDS), read - set(rows.ROW_FIELDS)
    key_source = inspect.getsource(rows.row_key)
    for related in re.findall(r"\b(requester\.\w+|assignee\.\w+|queue\.\w+)", source):
        assert related in key_source, related


def test_a_list_page_reads_no_field_its_query_left_out(client, agent, queue, monkeypatch):
    """The list's query loads only `LISTED_FIELDS` (as `ListedTicket`, which has no other field): a row
    reading any other field of the ticket, its queue or its people fails, or, were the rows model instances
    again, would load it with one query per row. Tickets in every SLA state, assigned and not, under every
    sort (the cursor reads the sort column)."""
    from django.contrib.auth.models import User

    from tickets.models import Queue
    from tickets.workspace.selectors import SORTS

    now = timezone.now()
    TicketFactory(queue=queue, first_response_due_at=now + timedelta(hours=5), first_response_warn_at=now)
    TicketFactory(queue=queue, first_response_due_at=now - timedelta(hours=1), first_responded_at=now, assignee=agent)
    TicketFactory(queue=queue, next_response_due_at=now + timedelta(hours=2), priority=4)
    TicketFactory(queue=queue, resolution_due_at=now + timedelta(days=1), resolution_paused_at=now,
                  resolution_remaining_seconds=600, status="pending")  # fmt: skip
    TicketFactory(queue=queue, resolution_due_at=now - timedelta(days=1), status="solved")
    TicketFactory.create_batch(3, queue=queue, tags=["vip"], sensitivity=["bullying"])
    loaded = []
    for model in (Ticket, Queue, Requester, User):
        monkeypatch.setattr(model, "refresh_from_db", lambda self, *a, **kw: loaded.append((type(self), kw)))
    client.force_login(agent)
    for view in ("all", "solved", "pending"):
        for sort in SORTS:
            for direction in ("", "-"):
                url = f"{reverse('workspace', args=[view])}?sort={direction}{sort}"
                html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
                assert "data-ticket-list" in html
    assert loaded == []


def test_the_search_page_reads_no_field_its_query_left_out(client, agent, queue, monkeypatch):
    """The search page loads only `rows.HIT_FIELDS` of each result: a result reading any other field of its
    ticket, queue or requester would load it with one query per result. Plain and flagged tickets, matched by
    subject, by body and by address."""
    from django.contrib.auth.models import User

    from tickets.models import Message, Queue

    requester = RequesterFactory(email="pessoa@example.com")
    TicketFactory(queue=queue, subject="reembolso da assinatura", requester=requester, tags=["vip"])
    TicketFactory(queue=queue, subject="reembolso negado", sensitivity=["bullying"], assignee=agent)
    body = TicketFactory(queue=queue, subject="outra coisa", requester=requester)
    Message.objects.create(ticket=body, direction="in", body_text="quero meu reembolso de volta")
    loaded = []
    for model in (Ticket, Queue, Requester, User):
        monkeypatch.setattr(model, "refresh_from_db", lambda self, *a, **kw: loaded.append((type(self), kw)))
    client.force_login(agent)
    for term in ("reembolso", "pessoa@example.com"):
        html = client.get(reverse("search"), {"q": term}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert html.count("data-row ") >= 2, term
    assert loaded == []


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_the_clock_phrases_translated_once_a_page_read_as_djangos_own(language):
    """`timesince` and `timeuntil` with the page's phrases (`rows._Counted`) give Django's own text, the same
    count asked again included, from 0 minutes to over a year, in both directions, in both languages."""
    now = timezone.now()
    spans = [timedelta(seconds=s) for s in (0, 59, 60, 61, 3599, 3600, 7260, 86400, 90061, 604800, 1209600)]
    spans += [timedelta(days=d, hours=d % 24, minutes=d % 60) for d in range(1, 800, 7)]
    with translation.override(language):
        phrases = rows._page().time_strings
        for span in spans * 2:
            assert timesince(now - span, now, time_strings=phrases) == timesince(now - span, now)
            assert timeuntil(now + span, now, time_strings=phrases) == timeuntil(now + span, now)
    assert {len(phrase.texts) for phrase in phrases.values()} != {0}  # the counts were kept


def test_a_row_read_from_plain_values_reads_as_one_read_from_the_model(agent, queue):
    """The list reads its tickets as plain values (`ListedTicket`): each row, its key and its SLA cell are
    those the model instance gives, in every SLA state, assigned (with and without a name) and not, flagged,
    tagged, with markup in what people wrote."""
    from django.contrib.auth.models import User

    from tickets.workspace.selectors import LISTED_FIELDS, ListedTicket

    now = timezone.now()
    nameless = User.objects.create_user("sem-nome")
    hour = timedelta(hours=1)
    odd = RequesterFactory(name="", email="a&b@example.com")
    made = [
        TicketFactory(queue=queue, first_response_due_at=now + 5 * hour, first_response_warn_at=now),
        TicketFactory(queue=queue, first_response_due_at=now - hour, first_responded_at=now, assignee=agent),
        TicketFactory(queue=queue, next_response_due_at=now - timedelta(minutes=3), priority=4, assignee=nameless),
        TicketFactory(
            queue=queue,
            resolution_due_at=now + 24 * hour,
            resolution_paused_at=now,
            resolution_remaining_seconds=600,
            status="pending",
        ),
        TicketFactory(queue=queue, resolution_due_at=now - 24 * hour, status="solved"),
        TicketFactory(
            queue=queue, subject='<b>"Oi" & tchau</b>', tags=["vip", "<x>"], sensitivity=["bullying"], requester=odd
        ),
    ]
    pks = [ticket.pk for ticket in made]
    listed = [
        ListedTicket.from_values(values)
        for values in Ticket.objects.filter(pk__in=pks).order_by("pk").values_list("pk", *LISTED_FIELDS)
    ]
    models = list(Ticket.objects.filter(pk__in=pks).order_by("pk").select_related("queue", "requester", "assignee"))
    for language in ("pt-br", "en"):
        with translation.override(language):
            page = rows._page()
            for plain, model in zip(listed, models, strict=True):
                assert rows._row(plain, page) == rows._row(model, page)
                assert rows._clock(plain, page) == rows._clock(model, page)
                assert rows.row_key(plain, "r") == rows.row_key(model, "r")
                assert plain.is_active == model.is_active
