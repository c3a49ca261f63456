"""What associates and admins see of inbound mail: sanitised bodies, attachments, the raw source, the
admin list of failed, ignored and spam mail with its re-process action."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import QueueFactory, UserFactory, associate
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import InboundEmail, Message

pytestmark = pytest.mark.django_db
MAIL = Path(__file__).resolve().parents[2] / "fixtures" / "mail"


@pytest.fixture
def suporte():
    return QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)


def deliver(name: str) -> Message:
    inbound, _ = store_inbound((MAIL / name).read_bytes(), esp="test", enqueue=False)
    process_inbound(inbound.pk)
    return Message.objects.get(inbound_email=inbound)


def admin_user():
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get(name="admin"))
    return user


def test_hostile_html_renders_inert_on_the_ticket_page(client, suporte):
    message = deliver("html_with_script_xss.eml")
    client.force_login(associate([suporte], username="ana"))
    html = client.get(reverse("ticket", args=[message.ticket.number])).content.decode().lower()
    assert "they comment on every video i post" in html  # the mail itself is shown...
    for needle in ["<script>alert", 'src="https://evil.example/hook.js"', "onerror=", "onclick=", "onload=",
                   "onmouseover=", "javascript:", "<iframe", "url=javascript"]:  # fmt: skip
        assert needle not in html, needle  # ...with nothing in it that runs


def test_inline_image_is_served_inline_and_other_files_download(client, suporte):
    inline = deliver("multipart_related_inline_image.eml").attachments.get(is_inline=True)
    pdf = deliver("attachment_pdf.eml").attachments.get()
    client.force_login(associate([suporte], username="ana"))
    image_response = client.get(reverse("attachment", args=[inline.pk]))
    assert image_response.status_code == 200
    assert image_response["Content-Type"] == "image/png"
    assert image_response["X-Content-Type-Options"] == "nosniff"
    pdf_response = client.get(reverse("attachment", args=[pdf.pk]))
    assert pdf_response["Content-Disposition"].startswith("attachment;")
    assert pdf_response["Content-Type"] == "application/octet-stream"
    assert b"".join(pdf_response.streaming_content).startswith(b"%PDF")


def test_attachment_of_another_queue_is_not_found(client, suporte):
    pdf = deliver("attachment_pdf.eml").attachments.get()
    client.force_login(associate([QueueFactory(slug="legal")], username="leo"))
    assert client.get(reverse("attachment", args=[pdf.pk])).status_code == 404


def test_raw_source_is_for_admins_only(client, suporte):
    message = deliver("charset_windows_1252.eml")
    client.force_login(associate([suporte], username="ana"))
    assert client.get(reverse("message_source", args=[message.pk])).status_code == 404
    client.force_login(admin_user())
    response = client.get(reverse("message_source", args=[message.pk]))
    assert response.status_code == 200
    assert response.content == bytes(message.inbound_email.raw)
    ticket_page = client.get(reverse("ticket", args=[message.ticket.number])).content.decode()
    assert reverse("message_source", args=[message.pk]) in ticket_page


def test_admin_lists_failed_mail_with_its_reason_and_reprocesses_it(client, suporte):
    ignored, _ = store_inbound((MAIL / "precedence_bulk.eml").read_bytes(), esp="test", enqueue=False)
    process_inbound(ignored.pk)
    failed, _ = store_inbound((MAIL / "gmail_pt_plain_new.eml").read_bytes(), esp="test", enqueue=False)
    InboundEmail.objects.filter(pk=failed.pk).update(status="failed", reason="OperationalError: server closed")
    client.force_login(admin_user())
    listing = client.get("/admin/tickets/inboundemail/?status__exact=failed").content.decode()
    assert "OperationalError: server closed" in listing
    detail = client.get(f"/admin/tickets/inboundemail/{ignored.pk}/change/").content.decode()
    assert "Precedence: bulk" in detail
    client.post("/admin/tickets/inboundemail/", {"action": "reprocess", "_selected_action": [failed.pk]}, follow=True)
    failed.refresh_from_db()
    assert failed.status == "processed"
    assert failed.ticket is not None
