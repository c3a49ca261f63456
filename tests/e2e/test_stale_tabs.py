"""Stale tabs in a real browser: a page left open while a colleague takes the ticket does not take it over."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import QueueFactory, TicketFactory, associate
from tickets.workspace import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_assignee_field_of_a_stale_ticket_page_says_who_took_the_ticket_and_changes_nothing(new_page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])
    ana = associate([queue], username="ana.souza", first_name="Ana", last_name="Souza")
    bruno = associate([queue], username="bruno", first_name="Bruno", last_name="Lima")
    ticket = TicketFactory(queue=queue, subject="Não recebi o código de verificação")

    page = new_page(locale="pt-BR")
    login(page, live_server, "bruno")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.locator("#field-assignee")).to_have_value("")
    services.update_fields(ticket.number, assignee=ana, actor=ana)  # Ana takes it; Bruno's tab is not reloaded

    page.locator("#field-assignee").select_option(str(bruno.pk))  # submits by itself
    expect(page.locator(".flash")).to_contain_text("Ana Souza assumiu este chamado há")
    expect(page.locator("#field-assignee")).to_have_value(str(ana.pk))
    ticket.refresh_from_db()
    assert ticket.assignee == ana
