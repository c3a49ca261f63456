"""The raw mail is kept byte for byte whichever ESP posts it: an 8-bit Windows-1252 mail (as Outlook
still sends) posted in a form field is not decoded as UTF-8 on the way in."""

import hashlib
import hmac
import secrets
import time
from pathlib import Path

import pytest

from tests.tickets.email.test_webhooks import (  # noqa: F401  (the autouse fixture switches every ESP on)
    BASIC,
    MAILGUN_KEY,
    _postmark,
    _ses,
    _webhooks,
    sns_signing,
)
from tickets.models import InboundEmail, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail_edge"
WINDOWS_1252 = (FIXTURES / "outlook_pt_windows_1252_8bit.eml").read_bytes()


def _multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body whose field values are the given bytes, as the ESP sends them (Django's
    test client would encode text values as UTF-8 first)."""
    boundary = secrets.token_hex(12)
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post_mailgun(client, raw: bytes, path: str):
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    body, content_type = _multipart(
        {
            "body-mime": raw,
            "recipient": b"suporte@acolhe.example",
            "sender": b"conceicao.araujo@uol.example",
            "timestamp": timestamp.encode(),
            "token": token.encode(),
            "signature": signature.encode(),
        }
    )
    return client.generic("POST", path, body, content_type=content_type, HTTP_AUTHORIZATION=BASIC)


def _post_sendgrid(client, raw: bytes):
    body, content_type = _multipart(
        {
            "email": raw,
            "to": b"suporte@acolhe.example",
            "from": b"conceicao.araujo@uol.example",
            "envelope": b'{"to": ["suporte@acolhe.example"], "from": "conceicao.araujo@uol.example"}',
            "charsets": b'{"to": "UTF-8", "from": "UTF-8", "email": "windows-1252"}',
        }
    )
    path = "/anymail/sendgrid/inbound/"
    return client.generic("POST", path, body, content_type=content_type, HTTP_AUTHORIZATION=BASIC)


# Every ESP endpoint that can carry bytes. Postmark posts JSON, which holds text, not bytes: it cannot
# send a mail that is not UTF-8 as it was (see the Postmark test below).
BYTE_POSTERS = {
    "mailgun_inbound": lambda client, raw, sns: _post_mailgun(client, raw, "/anymail/mailgun/inbound/"),
    "mailgun_inbound_mime": lambda client, raw, sns: _post_mailgun(client, raw, "/anymail/mailgun/inbound_mime/"),
    "sendgrid": lambda client, raw, sns: _post_sendgrid(client, raw),
    "amazon_ses": lambda client, raw, sns: _ses(client, raw, sns),
}


@pytest.mark.parametrize("endpoint", BYTE_POSTERS)
def test_windows_1252_mail_is_stored_byte_for_byte_and_read_right(
    client,
    endpoint,
    sns_signing,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = BYTE_POSTERS[endpoint](client, WINDOWS_1252, sns_signing)
    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert bytes(inbound.raw) == WINDOWS_1252
    assert inbound.status == InboundEmail.Status.PROCESSED
    message = Message.objects.get(direction="in")
    assert message.from_name == "Conceição Araújo"
    assert message.ticket.subject == "Não consigo acessar minha conta"
    assert "A verificação em duas etapas pede um código" in message.body_text
    assert "vezes \N{EN DASH} sempre" in message.body_text
    assert "€ 9,90" in message.body_text
    assert "\ufffd" not in message.body_text + message.from_name + message.subject


def test_postmark_raw_email_text_is_stored_as_its_utf8_bytes(client, django_capture_on_commit_callbacks):
    # Postmark's JSON carries the mail as text; stored as UTF-8 and relabelled by nobody, so the mail must
    # be UTF-8 already for its bytes to survive: this one is.
    raw = WINDOWS_1252.decode("windows-1252").replace('charset="windows-1252"', 'charset="utf-8"')
    raw = raw.replace("=?windows-1252?Q?", "=?iso-8859-1?Q?")
    with django_capture_on_commit_callbacks(execute=True):
        assert _postmark(client, raw).status_code == 200
    assert bytes(InboundEmail.objects.get().raw) == raw.encode("utf-8")
    assert "€ 9,90" in Message.objects.get(direction="in").body_text


def test_mailgun_body_mime_posted_as_a_file_part_is_stored_byte_for_byte(client):
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    boundary = secrets.token_hex(12)
    parts = [
        (f'--{boundary}\r\nContent-Disposition: form-data; name="body-mime"; filename="message.mime"\r\n'
         "Content-Type: message/rfc822\r\n\r\n").encode() + WINDOWS_1252 + b"\r\n",
    ] + [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in {"timestamp": timestamp, "token": token, "signature": signature}.items()
    ]  # fmt: skip
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = client.generic(
        "POST", "/anymail/mailgun/inbound_mime/", body,
        content_type=f"multipart/form-data; boundary={boundary}", HTTP_AUTHORIZATION=BASIC,
    )  # fmt: skip
    assert response.status_code == 200
    assert bytes(InboundEmail.objects.get().raw) == WINDOWS_1252
