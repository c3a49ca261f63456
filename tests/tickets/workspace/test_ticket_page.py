"""The ticket page: one selector reads all of it for the viewer; upper apps add their panels through a hook."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sop import services as sop_services
from tests.factories import MessageFactory, QueueFactory, SOPFactory, TicketFactory, associate
from tickets.escalations import services as escalations
from tickets.models import Queue
from tickets.workspace import panels
from tickets.workspace.selectors import ticket_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    return QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])


@pytest.fixture
def agent(queue):
    return associate([queue], username="bia")


def test_one_selector_reads_thread_escalations_and_the_sop_panel_sop_contributes(queue, agent):
    ticket = TicketFactory(queue=queue)
    first, second = MessageFactory(ticket=ticket), MessageFactory(ticket=ticket)
    safety = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    engineering = QueueFactory(slug="engenharia", name="Engenharia", kind=Queue.Kind.CROSS_FUNCTIONAL)
    escalation = escalations.escalate(ticket, target_queue=safety, reason="Ameaça", actor=agent)
    sop = SOPFactory(slug="conta-invadida", queues=[queue])
    version = sop_services.create_version(
        sop, language=ticket.language, title="Conta invadida", body="Passos", steps=[("Confirmar o e-mail", True)]
    )
    sop_services.publish_version(version)

    page = ticket_page(ticket, viewer=agent)

    assert [m.pk for m in page.thread] == [first.pk, second.pk]
    assert page.last_message_id == second.pk and page.earlier_count == 0
    # An associate of the front line sees the escalation but may not hand it back; a queue the ticket is
    # escalated to right now is not offered again.
    assert page.escalations.history == [(escalation, False)]
    assert page.escalations.targets == [engineering]
    sop_panel = page.panels["sop_panel"]
    assert [entry.sop for entry in sop_panel["sops"]] == [sop]
    assert [step.text for step in sop_panel["unticked_required"]] == ["Confirmar o e-mail"]


def test_a_ticket_never_escalated_has_its_panel_without_reading_escalations(queue, agent):
    """The escalation history is read only for a ticket that has one (`db.ticket_page_facts` says which)."""
    ticket = TicketFactory(queue=queue)
    engineering = QueueFactory(slug="engenharia", name="Engenharia", kind=Queue.Kind.CROSS_FUNCTIONAL)
    with CaptureQueriesContext(connection) as queries:
        page = ticket_page(ticket, viewer=agent)
    assert page.escalations.history == [] and page.escalations.targets == [engineering]
    assert not [query for query in queries if 'FROM "tickets_escalation"' in query["sql"]]
    escalation = escalations.escalate(ticket, target_queue=engineering, reason="Erro", actor=agent)
    assert ticket_page(ticket, viewer=agent).escalations.history == [(escalation, False)]


def test_the_page_renders_without_any_panel_from_an_upper_app(client, queue, agent, monkeypatch, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    monkeypatch.setattr(panels, "_providers", {})
    ticket = TicketFactory(queue=queue, subject="Sem procedimentos")
    assert ticket_page(ticket, viewer=agent).panels == {}
    client.force_login(agent)
    response = client.get(reverse("ticket", args=[ticket.number]))
    assert response.status_code == 200
    assert "Sem procedimentos" in response.content.decode()


def test_a_reply_conflict_shows_the_page_with_the_reply_kept_and_a_later_visit_shows_it_afresh(client, queue, agent):
    ticket = TicketFactory(queue=queue)
    seen = MessageFactory(ticket=ticket).pk
    MessageFactory(ticket=ticket, direction="out", author=associate([queue], username="davi"), body_text="Oi!")
    client.force_login(agent)
    conflict = client.post(
        reverse("ticket_reply", args=[ticket.number]), {"mode": "reply", "body": "Olá, Maria", "seen_message": seen}
    )
    assert conflict.status_code == 409
    content = conflict.content.decode()
    assert 'data-testid="reply-conflict"' in content and "Olá, Maria" in content
    # The composer asks to confirm, knowing the thread as shown now, in the mode that was posted.
    assert '<input type="hidden" name="confirmed" value="True" id="id_confirmed">' in content
    newest = ticket.messages.order_by("-created_at", "-id").first().pk  # what the page now shows
    assert f'<input type="hidden" name="seen_message" value="{newest}" id="id_seen_message">' in content
    assert '<input type="radio" name="mode" value="reply" id="id_mode_0" required checked>' in content
    assert '<input type="radio" name="mode" value="note" id="id_mode_1" required>' in content
    # The conflict page answered a post: the page a later visit gets is the plain one, not the conflict.
    later = client.get(reverse("ticket", args=[ticket.number]))
    assert later.status_code == 200
    assert 'data-testid="reply-conflict"' not in later.content.decode()


def test_the_page_loads_each_feature_script_once_and_no_partial_carries_one(client, queue, agent, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    ticket = TicketFactory(queue=queue)
    client.force_login(agent)
    html = client.get(reverse("ticket", args=[ticket.number])).content.decode()
    for feature in ["wellbeing", "macro_picker", "sop_panel", "heartbeat", "assist"]:
        assert html.count(f"js/{feature}.js") == 1, feature
    templates = Path(settings.BASE_DIR) / "templates"
    loading = [str(path.relative_to(templates)) for path in templates.rglob("_*.html") if "<script" in path.read_text()]
    assert loading == []


def test_the_assignee_menu_lists_the_queues_people_with_the_assignee_selected_and_names_escaped(
    client, queue, agent, settings
):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    davi = associate([queue], username="davi", first_name="Davi <b>", last_name="Lima")
    ticket = TicketFactory(queue=queue, assignee=davi)
    client.force_login(agent)
    html = client.get(reverse("ticket", args=[ticket.number])).content.decode()
    menu = html[html.index('id="field-assignee"') : html.index("</select>", html.index('id="field-assignee"'))]
    assert f'<option value="{davi.pk}" selected>Davi &lt;b&gt; Lima</option>' in menu
    assert f'<option value="{agent.pk}">{agent.get_full_name()}</option>' in menu
    assert menu.count(" selected") == 1


def test_the_thread_leaves_its_search_columns_in_the_database_and_reads_no_field_late(
    client, queue, agent, monkeypatch, settings
):
    """The thread's query defers the messages' search vector and excerpt: no message of the page, whatever
    its kind (in, out, note, failed delivery), loads a field with a query of its own."""
    from tickets import selectors
    from tickets.models import Message

    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    ticket = TicketFactory(queue=queue)
    MessageFactory(ticket=ticket, body_text="Olá, não consigo entrar " * 200)
    MessageFactory(ticket=ticket, direction=Message.Direction.OUT, author=agent, body_html="<p>Oi!</p>")
    MessageFactory(ticket=ticket, direction=Message.Direction.NOTE, author=agent)
    failed = MessageFactory(ticket=ticket, direction=Message.Direction.OUT, author=agent)
    Message.objects.filter(pk=failed.pk).update(delivery_status=Message.Delivery.FAILED, delivery_error="550")
    assert selectors.thread(ticket)[0].get_deferred_fields() == {"search_document", "search_excerpt"}
    loaded = []
    monkeypatch.setattr(Message, "refresh_from_db", lambda self, *a, **kw: loaded.append(kw))
    client.force_login(agent)
    for language in ("pt-br", "en"):
        response = client.get(reverse("ticket", args=[ticket.number]), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert "não consigo entrar" in response.content.decode()
    assert loaded == []


def test_the_queue_menu_selects_the_tickets_queue_and_escapes_names(client, queue, agent, settings):
    """The ticket's queue menu: the queues the viewer may move it to, by name, the ticket's own selected; a
    queue the viewer may not move tickets to shows only when it is the ticket's own."""
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    other = QueueFactory(slug="vendas", name="Vendas <b>&</b>")
    agent.support_queues.add(other)
    elsewhere = QueueFactory(slug="juridico", name="Jurídico")
    safety = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    agent.support_queues.add(safety)  # sees what is escalated there
    client.force_login(agent)
    for ticket_queue, options in [
        (queue, ['"suporte" selected>Suporte<', '"vendas">Vendas &lt;b&gt;&amp;&lt;/b&gt;<']),
        (other, ['"suporte">Suporte<', '"vendas" selected>Vendas &lt;b&gt;&amp;&lt;/b&gt;<']),
        (elsewhere, ['"suporte">Suporte<', '"vendas">Vendas', '"juridico" selected>Jurídico<']),
    ]:
        ticket = TicketFactory(queue=ticket_queue)
        if ticket_queue is elsewhere:
            escalations.escalate(ticket, target_queue=safety, reason="Ver", actor=None)
        html = client.get(reverse("ticket", args=[ticket.number])).content.decode()
        start = html.index('id="field-queue"')
        menu = html[start : html.index("</select>", start)].replace("<option value=", "").replace('" >', '">')
        assert all(option in menu for option in options), menu
        assert menu.count(" selected>") == 1
