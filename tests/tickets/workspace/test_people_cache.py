"""The assignee menus keep the people of each set of queues (tickets/workspace/selectors.py, `queue_members`):
a second page reads no one, and every way the people change (joining or leaving a queue, a new name, a
deactivated or deleted account) is on the next page, in the list's bulk picker and the ticket's menu."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import generations
from tests.factories import QueueFactory, TicketFactory, associate
from tests.tickets.workspace.menus import list_menu, ticket_menu
from tickets.workspace import selectors

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendered_every_time")]


@pytest.fixture
def caio(queue):
    return associate([queue], username="caio", first_name="Caio", last_name="Lima")


def _bulk_picker(client) -> str:
    return list_menu(client, "set_assignee")


def _ticket_menu(client, ticket) -> str:
    return ticket_menu(client, ticket, "assignee")


def _members_read(queries) -> bool:
    return any("tickets_queue_members" in q["sql"] and "DISTINCT" in q["sql"] for q in queries.captured_queries)


def test_a_second_page_reads_no_one(client, agent, caio):
    client.force_login(agent)
    with CaptureQueriesContext(connection) as first:
        assert "Caio Lima" in _bulk_picker(client)
    with CaptureQueriesContext(connection) as second:
        assert "Caio Lima" in _bulk_picker(client)
    assert _members_read(first) and not _members_read(second)


@pytest.mark.parametrize(
    ("change", "shown", "gone"),
    [
        (lambda queue, caio: associate([queue], username="duda", first_name="Duda"), "Duda", None),
        (lambda queue, caio: queue.members.remove(caio), None, "Caio Lima"),
        (lambda queue, caio: caio.support_queues.clear(), None, "Caio Lima"),
        (lambda queue, caio: setattr(caio, "last_name", "Nogueira") or caio.save(), "Caio Nogueira", "Caio Lima"),
        (lambda queue, caio: setattr(caio, "is_active", False) or caio.save(), None, "Caio Lima"),
        (lambda queue, caio: caio.delete(), None, "Caio Lima"),
    ],
    ids=["joined", "removed-from-queue", "left-every-queue", "renamed", "deactivated", "deleted"],
)
def test_a_change_of_people_is_on_the_next_page(client, agent, caio, queue, change, shown, gone):
    ticket = TicketFactory(queue=queue)
    client.force_login(agent)
    before = (_bulk_picker(client), _ticket_menu(client, ticket))
    assert all("Caio Lima" in menu for menu in before)
    change(queue, caio)
    for menu in (_bulk_picker(client), _ticket_menu(client, ticket)):
        if shown:
            assert shown in menu
        if gone:
            assert gone not in menu


def test_signing_in_keeps_the_people(client, agent, caio):
    client.force_login(agent)
    token = generations.current(selectors.PEOPLE)
    client.force_login(caio)  # writes caio's last_login
    assert generations.current(selectors.PEOPLE) == token


def test_each_set_of_queues_has_its_own_people(client, agent, caio, queue):
    other = QueueFactory(slug="outra", name="Outra")
    eva = associate([other], username="eva", first_name="Eva", last_name="Reis")
    assert [name for _pk, name in selectors.queue_members([queue.pk])] == ["Bia Souza", "Caio Lima"]
    assert [name for _pk, name in selectors.queue_members([other.pk])] == ["Eva Reis"]
    assert [pk for pk, _name in selectors.queue_members([other.pk, queue.pk])] == [agent.pk, caio.pk, eva.pk]


def test_without_the_cache_the_people_are_read_every_time(client, agent, caio, monkeypatch):
    from django.core.cache import caches

    # The shared cache as while Redis does not answer (helpdesk/cache.py): every read misses.
    monkeypatch.setattr(caches["default"], "_down_until", float("inf"))
    client.force_login(agent)
    _bulk_picker(client)
    with CaptureQueriesContext(connection) as again:
        assert "Caio Lima" in _bulk_picker(client)
    assert _members_read(again)
