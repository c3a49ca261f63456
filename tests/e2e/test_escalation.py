"""Escalate to a cross-functional queue, the specialist works it and hands it back, in real browsers."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory, associate
from tickets.models import Escalation, Notification, Queue, Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_escalate_work_and_hand_back(new_page, live_server):
    suporte = QueueFactory(slug="suporte", name="Suporte")
    security = QueueFactory(slug="account-security", name="Account Security", kind=Queue.Kind.CROSS_FUNCTIONAL)
    bia = associate([suporte], username="bia", first_name="Bia", last_name="Souza")
    UserFactory(username="sergio", first_name="Sérgio", role=Role.SPECIALIST, queues=[security])
    ticket = TicketFactory(queue=suporte, assignee=bia, status="open", subject="Conta invadida, e-mail trocado")
    MessageFactory(ticket=ticket, body_text="Alguém trocou o e-mail da minha conta e eu não consigo entrar.")

    associate_page = new_page(locale="en-US")
    login(associate_page, live_server, "bia")
    associate_page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    associate_page.click(".escalate-details summary")  # the form waits behind a button on long threads
    associate_page.select_option("#escalate-queue", "account-security")
    associate_page.fill("#escalate-reason", "Recovery email changed by an attacker; needs identity check.")
    associate_page.click(".escalate-form button[type=submit]")
    expect(associate_page.get_by_test_id("escalation")).to_contain_text("Account Security")

    specialist_page = new_page(locale="en-US")
    login(specialist_page, live_server, "sergio")
    specialist_page.goto(f"{live_server.url}/escalations/")
    expect(specialist_page.get_by_test_id("count-unclaimed")).to_have_text("1")
    specialist_page.get_by_test_id("escalation-row").get_by_test_id("claim").click()  # take it from the inbox
    specialist_page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    expect(specialist_page.get_by_test_id("claimed-by")).to_contain_text("Sérgio")
    specialist_page.goto(f"{live_server.url}/escalations/?show=mine")
    expect(specialist_page.get_by_test_id("count-mine")).to_have_text("1")
    specialist_page.get_by_role("link", name=ticket.subject).first.click()
    specialist_page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    specialist_page.locator(".hand-back-form textarea").fill("Identity verified; original email restored.")
    specialist_page.click(".hand-back-form button[type=submit]")
    # Handed back: the ticket leaves the specialist's list.
    specialist_page.wait_for_url(f"{live_server.url}/escalations/")
    expect(specialist_page.get_by_role("link", name=ticket.subject)).to_have_count(0)

    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.status != "open"
    assert escalation.requested_by == bia
    assert Notification.objects.filter(user=bia).exists()
    associate_page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    expect(associate_page.get_by_test_id("escalation")).to_contain_text("Identity verified; original email restored.")
    associate_page.goto(f"{live_server.url}/notifications/")
    expect(associate_page.locator("main")).to_contain_text(str(ticket.number))
