"""The ticket page's messages are rendered once and kept (tickets/workspace/thread.py): what is kept is never
shown after the message changed, nor to a reader with other rights, another language or another time zone."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import MessageFactory, RequesterFactory, TicketFactory, UserFactory, associate
from tickets.models import Attachment, Message, Role
from tickets.privacy import services as privacy
from tickets.workspace import thread

# Every request renders the page: what is under test is the cache of its messages.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendered_every_time")]


@pytest.fixture
def agent(queue):
    return associate([queue], username="bia")


@pytest.fixture
def renders(monkeypatch):
    """The messages the template rendered (each render appends its message's id)."""
    rendered = []
    render = thread.render_to_string

    def counting(name, context, request=None):
        rendered.append(context["message"].pk)
        return render(name, context, request=request)

    monkeypatch.setattr(thread, "render_to_string", counting)
    return rendered


def page(client, ticket, **headers) -> str:
    response = client.get(reverse("ticket", args=[ticket.number]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_a_message_is_rendered_once_and_served_from_the_cache_after(client, queue, agent, renders):
    ticket = TicketFactory(queue=queue)
    first = MessageFactory(ticket=ticket, body_text="Primeira mensagem")
    second = MessageFactory(ticket=ticket, body_text="Segunda mensagem")
    client.force_login(agent)

    before = page(client, ticket)
    assert renders == [first.pk, second.pk]
    again = page(client, ticket)
    assert renders == [first.pk, second.pk]  # nothing rendered again
    thread_of = lambda html: html[html.index('<ol class="thread">') : html.index("</ol>", html.index("message-"))]  # noqa: E731
    assert thread_of(again) == thread_of(before)
    assert "Primeira mensagem" in again and "Segunda mensagem" in again


def test_an_edited_message_shows_its_new_text(client, queue, agent):
    ticket = TicketFactory(queue=queue)
    message = MessageFactory(ticket=ticket, body_text="Texto antigo")
    client.force_login(agent)
    assert "Texto antigo" in page(client, ticket)

    Message.objects.filter(pk=message.pk).update(body_text="Texto novo")

    html = page(client, ticket)
    assert "Texto novo" in html and "Texto antigo" not in html


def test_an_erased_requesters_words_are_not_served_from_the_cache(client, queue, agent):
    requester = RequesterFactory(name="Maria Silva")
    ticket = TicketFactory(queue=queue, requester=requester)
    MessageFactory(ticket=ticket, body_text="Meu CPF é 123.456.789-00", from_name="Maria Silva")
    client.force_login(agent)
    assert "123.456.789-00" in page(client, ticket)

    privacy.erase_requester(requester, actor=None)

    html = page(client, ticket)
    assert "123.456.789-00" not in html and "Maria Silva" not in html


def test_a_removed_attachment_is_not_shown(client, queue, agent):
    ticket = TicketFactory(queue=queue)
    message = MessageFactory(ticket=ticket, body_text="Segue")
    Attachment.objects.create(message=message, filename="contrato.pdf", content_type="application/pdf", size=10)
    client.force_login(agent)
    assert "contrato.pdf" in page(client, ticket)

    message.attachments.all().delete()

    assert "contrato.pdf" not in page(client, ticket)


def test_a_renamed_author_shows_by_their_new_name(client, queue, agent):
    ticket = TicketFactory(queue=queue)
    author = associate([queue], username="davi", first_name="Davi", last_name="Lima")
    MessageFactory(ticket=ticket, direction=Message.Direction.OUT, author=author, body_text="Segue")
    client.force_login(agent)
    assert "Davi Lima" in page(client, ticket)

    author.last_name = "Souza"
    author.save()

    html = page(client, ticket)
    assert "Davi Lima" not in html and "Davi Souza" in html


def test_images_are_blurred_once_the_ticket_is_protected_and_not_after_its_flag_is_cleared(client, queue, agent):
    ticket = TicketFactory(queue=queue)
    message = MessageFactory(ticket=ticket)
    Attachment.objects.create(message=message, filename="foto.png", content_type="image/png", size=10)
    client.force_login(agent)
    assert 'class="wb-media"' not in page(client, ticket)

    ticket.sensitivity = ["violence"]
    ticket.save()
    assert 'class="wb-media"' in page(client, ticket)

    ticket.sensitivity = []
    ticket.save()
    assert 'class="wb-media"' not in page(client, ticket)


def test_each_language_and_time_zone_gets_its_own_rendering(client, queue, agent):
    ticket = TicketFactory(queue=queue)
    MessageFactory(ticket=ticket, direction=Message.Direction.NOTE, author=agent, body_text="Anotação")
    client.force_login(agent)

    assert "Nota interna" in page(client, ticket, HTTP_ACCEPT_LANGUAGE="pt-br")
    english = page(client, ticket, HTTP_ACCEPT_LANGUAGE="en")
    assert "Internal note" in english and "Nota interna" not in english

    message = ticket.messages.get()
    with thread.timezone.override("UTC"):
        utc_key = thread._fragment_key(message, thread._reader(ticket, can_see_source=False))
    with thread.timezone.override("America/Sao_Paulo"):
        local_key = thread._fragment_key(message, thread._reader(ticket, can_see_source=False))
    assert utc_key != local_key


def test_the_original_source_link_kept_for_an_admin_is_not_shown_to_an_associate(client, queue, agent):
    from tickets.models import InboundEmail

    ticket = TicketFactory(queue=queue)
    inbound = InboundEmail.objects.create(raw=b"From: maria@example.com\r\n\r\nOi", message_id="<fonte@example.com>")
    MessageFactory(ticket=ticket, inbound_email=inbound, body_text="Oi")
    admin = UserFactory(username="root", role=Role.ADMIN)
    client.force_login(admin)
    assert "Original source" in page(client, ticket, HTTP_ACCEPT_LANGUAGE="en")

    client.force_login(agent)
    assert "Original source" not in page(client, ticket, HTTP_ACCEPT_LANGUAGE="en")


def test_a_child_safety_message_kept_for_a_specialist_reaches_no_one_who_may_not_open_the_ticket(client, queue):
    ticket = TicketFactory(queue=queue, sensitivity=["child_safety"])
    MessageFactory(ticket=ticket, body_text="Conteúdo restrito")
    specialist = associate([queue], username="ana")
    specialist.groups.add(Group.objects.get_or_create(name=Role.SPECIALIST)[0])
    client.force_login(specialist)
    assert "Conteúdo restrito" in page(client, ticket)

    client.force_login(associate([queue], username="caio"))  # same queue, not a specialist
    assert client.get(reverse("ticket", args=[ticket.number])).status_code == 404
    earlier = client.get(reverse("ticket_earlier_messages", args=[ticket.number]), {"before": 2**31 - 1})
    assert earlier.status_code == 404


def test_a_failed_reply_offers_resend_with_this_browsers_token_and_is_never_kept(client, queue, agent, renders):
    ticket = TicketFactory(queue=queue)
    failed = MessageFactory(ticket=ticket, direction=Message.Direction.OUT, delivery_status=Message.Delivery.FAILED)
    client.force_login(agent)
    for _ in range(2):
        html = page(client, ticket)
        token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
        assert reverse("message_resend", args=[failed.pk]) in html
        assert 'name="csrfmiddlewaretoken"' in html and token
    assert renders == [failed.pk, failed.pk]


def test_the_earlier_messages_come_from_the_same_kept_renderings(client, queue, agent, renders):
    ticket = TicketFactory(queue=queue)
    messages = [MessageFactory(ticket=ticket, body_text=f"Mensagem {n}") for n in range(3)]
    client.force_login(agent)
    first = client.get(reverse("ticket_earlier_messages", args=[ticket.number]), {"before": messages[2].pk})
    again = client.get(reverse("ticket_earlier_messages", args=[ticket.number]), {"before": messages[2].pk})
    assert first.content == again.content
    assert "Mensagem 0" in first.content.decode() and "Mensagem 2" not in first.content.decode()
    assert renders == [messages[0].pk, messages[1].pk]


def test_every_field_the_message_template_shows_is_part_of_the_kept_renderings_key():
    template = (Path(django_settings.BASE_DIR) / "templates" / thread.TEMPLATE).read_text()
    # Read through a display method or a relation whose own rows are in the key.
    derived = {"get_direction_display": "direction", "get_delivery_status_display": "delivery_status"}
    read = set(re.findall(r"\bmessage\.(\w+)", template))
    shown = {derived.get(name, name) for name in read} - {"author", "attachment_list"}
    assert shown, "the template no longer reads `message.<field>`: update this test"
    assert shown <= set(thread.MESSAGE_FIELDS)
    assert "message.author.get_full_name" in template  # the author's name is in the key
    attachment_derived = {"is_image": "content_type", "omitted_text": "omitted"}
    shown = {attachment_derived.get(name, name) for name in re.findall(r"\battachment\.(\w+)", template)}
    assert shown <= set(thread.ATTACHMENT_FIELDS)
    # The only thing of the ticket the template reads is whether it is protected, which the key holds.
    assert set(re.findall(r"\bticket\.(\w+)", template)) == {"sensitivity"}
