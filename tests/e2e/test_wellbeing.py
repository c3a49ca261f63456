"""Protected viewing in a real browser: the warning, blurred media, a logged reveal, text-only mode."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import MessageFactory, QueueFactory, TicketFactory, associate
from tickets.models import Attachment, SensitiveAccessLog
from tickets.wellbeing import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A 2x2 red PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000fdd49a73000000164944415478"
    "9c63f8cfc0f09f8181e13f0303c37f0600202e03fd8a39a4a20000000049454e44ae426082"
)


def test_flagged_ticket_warns_blurs_the_image_reveals_it_once_logged_and_hides_it_in_text_only(page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte", languages=["pt", "en"])
    bia = associate([queue], username="bia", first_name="Bia", last_name="Souza")
    ticket = TicketFactory(queue=queue, subject="Video report", language="en")
    message = MessageFactory(ticket=ticket, body_text="Someone posted a video kicking a puppy, see the print.")
    attachment = Attachment(
        message=message, filename="print.png", content_type="image/png", sha256="cd" * 32, size=len(PNG)
    )
    attachment.file.save("print", ContentFile(PNG), save=True)
    services.flag_ticket(ticket, ["animal_harm"])

    login(page, live_server, "bia")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.get_by_test_id("content-warning")).to_contain_text("animal harm")
    image = page.locator("img.wb-media")
    expect(image).to_be_visible()
    expect(image).to_have_css("filter", re.compile(r"blur\(24px\) grayscale\(1\)"))

    image.click()
    expect(image).to_have_class("wb-media wb-revealed")
    expect(image).to_have_css("filter", "none")
    log = SensitiveAccessLog.objects.get()
    assert (log.user, log.ticket, log.kind, log.attachment) == (bia, ticket, "reveal", attachment)

    page.get_by_test_id("text-only-on").click()
    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.locator("img.wb-media")).to_be_hidden()
    expect(page.locator(".message-body", has_text="kicking a puppy")).to_be_visible()
    page.get_by_test_id("text-only-off").click()
    expect(page.locator("img.wb-media")).to_be_visible()
