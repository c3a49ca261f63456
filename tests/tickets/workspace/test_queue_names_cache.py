"""The queues' names in the sidebar and the move menus are kept per set of queues (tickets/workspace/selectors.py,
`movable_queues`): a second page reads no queue names, and each change (a queue renamed, joined, left, created
for an admin, deleted) is on the next page, in the sidebar, the list's menus and the ticket's queue menu."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import QueueFactory, TicketFactory, associate
from tests.tickets.workspace.menus import menu, page, ticket_menu
from tickets.models import Queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendered_every_time")]


def _sidebar(client) -> str:
    """The list's move menu and its sidebar's queues."""
    html = page(client, reverse("workspace", args=["all"]))
    start = html.index('class="view-list"', html.index("<h2>Queues</h2>"))
    return menu(html, "set_queue") + html[start : html.index("</ul>", start)]


def _ticket_menu(client, ticket) -> str:
    return ticket_menu(client, ticket, "queue")


def _names_read(queries) -> bool:
    """The query of `movable_queues`: queue names only, no counts."""
    return any(
        q["sql"].startswith('SELECT "tickets_queue"."id", "tickets_queue"."name", "tickets_queue"."slug" FROM')
        for q in queries.captured_queries
    )


def test_a_second_page_reads_no_queue_names(client, agent, queue):
    client.force_login(agent)
    with CaptureQueriesContext(connection) as first:
        assert "Suporte" in _sidebar(client)
    with CaptureQueriesContext(connection) as second:
        assert "Suporte" in _sidebar(client)
    assert _names_read(first) and not _names_read(second)


@pytest.mark.parametrize(
    ("change", "shown", "gone"),
    [
        (lambda agent, queue: setattr(queue, "name", "Atendimento") or queue.save(), "Atendimento", "Suporte"),
        (lambda agent, queue: QueueFactory(slug="contas", name="Contas").members.add(agent), "Contas", None),
        (lambda agent, queue: queue.members.remove(agent), None, "Suporte"),
    ],
    ids=["renamed", "joined", "left"],
)
def test_a_change_of_queues_is_on_the_next_page(client, agent, queue, change, shown, gone):
    QueueFactory(slug="outra", name="Outra fila")
    home = QueueFactory(slug="casa", name="Casa")
    home.members.add(agent)
    ticket = TicketFactory(queue=home)
    client.force_login(agent)
    assert "Suporte" in _sidebar(client) and "Suporte" in _ticket_menu(client, ticket)
    change(agent, queue)
    for shows in (_sidebar(client), _ticket_menu(client, ticket)):
        if shown:
            assert shown in shows
        if gone:
            assert gone not in shows
        assert "Outra fila" not in shows


def test_an_admin_sees_a_new_queue_and_not_a_deleted_one(client, queue):
    admin = associate([queue], username="admin", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert "Suporte" in _sidebar(client)
    QueueFactory(slug="nova", name="Nova fila")
    assert "Nova fila" in _sidebar(client)
    Queue.objects.get(slug="nova").delete()
    assert "Nova fila" not in _sidebar(client)


def test_the_escalation_menu_shows_each_change_of_the_cross_functional_queues(client, agent, queue):
    ticket = TicketFactory(queue=queue)
    QueueFactory(slug="engenharia", name="Engenharia", kind=Queue.Kind.CROSS_FUNCTIONAL)
    client.force_login(agent)

    def escalation_menu() -> str:
        return ticket_menu(client, ticket, "target_queue")

    def read(queries) -> bool:
        return any("cross_functional" in q["sql"] for q in queries.captured_queries)

    with CaptureQueriesContext(connection) as first:
        assert "Engenharia" in escalation_menu()
    with CaptureQueriesContext(connection) as again:
        assert "Engenharia" in escalation_menu()
    assert read(first) and not read(again)
    engineering = Queue.objects.get(slug="engenharia")
    engineering.name = "Engenharia de produto"
    engineering.save()
    assert "Engenharia de produto" in escalation_menu()
    QueueFactory(slug="juridico", name="Jurídico", kind=Queue.Kind.CROSS_FUNCTIONAL)
    assert "Jurídico" in escalation_menu()


def test_saved_views_are_read_once_and_each_save_or_delete_is_on_the_next_page(client, agent, queue):
    from tickets.models import SavedView

    other = associate([queue], username="caio")
    SavedView.objects.create(user=other, name="Do Caio", query="/work/all/?tag=caio")
    client.force_login(agent)

    def sidebar() -> tuple[str, bool]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("workspace", args=["all"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        return html, any("tickets_savedview" in q["sql"] for q in queries.captured_queries)

    html, read = sidebar()
    assert read and "Saved views" not in html
    assert sidebar()[1] is False
    client.post(reverse("saved_view_save"), {"name": "VIP em inglês", "query": "?language=en&tag=vip"})
    html, read = sidebar()
    assert read and "VIP em inglês" in html and "Do Caio" not in html
    assert sidebar()[1] is False
    saved = SavedView.objects.get(user=agent)
    client.post(reverse("saved_view_delete", args=[saved.pk]))
    html, read = sidebar()
    assert read and "VIP em inglês" not in html
