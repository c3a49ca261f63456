"""Two associates, one page gone stale: every write from a page carries the version it showed, and what
someone else did since (took, solved or answered the ticket) is never overridden silently."""

import re

import pytest
from django.test import Client

from tests.factories import QueueFactory, TicketFactory, associate
from tickets.models import Message, Ticket
from tickets.workspace import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    return QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])


@pytest.fixture
def ana(queue):
    return associate([queue], username="ana.souza", first_name="Ana", last_name="Souza")


@pytest.fixture
def bruno(queue):
    return associate([queue], username="bruno", first_name="Bruno", last_name="Lima")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hidden(page, name: str) -> str:
    return re.search(rf'name="{name}" value="(\d+)"', page.content.decode()).group(1)


def test_bulk_assign_to_me_from_a_stale_list_refuses_a_ticket_someone_took_meanwhile(queue, ana, bruno):
    ticket = TicketFactory(queue=queue, status=Ticket.Status.NEW)
    other = TicketFactory(queue=queue, status=Ticket.Status.NEW)
    browser = signed_in(bruno)
    page = browser.get("/work/unassigned/")
    assert f"#{ticket.number}" in page.content.decode()
    services.update_fields(ticket.number, assignee=ana, actor=ana)  # Ana takes it while Bruno's list stays open

    posted = browser.post(
        "/work/bulk/",
        {
            "tickets": [ticket.number, other.number],
            "action": "assign",
            "value": "me",
            "seen_event": hidden(page, "seen_event"),
        },
        follow=True,
    )
    text = posted.content.decode()
    assert f"#{ticket.number}: Ana Souza assumiu este chamado há" in text
    assert Ticket.objects.get(pk=ticket.pk).assignee == ana
    assert Ticket.objects.get(pk=other.pk).assignee is None  # all or nothing


def test_bulk_assign_to_me_takes_only_unassigned_tickets_unless_told_to_take_over(queue, ana, bruno):
    ticket = TicketFactory(queue=queue, assignee=ana, status=Ticket.Status.OPEN)
    browser = signed_in(bruno)
    page = browser.get("/work/all/")
    form = {"tickets": [ticket.number], "action": "assign", "value": "me", "seen_event": hidden(page, "seen_event")}
    refused = browser.post("/work/bulk/", form, follow=True).content.decode()
    assert f"#{ticket.number} está atribuído a Ana Souza." in refused
    assert Ticket.objects.get(pk=ticket.pk).assignee == ana

    browser.post("/work/bulk/", {**form, "take_over": "1"})
    assert Ticket.objects.get(pk=ticket.pk).assignee == bruno


def test_the_assignee_field_from_a_stale_ticket_page_does_not_take_a_ticket_someone_solved(queue, ana, bruno):
    ticket = TicketFactory(queue=queue, status=Ticket.Status.OPEN)
    browser = signed_in(bruno)
    page = browser.get(f"/tickets/{ticket.number}/")
    seen = page.context["seen_event"]
    services.update_fields(ticket.number, status=Ticket.Status.SOLVED, actor=ana)

    posted = browser.post(f"/tickets/{ticket.number}/fields/", {"assignee": bruno.pk, "seen_event": seen}, follow=True)
    assert "Ana Souza resolveu este chamado há" in posted.content.decode()
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, Ticket.Status.SOLVED)

    fresh = browser.get(f"/tickets/{ticket.number}/")  # looked again: now the change goes through
    browser.post(f"/tickets/{ticket.number}/fields/", {"assignee": bruno.pk, "seen_event": fresh.context["seen_event"]})
    assert Ticket.objects.get(pk=ticket.pk).assignee == bruno


def test_a_reply_from_a_stale_tab_after_someone_took_the_ticket_asks_for_confirmation(queue, ana, bruno):
    ticket = TicketFactory(queue=queue, status=Ticket.Status.NEW)
    browser = signed_in(bruno)
    page = browser.get(f"/tickets/{ticket.number}/")
    initial = page.context["reply_form"].initial
    services.update_fields(ticket.number, assignee=ana, actor=ana)

    form = {
        "mode": "reply",
        "body": "Olá, vou verificar.",
        "draft": initial["draft"],
        "seen_event": initial["seen_event"],
    }
    asked = browser.post(f"/tickets/{ticket.number}/reply/", form)
    assert asked.status_code == 409
    assert "Ana Souza assumiu este chamado há" in asked.content.decode()
    assert not Message.objects.filter(ticket=ticket, direction="out").exists()

    again = asked.context["reply_form"].initial
    assert again["confirmed"] and again["body"] == "Olá, vou verificar."
    browser.post(f"/tickets/{ticket.number}/reply/", {**form, "confirmed": "on"})
    assert Message.objects.filter(ticket=ticket, direction="out").count() == 1


def test_a_page_sees_its_own_changes_as_no_collision_and_the_english_message_reads_well(queue, ana, bruno):
    ticket = TicketFactory(queue=queue, status=Ticket.Status.NEW)
    page = signed_in(bruno).get(f"/tickets/{ticket.number}/")
    seen = page.context["seen_event"]
    services.update_fields(ticket.number, priority=1, assignee=bruno, actor=bruno)
    assert services.collisions([ticket], seen, actor=bruno) == []
    services.reply(ticket.number, "Resolvido do meu lado.", actor=ana)
    found = services.collisions([ticket], seen, actor=bruno)
    assert len(found) == 1 and found[0].startswith("Ana Souza respondeu este chamado há")
    from django.utils import translation

    with translation.override("en"):
        assert services.collisions([ticket], seen, actor=bruno)[0].startswith("Ana Souza answered this ticket ")
