"""The few seconds' page cache (helpdesk/pagecache.py): served again to the same user, never to another,
never hiding the user's own writes, bypassed by a hard reload and by waiting flash messages."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import MessageFactory, QueueFactory, TicketFactory, associate
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    return QueueFactory(slug="suporte", name="Suporte")


@pytest.fixture
def ana(queue):
    return associate([queue], username="ana")


@pytest.fixture
def client(client):
    """A browser that has been here before: it carries its CSRF cookie."""
    client.get(reverse("login"))
    return client


def _list(client, **headers):
    return client.get(reverse("workspace", args=["all"]), headers=headers)


def test_a_list_is_served_again_from_the_cache_to_the_same_user(client, queue, ana):
    TicketFactory(queue=queue, subject="Senha esquecida")
    client.force_login(ana)
    first = _list(client)
    second = _list(client)
    assert first["X-Page-Cache"] == "miss"
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert "Senha esquecida" in second.content.decode()


def test_what_others_change_shows_after_a_hard_reload(client, queue, ana):
    client.force_login(ana)
    _list(client)
    TicketFactory(queue=queue, subject="Vídeo sumiu")  # written by someone else: not this user's write
    assert "Vídeo sumiu" not in _list(client).content.decode()  # kept a few seconds, as a polling page
    fresh = _list(client, cache_control="no-cache")
    assert "Vídeo sumiu" in fresh.content.decode()


def test_the_users_own_write_always_shows_at_once(client, queue, ana):
    ticket = TicketFactory(queue=queue, subject="Conta bloqueada", status=Ticket.Status.OPEN)
    client.force_login(ana)
    _list(client)
    assert "status-pending" not in _list(client).content.decode()
    response = client.post(reverse("ticket_fields", args=[ticket.number]), {"status": Ticket.Status.PENDING})
    assert response.status_code in (200, 302)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    after = _list(client)
    assert "status-pending" in after.content.decode()


def test_another_user_never_gets_my_cached_page(client, queue, ana):
    TicketFactory(queue=queue, subject="Só para a fila de suporte")
    client.force_login(ana)
    assert "Só para a fila de suporte" in _list(client).content.decode()
    outsider = associate([QueueFactory(slug="legal")], username="leo")
    client.force_login(outsider)
    response = _list(client)
    assert response["X-Page-Cache"] == "miss"
    assert "Só para a fila de suporte" not in response.content.decode()


def test_each_language_has_its_own_copy(client, queue, ana):
    client.force_login(ana)
    english = _list(client, accept_language="en").content.decode()
    portuguese = _list(client, accept_language="pt-br").content.decode()
    assert 'lang="en"' in english
    assert 'lang="pt-br"' in portuguese


def test_a_page_with_a_flash_message_is_rendered_and_not_kept(client, queue, ana):
    client.force_login(ana)
    _list(client)
    client.post(reverse("saved_view_save"), {"name": "Minhas", "path": "/work/all/", "query": ""})
    shown = _list(client)  # the "saved" message waits for this page
    assert "X-Page-Cache" not in shown
    again = _list(client)
    assert again["X-Page-Cache"] == "miss"  # the page that carried the message was not kept
    assert _list(client)["X-Page-Cache"] == "hit"


def test_a_browser_without_its_csrf_cookie_yet_gets_a_page_of_its_own(client, queue, ana):
    client.force_login(ana)
    _list(client)
    client.cookies.pop("csrftoken")
    response = _list(client)
    assert "X-Page-Cache" not in response
    assert "csrftoken" in response.cookies


def test_turned_off_with_zero_seconds(client, queue, ana, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    client.force_login(ana)
    _list(client)
    assert "X-Page-Cache" not in _list(client)


def test_presence_pings_keep_the_cached_pages_but_real_changes_do_not(client, queue, ana):
    ticket = TicketFactory(queue=queue, subject="Live travando")
    client.force_login(ana)
    _list(client)
    assert _list(client)["X-Page-Cache"] == "hit"
    assert client.post(reverse("ticket_presence", args=[ticket.number])).status_code == 200
    assert _list(client)["X-Page-Cache"] == "hit"
    client.post(reverse("ticket_fields", args=[ticket.number]), {"priority": Ticket.Priority.HIGH})
    assert _list(client).get("X-Page-Cache") != "hit"


def test_the_ticket_page_is_kept_until_the_ticket_changes(client, queue, ana):
    ticket = TicketFactory(queue=queue, subject="Conta invadida")
    MessageFactory(ticket=ticket, body_text="Alguém entrou na minha conta.")
    client.force_login(ana)
    url = reverse("ticket", args=[ticket.number])
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"
    # The requester writes again, as mail in records it (not a write of this user's): the ticket's last
    # change moves on, and the page with it.
    MessageFactory(ticket=ticket, body_text="Mudaram meu e-mail também.")
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss"
    assert "Mudaram meu e-mail também." in fresh.content.decode()


def test_the_ticket_page_checks_access_on_every_view(client, queue, ana):
    ticket = TicketFactory(queue=queue)
    client.force_login(ana)
    url = reverse("ticket", args=[ticket.number])
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    queue.members.remove(ana)
    assert client.get(url).status_code == 404
