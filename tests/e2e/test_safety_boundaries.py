"""In real browsers: the admin's login page asks for the two-factor code, and merging child-safety content
into an ordinary ticket is refused until the person merging says the target takes the restriction."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Queue, Role, Ticket
from tickets.wellbeing import services as wellbeing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_admin_login_page_asks_for_the_code(page, live_server, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    admin = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=admin, name="Acolhe", confirmed=True)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "secret-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/account/2fa/verify/**")
    # Straight to an admin page with the password alone: back to the code.
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.wait_for_url(f"{live_server.url}/account/2fa/verify/**")

    page.fill("#id_code", f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}")
    page.click("button[type=submit].button-primary")
    page.wait_for_url(f"{live_server.url}/admin/tickets/ticket/")
    expect(page.locator("#content")).to_be_visible()


def test_merging_child_safety_content_asks_the_target_to_take_the_restriction(page, live_server):
    suporte = QueueFactory(slug="suporte", name="Suporte")
    QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    UserFactory(username="tessa", role=Role.SPECIALIST, queues=[suporte])
    report = TicketFactory(queue=suporte, subject="Denúncia", status="open")
    MessageFactory(ticket=report, body_text="relato")
    wellbeing.flag_ticket(report, ["child_safety"])
    ordinary = TicketFactory(queue=suporte, subject="Senha", status="open")

    login(page, live_server, "tessa")
    page.goto(f"{live_server.url}/tickets/{report.number}/")
    page.locator("details.merge summary").click()
    page.fill("details.merge input[name=target]", str(ordinary.number))
    page.click("details.merge button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Trust & Safety")
    assert Ticket.objects.get(pk=report.pk).merged_into is None

    page.locator("details.merge summary").click()
    page.fill("details.merge input[name=target]", str(ordinary.number))
    page.check("details.merge input[name=restrict_target]")
    page.click("details.merge button[type=submit]")
    page.wait_for_url(f"{live_server.url}/tickets/{ordinary.number}/")
    ordinary.refresh_from_db()
    assert ordinary.legal_hold and "child_safety" in ordinary.sensitivity
