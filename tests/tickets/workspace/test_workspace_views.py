"""Workspace pages and API: lists, search, the ticket page, actions, collision, permissions."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import MessageFactory, QueueFactory, RequesterFactory, TicketFactory, associate
from tickets.models import Message, SavedView, Ticket
from tickets.workspace import presence
from tickets.workspace import selectors as workspace_selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    return QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])


@pytest.fixture
def agent(queue):
    return associate([queue], username="bia")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_my_tickets_lists_only_mine_and_counts_show_in_the_sidebar(client_for, agent, queue, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    mine = TicketFactory(queue=queue, assignee=agent, subject="Minha senha")
    TicketFactory(queue=queue, subject="De outra pessoa")
    client = client_for(agent)
    response = client.get(reverse("workspace", args=["mine"]))
    assert response.status_code == 200
    assert [t.pk for t in response.context["page"].tickets] == [mine.pk]
    counts = dict(client.get(reverse("workspace_counts")).context["counts"])
    assert (counts["mine"], counts["unassigned"]) == (1, 1)


def test_list_filters_and_keyset_pages_cover_every_ticket_once(client_for, agent, queue):
    tickets = TicketFactory.create_batch(7, queue=queue, language="pt")
    TicketFactory(queue=queue, language="en")
    client = client_for(agent)
    seen, url = [], reverse("workspace", args=["all"]) + "?language=pt&sort=number"
    for _ in range(5):
        response = client.get(url)
        page = response.context["page"]
        seen += [t.number for t in page.tickets]
        if not page.next_cursor:
            break
        url = reverse("workspace", args=["all"]) + "?" + response.context["next_query"]
    assert seen == sorted((t.number for t in tickets), reverse=True)


def test_list_paginates_in_pages_of_fifty_with_constant_queries(client_for, agent, queue):
    TicketFactory.create_batch(55, queue=queue)
    client = client_for(agent)
    client.get(reverse("workspace", args=["all"]))  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("workspace", args=["all"]))
    assert len(response.context["page"].tickets) == 50
    assert response.context["page"].next_cursor
    assert len(queries) <= 15


def test_breaching_soon_orders_by_due_time(client_for, agent, queue):
    now = timezone.now()
    late = TicketFactory(queue=queue, resolution_due_at=now + timedelta(hours=3))
    early = TicketFactory(queue=queue, resolution_due_at=now + timedelta(minutes=10))
    TicketFactory(queue=queue, resolution_due_at=now + timedelta(days=3))
    response = client_for(agent).get(reverse("workspace", args=["breaching"]))
    assert [t.pk for t in response.context["page"].tickets] == [early.pk, late.pk]


def test_queue_view_of_a_queue_outside_mine_is_not_found(client_for, agent):
    QueueFactory(slug="secreta")
    assert client_for(agent).get(reverse("workspace_queue", args=["secreta"])).status_code == 404


def test_search_finds_words_without_accents_in_bodies_subjects_and_addresses(client_for, agent, queue):
    by_body = TicketFactory(queue=queue, subject="Problema", requester=RequesterFactory(email="joao@example.com"))
    MessageFactory(ticket=by_body, body_text="Não recebo a notificação de vídeos novos")
    by_subject = TicketFactory(queue=queue, subject="Notificação atrasada")
    english = TicketFactory(queue=queue, subject="Help", language="en")
    MessageFactory(ticket=english, body_text="My uploads keep failing")
    hidden = TicketFactory(queue=QueueFactory(slug="outra"), subject="notificacao secreta")
    client = client_for(agent)

    found = [h.ticket.pk for h in client.get(reverse("search"), {"q": "notificacao"}).context["hits"]]
    assert set(found) == {by_body.pk, by_subject.pk}
    assert hidden.pk not in found
    response = client.get(reverse("search"), {"q": "upload"})
    assert [h.ticket.pk for h in response.context["hits"]] == [english.pk]
    assert "<mark>uploads</mark>" in response.content.decode()
    by_address = client.get(reverse("search"), {"q": "JOAO@example.com"}).context["hits"]
    assert [h.ticket.pk for h in by_address] == [by_body.pk]


def test_search_snippet_escapes_html_from_the_mail(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    MessageFactory(ticket=ticket, body_text="minha senha 1 < 2 <img src=x onerror=alert(1)>")
    hits = client_for(agent).get(reverse("search"), {"q": "senha"}).context["hits"]
    assert "<mark>senha</mark>" in hits[0].snippet
    assert "<img" not in hits[0].snippet
    assert "&lt;" in hits[0].snippet


def test_ticket_page_shows_thread_notes_timeline_and_other_tickets_in_few_queries(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    MessageFactory.create_batch(30, ticket=ticket)
    MessageFactory(ticket=ticket, direction="note", body_text="Nota interna")
    older = TicketFactory(queue=queue, requester=ticket.requester, subject="Pedido antigo")
    client = client_for(agent)
    client.get(reverse("ticket", args=[ticket.number]))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ticket", args=[ticket.number]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "message-note" in content and "Nota interna" in content
    assert len(queries) <= 15
    # The requester's other tickets load after the page, from a link that works without JavaScript too.
    other_tickets = reverse("ticket_requester_tickets", args=[ticket.number])
    assert f'hx-get="{other_tickets}"' in content and f'href="{other_tickets}"' in content
    assert f"#{older.number}" not in content
    listed = client.get(other_tickets).content.decode()
    assert f"#{older.number}" in listed and "Pedido antigo" in listed and f"#{ticket.number}<" not in listed


def test_timeline_lists_every_change_with_its_author(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    client = client_for(agent)
    client.post(reverse("ticket_fields", args=[ticket.number]), {"priority": "4"})
    content = client.get(reverse("ticket_timeline", args=[ticket.number])).content.decode()
    assert 'data-kind="priority_changed"' in content
    assert agent.username in content or agent.get_full_name() in content


def test_ticket_of_another_queue_is_not_found_and_cannot_be_changed(client_for, agent):
    foreign = TicketFactory(queue=QueueFactory(slug="outra"))
    client = client_for(agent)
    assert client.get(reverse("ticket", args=[foreign.number])).status_code == 404
    assert client.post(reverse("ticket_fields", args=[foreign.number]), {"status": "solved"}).status_code == 403
    reply = client.post(reverse("ticket_reply", args=[foreign.number]), {"mode": "reply", "body": "x"})
    assert reply.status_code == 403
    foreign.refresh_from_db()
    assert foreign.status == Ticket.Status.NEW


def test_reply_form_sends_and_solves(client_for, agent, queue, django_capture_on_commit_callbacks):
    ticket = TicketFactory(queue=queue)
    client = client_for(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ticket_reply", args=[ticket.number]),
            {"mode": "reply", "body": "Tudo certo!", "set_status": "solved"},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    assert any(sent.body.startswith("Tudo certo!") for sent in mail.outbox)


def test_reply_form_asks_to_confirm_when_someone_replied_since_the_page_loaded(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    seen = MessageFactory(ticket=ticket).pk
    MessageFactory(ticket=ticket, direction="out", author=associate([queue], username="davi"), body_text="Oi!")
    response = client_for(agent).post(
        reverse("ticket_reply", args=[ticket.number]), {"mode": "reply", "body": "Olá", "seen_message": seen}
    )
    assert response.status_code == 409
    assert 'data-testid="reply-conflict"' in response.content.decode()
    assert not ticket.messages.filter(author=agent).exists()


def test_next_ticket_button_opens_the_claimed_ticket(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    response = client_for(agent).post(reverse("next_ticket"))
    assert response.url == reverse("ticket", args=[ticket.number])
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_bulk_assign_from_a_list(client_for, agent, queue):
    tickets = TicketFactory.create_batch(2, queue=queue)
    response = client_for(agent).post(
        reverse("workspace_bulk"),
        {"tickets": [t.number for t in tickets], "action": "assign", "value": str(agent.pk)},
    )
    assert response.status_code == 302
    assert Ticket.objects.filter(assignee=agent).count() == 2


def test_bulk_changes_are_picked_from_menus_in_the_readers_language(client_for, agent, queue):
    colleague = associate([queue], username="davi", first_name="Davi", last_name="Lima")
    tickets = TicketFactory.create_batch(2, queue=queue, status=Ticket.Status.OPEN)
    client = client_for(agent)
    page = client.get(reverse("workspace", args=["all"])).content.decode()
    # Pickers with labels, not English words to type ("pendente" used to give "Unknown status").
    assert '<option value="pending">Pendente</option>' in page
    assert f'<option value="{colleague.pk}">Davi Lima</option>' in page

    response = client.post(
        reverse("workspace_bulk"),
        {
            "tickets": [t.number for t in tickets],
            "set_status": "pending",
            "set_priority": "3",
            "set_assignee": str(colleague.pk),
            "add_tag": "pagamento",
        },
    )
    assert response.status_code == 302
    for ticket in tickets:
        ticket.refresh_from_db()
        assert (ticket.status, ticket.priority, ticket.assignee, ticket.tags) == (
            Ticket.Status.PENDING,
            Ticket.Priority.HIGH,
            colleague,
            ["pagamento"],
        )


def test_bulk_with_nothing_picked_changes_nothing_and_says_so(client_for, agent, queue):
    ticket = TicketFactory(queue=queue, status=Ticket.Status.OPEN)
    client = client_for(agent)
    response = client.post(reverse("workspace_bulk"), {"tickets": [ticket.number]}, follow=True)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert "Escolha uma alteração para os chamados selecionados." in response.content.decode()


def test_saved_view_keeps_the_filters(client_for, agent):
    client = client_for(agent)
    client.post(
        reverse("saved_view_save"), {"name": "Urgentes", "path": "/work/all/", "query": "priority=4&language=pt"}
    )
    saved = SavedView.objects.get(user=agent)
    assert saved.query == "/work/all/?priority=4&language=pt"
    assert "Urgentes" in client.get(reverse("workspace", args=["mine"])).content.decode()


def test_second_viewer_sees_who_else_is_on_the_ticket(client_for, agent, queue, clear_cache):
    ticket = TicketFactory(queue=queue)
    colleague = associate([queue], username="davi")
    colleague.first_name, colleague.last_name = "Davi", "Lima"
    presence.report(ticket.pk, colleague, presence.TYPING)
    response = client_for(agent).post(reverse("ticket_presence", args=[ticket.number]), {"typing": "0"})
    assert "Davi Lima está escrevendo" in response.content.decode()
    presence.leave(ticket.pk, colleague)
    response = client_for(agent).post(reverse("ticket_presence", args=[ticket.number]), {"typing": "0"})
    assert "Davi" not in response.content.decode()


def test_ticket_page_in_portuguese(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    client = client_for(agent)
    client.cookies["django_language"] = "pt-br"
    content = client.get(reverse("ticket", args=[ticket.number])).content.decode()
    assert "Enviar e resolver" in content


class TestApi:
    @pytest.fixture
    def api(self, agent):
        client = APIClient()
        client.force_authenticate(agent)
        return client

    def test_reply_note_fields_next_and_merge(self, api, agent, queue, django_capture_on_commit_callbacks):
        ticket = TicketFactory(queue=queue)
        base = f"/api/v1/tickets/{ticket.number}/"
        with django_capture_on_commit_callbacks(execute=True):
            reply = api.post(base + "reply/", {"body": "Olá!", "set_status": "pending"}, format="json")
        assert reply.status_code == 201 and reply.json()["direction"] == "out"
        assert api.post(base + "note/", {"body": "nota"}, format="json").json()["direction"] == "note"
        changed = api.patch(base, {"priority": 4, "tags": ["vip"]}, format="json")
        assert changed.json()["priority"] == 4 and changed.json()["tags"] == ["vip"]
        waiting = TicketFactory(queue=queue)
        assert api.post("/api/v1/tickets/next/").json()["number"] == waiting.number
        assert api.post("/api/v1/tickets/next/").status_code == 204
        merged = api.post(f"/api/v1/tickets/{waiting.number}/merge/", {"into": ticket.number}, format="json")
        assert merged.json()["number"] == ticket.number
        # The merge notice answers the merged ticket's requester on that ticket's own thread.
        assert Message.objects.filter(ticket=waiting, direction="out").count() == 1

    def test_api_applies_the_same_queue_rules(self, api):
        foreign = TicketFactory(queue=QueueFactory(slug="outra"))
        base = f"/api/v1/tickets/{foreign.number}/"
        assert api.get(base).status_code == 404
        assert api.post(base + "reply/", {"body": "x"}, format="json").status_code == 403
        assert api.patch(base, {"status": "solved"}, format="json").status_code == 403

    def test_search_and_schema(self, api, queue):
        ticket = TicketFactory(queue=queue, subject="Conta hackeada")
        hits = api.get("/api/v1/tickets/search/", {"q": "hackeada"}).json()
        assert [h["ticket"]["number"] for h in hits] == [ticket.number]
        schema = api.get("/api/schema/").content.decode()
        for path in ("/api/v1/tickets/{number}/reply/", "/api/v1/tickets/next/", "/api/v1/tickets/search/"):
            assert path in schema


def test_long_thread_shows_the_latest_messages_and_loads_earlier_ones_on_demand(client_for, agent, queue):
    ticket = TicketFactory(queue=queue)
    now = timezone.now()
    messages = [
        MessageFactory(ticket=ticket, body_text=f"mensagem {i}", created_at=now - timedelta(minutes=100 - i))
        for i in range(35)
    ]
    client = client_for(agent)
    response = client.get(reverse("ticket", args=[ticket.number]))
    assert [m.pk for m in response.context["thread"]] == [m.pk for m in messages[5:]]
    assert response.context["earlier_count"] == 5
    earlier = client.get(
        reverse("ticket_earlier_messages", args=[ticket.number]), {"before": messages[5].pk}, HTTP_HX_REQUEST="true"
    )
    assert [m.pk for m in earlier.context["thread"]] == [m.pk for m in messages[:5]]
    everything = client.get(reverse("ticket", args=[ticket.number]), {"thread": "all"})
    assert len(everything.context["thread"]) == 35


def test_sidebar_counts_stop_at_the_cap(client_for, agent, queue, settings, monkeypatch):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    monkeypatch.setattr(workspace_selectors, "COUNT_CAP", 2)
    TicketFactory.create_batch(3, queue=queue)
    TicketFactory(queue=queue, status="pending")
    content = client_for(agent).get(reverse("workspace_counts")).content.decode()
    assert 'data-testid="count-unassigned" hx-swap-oob="true">2+<' in content
    assert 'data-testid="count-pending" hx-swap-oob="true">1<' in content


def test_list_shows_each_tickets_most_urgent_clock_in_colour_without_a_query_per_row(
    client_for, agent, queue, settings
):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0  # every request below is rendered
    now = timezone.now()
    breached = TicketFactory(queue=queue, first_response_due_at=now - timedelta(minutes=5))
    warning = TicketFactory(
        queue=queue, resolution_warn_at=now - timedelta(minutes=1), resolution_due_at=now + timedelta(minutes=30)
    )
    calm = TicketFactory(queue=queue, resolution_due_at=now + timedelta(days=2))
    client = client_for(agent)
    client.get(reverse("workspace", args=["all"]))
    with CaptureQueriesContext(connection) as few:
        html = client.get(reverse("workspace", args=["all"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    TicketFactory.create_batch(20, queue=queue, resolution_due_at=now + timedelta(hours=5))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("workspace", args=["all"]))
    assert len(many) == len(few)

    def cell(ticket):
        row = html[html.index(f'href="/tickets/{ticket.number}/"') :]
        return row[: row.index("</tr>")]

    assert 'data-state="breached"' in cell(breached) and "overdue by" in cell(breached)
    assert 'data-state="warning"' in cell(warning) and "left" in cell(warning)
    assert 'data-state="ok"' in cell(calm)


def test_list_rows_escape_what_people_wrote_mask_sensitive_subjects_and_speak_portuguese(client_for, agent, queue):
    now = timezone.now()
    plain = TicketFactory(
        queue=queue,
        subject="<script>alert(1)</script> & senha",
        tags=["vip", "<b>x</b>"],
        priority=Ticket.Priority.URGENT,
        first_response_due_at=now + timedelta(hours=3),
    )
    flagged = TicketFactory(queue=queue, subject="Ameaça no comentário", sensitivity=["hate_speech"])
    untitled = TicketFactory(queue=queue, subject="")
    html = client_for(agent).get(reverse("workspace", args=["all"]), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()

    def row(ticket):
        start = html.index(f'data-href="/tickets/{ticket.number}/"')
        return html[start : html.index("</tr>", start)]

    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; senha" in row(plain)
    assert '<span class="tag">vip</span> <span class="tag">&lt;b&gt;x&lt;/b&gt;</span>' in row(plain)
    assert f'aria-label="Selecionar o chamado #{plain.number}"' in row(plain)
    assert "Urgente" in row(plain) and 'class="priority-4"' in row(plain)
    assert "faltam 2\xa0horas" in row(plain) or "faltam 3\xa0horas" in row(plain)
    assert "Ameaça" not in row(flagged)
    assert 'data-testid="masked-subject"' in row(flagged) and "Conteúdo sensível" in row(flagged)
    assert "(sem assunto)" in row(untitled)


def test_sidebar_counts_read_99_plus_past_ninety_nine_tickets(client_for, agent, queue, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    TicketFactory.create_batch(100, queue=queue)
    TicketFactory.create_batch(99, queue=queue, status="pending", assignee=agent)
    content = client_for(agent).get(reverse("workspace_counts")).content.decode()
    assert 'data-testid="count-unassigned" hx-swap-oob="true">99+<' in content
    assert 'data-testid="count-pending" hx-swap-oob="true">99<' in content
    assert f'data-testid="queue-count-{queue.slug}" hx-swap-oob="true">99+<' in content  # the queue's own count


def test_the_list_page_reads_no_count_and_its_badges_come_from_one_request_after_it(client_for, agent, queue, settings):
    """The page holds an empty badge per view and queue and asks `workspace_counts` for them once shown; the
    counts reply fills each badge by its id, so every id it sends is one the page has."""
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    TicketFactory.create_batch(2, queue=queue)
    client = client_for(agent)
    page = client.get(reverse("workspace", args=["mine"])).content.decode()
    assert f'hx-get="{reverse("workspace_counts")}" hx-trigger="load" hx-swap="none"' in page
    assert 'id="count-unassigned" data-testid="count-unassigned"></span>' in page
    assert f'id="queue-count-{queue.pk}" data-testid="queue-count-{queue.slug}"></span>' in page
    counts = client.get(reverse("workspace_counts")).content.decode()
    sent = re.findall(r'<span class="count" id="([^"]+)"[^>]*hx-swap-oob="true">([^<]*)</span>', counts)
    assert dict(sent)["count-unassigned"] == "2" and dict(sent)[f"queue-count-{queue.pk}"] == "2"
    assert all(f'id="{badge}"' in page for badge, _count in sent)
    # The search page shows the same sidebar.
    search = client.get(reverse("search"), {"q": "x"}).content.decode()
    assert all(f'id="{badge}"' in search for badge, _count in sent)


def test_breaching_soon_is_any_clock_that_still_counts_due_within_the_window(agent, queue):
    """The view reads one indexed expression (`earliest_due`); it selects what the three clocks spelled out
    select: the first response's until answered, the next response's, the resolution's; never a pending ticket."""
    from django.db.models import Q

    now = timezone.now()
    soon, later = now + timedelta(hours=1), now + timedelta(days=2)
    cases = {
        "first response due": {"first_response_due_at": soon},
        "first response due but answered": {"first_response_due_at": soon, "first_responded_at": now},
        "answered, next response due": {
            "first_response_due_at": soon,
            "first_responded_at": now,
            "next_response_due_at": soon,
        },
        "resolution due": {"resolution_due_at": soon, "first_response_due_at": later},
        "all later": {"first_response_due_at": later, "next_response_due_at": later, "resolution_due_at": later},
        "no clock": {},
        "overdue, pending": {"resolution_due_at": now - timedelta(hours=1), "status": "pending"},
        "overdue, on hold": {"resolution_due_at": now - timedelta(hours=1), "status": "on_hold"},
        "overdue, solved": {"resolution_due_at": now - timedelta(hours=1), "status": "solved"},
    }
    for name, fields in cases.items():
        TicketFactory(queue=queue, subject=name, **fields)
    window = now + workspace_selectors.BREACHING_WINDOW
    spelled_out = Q(status__in=["new", "open", "on_hold"]) & (
        Q(first_response_due_at__lte=window, first_responded_at__isnull=True)
        | Q(next_response_due_at__lte=window)
        | Q(resolution_due_at__lte=window)
    )
    found = set(workspace_selectors.view_queryset(agent, "breaching", now).values_list("subject", flat=True))
    assert found == set(Ticket.objects.filter(spelled_out).values_list("subject", flat=True))
    assert found == {"first response due", "answered, next response due", "resolution due", "overdue, on hold"}
