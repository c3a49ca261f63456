"""Exposure counted from the REST API as from the pages: the ticket detail, a message and a page of messages
are reads of the tickets they show; lists of tickets and search hits show no message and count nothing."""

import pytest
from rest_framework.test import APIClient

from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory, associate
from tickets.models import ExposureEntry, Notification, Queue, Role, SensitiveAccessLog
from tickets.wellbeing import selectors as wellbeing
from tickets.wellbeing import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    return QueueFactory(slug="geral", languages=["pt"])


@pytest.fixture
def agent(queue):
    return associate([queue], username="bia")


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def flagged(queue, categories=("violence",), messages=1, **kwargs):
    ticket = TicketFactory(queue=queue, **kwargs)
    for _ in range(messages):
        MessageFactory(ticket=ticket, body_text="conteúdo sensível")
    services.flag_ticket(ticket, categories)
    ticket.refresh_from_db()
    return ticket


def views(user, ticket) -> int:
    entry = ExposureEntry.objects.filter(user=user, ticket=ticket).first()
    return entry.views if entry else 0


def test_reading_a_sensitive_ticket_through_the_api_counts_every_read_like_a_page_view(queue, agent, api):
    ticket = flagged(queue)
    for expected in (1, 2):
        assert api.get(f"/api/v1/tickets/{ticket.number}/").status_code == 200
        assert views(agent, ticket) == expected
    entry = ExposureEntry.objects.get(user=agent, ticket=ticket)
    assert (entry.sensitive, entry.categories) == (True, ["violence"])
    assert wellbeing.exposure(agent).taken == 1


def test_reading_a_plain_ticket_through_the_api_counts_no_exposure(queue, agent, api):
    plain = TicketFactory(queue=queue)
    MessageFactory(ticket=plain)
    assert api.get(f"/api/v1/tickets/{plain.number}/").status_code == 200
    assert api.get(f"/api/v1/messages/{plain.messages.get().pk}/").status_code == 200
    assert api.get("/api/v1/messages/").status_code == 200
    assert not ExposureEntry.objects.filter(user=agent).exists()


def test_reading_one_message_of_a_sensitive_ticket_counts_a_read_of_its_ticket(queue, agent, api):
    ticket = flagged(queue, categories=("bullying",))
    message = ticket.messages.get()
    assert api.get(f"/api/v1/messages/{message.pk}/").status_code == 200
    assert views(agent, ticket) == 1


def test_a_page_of_messages_counts_each_sensitive_ticket_it_shows_once(queue, agent, api):
    violent = flagged(queue, messages=3)
    bullying = flagged(queue, categories=("bullying",))
    plain = TicketFactory(queue=queue)
    MessageFactory(ticket=plain)
    body = api.get("/api/v1/messages/").json()
    assert {row["ticket"] for row in body["results"]} == {violent.number, bullying.number, plain.number}
    assert (views(agent, violent), views(agent, bullying), views(agent, plain)) == (1, 1, 0)
    assert wellbeing.exposure(agent).taken == 2


def test_only_the_tickets_on_the_page_returned_count(queue, agent, api, settings):
    older = flagged(queue)
    newer = flagged(queue, categories=("hate_speech",))
    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    plain = TicketFactory(queue=queue)
    for _ in range(page_size):
        MessageFactory(ticket=plain)
    body = api.get("/api/v1/messages/").json()
    shown = {row["ticket"] for row in body["results"]}
    assert shown == {plain.number} and body["next"]
    assert (views(agent, older), views(agent, newer)) == (0, 0)
    api.get(body["next"])
    assert (views(agent, older), views(agent, newer)) == (1, 1)


def test_lists_of_tickets_and_search_hits_count_nothing(queue, agent, api):
    ticket = flagged(queue, subject="Ameaça no perfil")
    assert ticket.number in [row["number"] for row in api.get("/api/v1/tickets/").json()["results"]]
    assert api.get("/api/v1/tickets/search/", {"q": "perfil"}).status_code == 200
    assert not ExposureEntry.objects.filter(user=agent).exists()


def test_an_api_read_of_a_self_harm_ticket_tells_the_lead_once_a_shift(queue, agent, api):
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[queue])
    ticket = flagged(queue, categories=("self_harm",))
    api.get(f"/api/v1/tickets/{ticket.number}/")
    api.get("/api/v1/messages/")
    notices = Notification.objects.filter(user=lead, kind=Notification.Kind.WELLBEING)
    assert notices.count() == 1
    assert notices.get().ticket is None


def test_the_minutes_and_tickets_limits_see_api_reads(queue, agent, api, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 2
    first, second = flagged(queue), flagged(queue)
    api.get(f"/api/v1/tickets/{first.number}/")
    assert not wellbeing.exposure(agent).over_budget
    api.get(f"/api/v1/messages/{second.messages.get().pk}/")
    assert wellbeing.exposure(agent).over_budget


def test_child_safety_messages_read_through_the_api_are_logged_for_trust_and_safety(queue):
    trust_and_safety = QueueFactory(slug="trust-safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    specialist = UserFactory(username="tessa", role=Role.SPECIALIST, queues=[queue, trust_and_safety])
    ticket = flagged(queue, categories=("child_safety",))
    api = APIClient()
    api.force_authenticate(specialist)
    assert [row["ticket"] for row in api.get("/api/v1/messages/").json()["results"]] == [ticket.number]
    assert api.get(f"/api/v1/messages/{ticket.messages.get().pk}/").status_code == 200
    logged = SensitiveAccessLog.objects.filter(user=specialist, ticket=ticket, kind=SensitiveAccessLog.Kind.VIEW)
    assert logged.count() == 2
    assert views(specialist, ticket) == 2


def test_lists_and_search_mask_a_flagged_subject_as_the_pages_do_and_the_detail_shows_it(queue, agent, api):
    ticket = flagged(queue, subject="Ameaça no perfil do meu filho")
    plain = TicketFactory(queue=queue, subject="Perfil sumiu")
    MessageFactory(ticket=plain, body_text="meu perfil sumiu do aplicativo")
    rows = {row["number"]: row for row in api.get("/api/v1/tickets/").json()["results"]}
    # In the reader's language (Bia reads Portuguese), as on the pages.
    assert rows[ticket.number]["subject"] == "Conteúdo sensível: violência"
    assert rows[ticket.number]["sensitivity"] == ["violence"]
    assert (rows[plain.number]["subject"], rows[plain.number]["sensitivity"]) == ("Perfil sumiu", [])

    hits = {hit["ticket"]["number"]: hit for hit in api.get("/api/v1/tickets/search/", {"q": "perfil"}).json()}
    assert hits[ticket.number]["ticket"]["subject"] == "Conteúdo sensível: violência"
    assert hits[ticket.number]["snippet"] == ""
    assert "filho" not in str(hits[ticket.number])
    assert (
        "<mark>" in hits[plain.number]["snippet"].lower() and hits[plain.number]["ticket"]["subject"] == "Perfil sumiu"
    )
    assert not ExposureEntry.objects.filter(user=agent).exists()

    assert api.get(f"/api/v1/tickets/{ticket.number}/").json()["subject"] == "Ameaça no perfil do meu filho"
    assert ExposureEntry.objects.filter(user=agent).exists()
