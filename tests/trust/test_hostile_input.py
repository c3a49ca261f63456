"""Hostile mail: script in subjects, display names and attachment names arrives through the real inbound
pipeline and renders inert on every page that shows it (the HTML-body corpus is in tests/fixtures/mail/)."""

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import pytest
from django.urls import reverse

from tests.factories import associate
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import Message

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">clique aqui</a>',
    "<iframe src=//evil.example/x></iframe>",
    '</title><body onload="alert(1)">',
]
# Markup that would run if any payload reached the page unescaped.
LIVE = ["<script>alert", "<img src=x", "<svg/onload", 'href="javascript:', "<iframe src=//evil", "<body onload"]


def hostile_mail(payload: str, n: int) -> Message:
    mail = EmailMessage()
    mail["From"] = formataddr((f"Ana {payload}", f"ana{n}@example.com"))
    mail["To"] = "suporte@acolhe.example"
    mail["Subject"] = f"Ajuda {payload}"
    mail["Message-ID"] = make_msgid(domain="example.com")
    mail.set_content("Olá, minha conta foi invadida.")
    mail.add_attachment(b"conteudo", maintype="text", subtype="html", filename=f"{payload}.html")
    mail.add_attachment(b"<svg xmlns='http://www.w3.org/2000/svg'/>", maintype="image", subtype="svg+xml",
                        filename=f"foto{payload}.svg")  # fmt: skip
    inbound, _ = store_inbound(mail.as_bytes(), esp="test", enqueue=False)
    process_inbound(inbound.pk)
    return Message.objects.select_related("ticket").get(inbound_email=inbound)


def _assert_inert(html: str, where: str) -> None:
    lowered = html.lower()
    for needle in LIVE:
        assert needle not in lowered, f"{where}: {needle}"


def test_hostile_subjects_names_and_filenames_render_inert_everywhere(client, suporte):
    messages = [hostile_mail(payload, n) for n, payload in enumerate(PAYLOADS)]
    assert all(m.ticket.subject.startswith("Ajuda") for m in messages)  # the mail was taken in
    client.force_login(associate([suporte], username="ana"))
    pages = [reverse("workspace", args=["all"]), reverse("workspace_queue", args=["suporte"]), "/search/?q=ajuda"]
    pages += [reverse("ticket", args=[m.ticket.number]) for m in messages]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.content.decode(), url)
    ticket_page = client.get(reverse("ticket", args=[messages[0].ticket.number])).content.decode()
    assert "&lt;script&gt;" in ticket_page  # shown as text, not dropped


RAW_HOSTILE_ATTACHMENTS = b"""From: Ana <ana@example.com>
To: suporte@acolhe.example
Subject: anexos
Message-ID: <anexos-hostis@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Segue.
--b
Content-Type: text/html
Content-Disposition: attachment; filename*=utf-8''%22%0D%0ASet-Cookie%3A%20x%3D1%3B%20%3Cscript%3E.html

<script>alert(1)</script>
--b
Content-Type: image/svg+xml
Content-Disposition: attachment; filename="foto.svg"

<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>
--b--
"""


def test_hostile_attachments_download_as_opaque_files_with_a_safe_header(client, suporte):
    inbound, _ = store_inbound(RAW_HOSTILE_ATTACHMENTS.replace(b"\n", b"\r\n"), esp="test", enqueue=False)
    process_inbound(inbound.pk)
    message = Message.objects.get(inbound_email=inbound)
    client.force_login(associate([suporte], username="ana"))
    attachments = list(message.attachments.all())
    assert len(attachments) == 2
    for attachment in attachments:
        response = client.get(reverse("attachment", args=[attachment.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"  # neither HTML nor SVG is served as such
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "\n" not in response["Content-Disposition"] and "\r" not in response["Content-Disposition"]
        assert "x=1" not in response.cookies


def test_the_api_returns_hostile_text_as_json_data_not_html(client, suporte):
    message = hostile_mail(PAYLOADS[0], 1)
    client.force_login(associate([suporte], username="ana"))
    response = client.get(f"/api/v1/tickets/{message.ticket.number}/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert PAYLOADS[0] in response.json()["subject"]  # data kept as it was written; escaping is the page's job
