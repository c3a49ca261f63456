"""A lead publishes a must-read SOP version; an associate acknowledges it, follows its checklist on a ticket
and answers with a Portuguese macro."""

import re

import pytest
from playwright.sync_api import expect

from sop import services
from sop.models import Acknowledgement
from tests.e2e.conftest import login
from tests.factories import MacroFactory, QueueFactory, SOPFactory, TicketFactory, UserFactory, associate
from tickets.models import Role, Ticket, TicketEvent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_lead_publishes_must_read_version_and_associate_follows_it_on_a_ticket(live_server, new_page):
    suporte = QueueFactory(slug="suporte", name="Suporte (pt-BR)", languages=["pt"])
    lead = UserFactory(username="lead.ana", first_name="Ana", role=Role.TEAM_LEAD)
    suporte.members.add(lead)
    associate([suporte], username="maria", first_name="Maria")
    sop = SOPFactory(slug="hacked-account", title="Hacked account", queues=[suporte], tags=["conta-invadida"])
    services.publish_version(
        services.create_version(
            sop, language="pt", title="Conta invadida", body="Bloqueie a conta.", steps=["Bloquear a conta"]
        )
    )
    ticket = TicketFactory(queue=suporte, language="pt", tags=["conta-invadida"], requester__name="João Pedro")
    MacroFactory(
        name="Conta invadida — link seguro",
        body_pt="Oi, {{ requester.first_name }}! Enviamos o link seguro. Chamado #{{ ticket.number }}.",
        body_en="Hi {{ requester.first_name }}!",
        set_status=Ticket.Status.PENDING,
    )

    # The lead writes version 2 with a new required step, marks it must read and publishes it.
    lead_page = new_page()
    login(lead_page, live_server, "lead.ana")
    lead_page.goto(f"{live_server.url}/sop/hacked-account/versions/new/?lang=pt")
    expect(lead_page.locator("#id_body")).to_have_value("Bloqueie a conta.")
    lead_page.fill("#id_body", "Bloqueie a conta e **encerre todas as sessões**.")
    lead_page.fill("#id_steps", "! Encerrar todas as sessões\nBloquear a conta")
    lead_page.fill("#id_change_summary", "Encerrar sessões")
    lead_page.check("#id_must_read")
    lead_page.click("button[value=publish]")
    expect(lead_page.locator("h1")).to_have_text("Conta invadida")
    expect(lead_page.locator(".sop-body strong")).to_have_text("encerre todas as sessões")

    # The associate sees the banner, reads the version and acknowledges it.
    page = new_page()
    login(page, live_server, "maria")
    banner = page.locator("[data-ack-banner]")
    expect(banner).to_contain_text("Conta invadida")
    banner.get_by_role("link", name="Conta invadida").click()
    page.locator("[data-acknowledge]").click()
    expect(page.locator("[data-ack-banner]")).to_have_count(0)
    assert Acknowledgement.objects.get(user__username="maria").acknowledged_at is not None

    # On the ticket: the SOP in Portuguese with its checklist; ticking is recorded.
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    panel = page.locator("#sop-panel")
    expect(panel).to_contain_text("Conta invadida")
    expect(panel).to_have_attribute("data-unticked-required", "1")
    page.get_by_label(re.compile("Encerrar todas as sessões")).check()
    expect(page.locator("#sop-panel")).to_have_attribute("data-unticked-required", "0")
    page.get_by_label(re.compile("Bloquear a conta")).check()
    expect(page.locator("#sop-panel .checklist li.checked")).to_have_count(2)

    # The macro: search by name, pick it with the keyboard, send.
    search = page.locator("[data-macro-search]")
    search.click()
    search.type("invadida")
    expect(page.locator(".macro-option")).to_have_count(1)
    expect(page.locator(".macro-option")).to_have_attribute("aria-selected", "true")
    search.press("Enter")
    composer = page.locator('textarea[name="body"]')
    expect(composer).to_have_value(f"Oi, João! Enviamos o link seguro. Chamado #{ticket.number}.")
    expect(composer).to_be_focused()
    page.locator("[data-testid=send]").click()
    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")

    ticket.refresh_from_db()
    reply = ticket.messages.get(direction="out")
    assert reply.body_text.startswith("Oi, João! Enviamos o link seguro.")
    assert ticket.status == Ticket.Status.PENDING
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds.count(TicketEvent.Kind.SOP_STEP_CHECKED) == 2
    assert TicketEvent.Kind.MACRO_APPLIED in kinds
