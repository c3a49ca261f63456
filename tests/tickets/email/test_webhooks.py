"""Each ESP's inbound webhook: signed posts are stored and processed, forged ones store nothing,
retries make no second message."""

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.core.cache import cache

from tests.factories import QueueFactory
from tickets.email.sns import canonical_string
from tickets.models import InboundEmail, Message, Ticket

pytestmark = pytest.mark.django_db

BASIC = "Basic " + base64.b64encode(b"hook-user:hook-password").decode()
MAILGUN_KEY = "mailgun-signing-key"
RAW = (
    "From: Carla Dias <carla@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Conta bloqueada\r\n"
    "Message-ID: <esp-{esp}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Olá, minha conta foi bloqueada depois que troquei de celular. Não consigo fazer login de jeito nenhum. "
    "Podem desbloquear, por favor?\r\n"
)


@pytest.fixture(autouse=True)
def _webhooks(settings):
    QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    settings.ACOLHE_INBOUND_ESPS = ["mailgun", "postmark", "sendgrid", "amazon_ses"]
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def _mailgun(client, raw, *, key=MAILGUN_KEY, auth=BASIC, timestamp=None, token=None):
    # Mailgun signs each post with the time and a fresh one-time token.
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {"body-mime": raw, "recipient": "suporte@acolhe.example", "sender": "carla@example.com",
            "timestamp": timestamp, "token": token, "signature": signature}  # fmt: skip
    return client.post("/anymail/mailgun/inbound_mime/", data, HTTP_AUTHORIZATION=auth)


def _postmark(client, raw, *, auth=BASIC):
    payload = {"FromFull": {"Email": "carla@example.com", "Name": "Carla Dias"}, "To": "suporte@acolhe.example",
               "ToFull": [{"Email": "suporte@acolhe.example", "Name": ""}], "Subject": "Conta bloqueada",
               "MessageID": "pm-1", "RawEmail": raw, "Headers": [], "Attachments": []}  # fmt: skip
    return client.post(
        "/anymail/postmark/inbound/", json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def _sendgrid(client, raw, *, auth=BASIC):
    data = {"email": raw, "to": "suporte@acolhe.example", "from": "carla@example.com",
            "envelope": json.dumps({"to": ["suporte@acolhe.example"], "from": "carla@example.com"})}  # fmt: skip
    return client.post("/anymail/sendgrid/inbound/", data, HTTP_AUTHORIZATION=auth)


@pytest.fixture(scope="module")
def sns_signing():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.us-east-1.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert.public_bytes(serialization.Encoding.PEM)


def _ses(client, raw, sns_signing, *, tamper=False, auth=BASIC):
    key, pem = sns_signing
    cert_url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
    # The certificate SNS would serve, already in our cache: nothing leaves the machine.
    cache.set(f"sns-cert:{cert_url}", pem)
    ses_event = {
        "notificationType": "Received",
        "mail": {"timestamp": "2026-11-25T10:00:00.000Z", "source": "carla@example.com", "messageId": "ses-1",
                 "destination": ["suporte@acolhe.example"], "headers": [], "commonHeaders": {}},
        "receipt": {"recipients": ["suporte@acolhe.example"], "spamVerdict": {"status": "PASS"},
                    "virusVerdict": {"status": "PASS"}, "action": {"type": "SNS", "encoding": "BASE64",
                    "topicArn": "arn:aws:sns:us-east-1:111:inbound"}},
        "content": base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode(),
    }  # fmt: skip
    message = {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:us-east-1:111:inbound",
               "Message": json.dumps(ses_event), "Timestamp": "2026-11-25T10:00:00.000Z",
               "SignatureVersion": "2", "SigningCertURL": cert_url}  # fmt: skip
    signature = key.sign(canonical_string(message), padding.PKCS1v15(), hashes.SHA256())
    message["Signature"] = base64.b64encode(signature).decode()
    if tamper:
        # Someone re-routes the mail after SNS signed it.
        message["Message"] = message["Message"].replace("suporte@acolhe.example", "legal@acolhe.example")
    return client.post(
        "/anymail/amazon_ses/inbound/", json.dumps(message), content_type="text/plain; charset=UTF-8",
        HTTP_AUTHORIZATION=auth, HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification", HTTP_X_AMZ_SNS_MESSAGE_ID="sns-1",
    )  # fmt: skip


POSTERS = {
    "mailgun": lambda client, raw, sns, **kw: _mailgun(client, raw, **kw),
    "postmark": lambda client, raw, sns, **kw: _postmark(client, raw, **kw),
    "sendgrid": lambda client, raw, sns, **kw: _sendgrid(client, raw, **kw),
    "amazon_ses": lambda client, raw, sns, **kw: _ses(client, raw, sns, **kw),
}


@pytest.mark.parametrize("esp", POSTERS)
def test_signed_post_is_stored_raw_and_processed_into_a_ticket(
    client, esp, sns_signing, django_capture_on_commit_callbacks
):
    raw = RAW.format(esp=esp)
    with django_capture_on_commit_callbacks(execute=True):
        response = POSTERS[esp](client, raw, sns_signing)
    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert inbound.message_id == f"<esp-{esp}@example.com>"
    assert b"minha conta foi bloqueada" in bytes(inbound.raw)
    assert inbound.status == InboundEmail.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.queue.slug, ticket.language) == ("Conta bloqueada", "suporte", "pt")
    assert ticket.requester.email == "carla@example.com"


@pytest.mark.parametrize("esp", POSTERS)
def test_retried_delivery_makes_no_second_message(client, esp, sns_signing, django_capture_on_commit_callbacks):
    raw = RAW.format(esp=esp)
    with django_capture_on_commit_callbacks(execute=True):
        assert POSTERS[esp](client, raw, sns_signing).status_code == 200
        assert POSTERS[esp](client, raw, sns_signing).status_code == 200
    assert InboundEmail.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 1


@pytest.mark.parametrize("esp", POSTERS)
def test_post_without_the_webhook_secret_is_refused_and_stores_nothing(client, esp, sns_signing):
    response = POSTERS[esp](client, RAW.format(esp=esp), sns_signing, auth="Basic " + base64.b64encode(b"x:y").decode())
    assert 400 <= response.status_code < 500
    assert not InboundEmail.objects.exists()


def test_mailgun_post_with_a_forged_signature_is_refused(client):
    response = _mailgun(client, RAW.format(esp="mailgun"), key="not-the-key")
    assert 400 <= response.status_code < 500
    assert not InboundEmail.objects.exists()


def test_ses_post_whose_message_was_altered_after_signing_is_refused(client, sns_signing):
    response = _ses(client, RAW.format(esp="amazon_ses"), sns_signing, tamper=True)
    assert 400 <= response.status_code < 500
    assert not InboundEmail.objects.exists()


def test_ses_post_signed_with_a_certificate_from_elsewhere_is_refused(client):
    message = {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn", "Message": "{}",
               "Timestamp": "t", "SignatureVersion": "2", "SigningCertURL": "https://evil.example/cert.pem",
               "Signature": base64.b64encode(b"x").decode()}  # fmt: skip
    response = client.post(
        "/anymail/amazon_ses/inbound/", json.dumps(message), content_type="text/plain",
        HTTP_AUTHORIZATION=BASIC, HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification", HTTP_X_AMZ_SNS_MESSAGE_ID="sns-1",
    )  # fmt: skip
    assert 400 <= response.status_code < 500
    assert not InboundEmail.objects.exists()


def test_webhooks_fail_closed_without_a_configured_secret(client, settings):
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    response = _postmark(client, RAW.format(esp="postmark"))
    assert response.status_code == 403
    assert not InboundEmail.objects.exists()


def test_an_esp_that_is_not_switched_on_is_refused(client, settings):
    settings.ACOLHE_INBOUND_ESPS = ["postmark"]
    assert _sendgrid(client, RAW.format(esp="sendgrid")).status_code == 403
    assert not InboundEmail.objects.exists()


@pytest.mark.parametrize("esp", POSTERS)
def test_the_stored_mail_is_exactly_the_bytes_the_esp_posted(client, esp, sns_signing):
    raw = RAW.format(esp=esp)
    assert POSTERS[esp](client, raw, sns_signing).status_code == 200
    assert bytes(InboundEmail.objects.get().raw) == raw.encode()


def test_postmark_post_without_raw_email_is_rebuilt_by_anymail_and_stored(client, django_capture_on_commit_callbacks):
    payload = {"FromFull": {"Email": "carla@example.com", "Name": "Carla Dias"}, "To": "suporte@acolhe.example",
               "ToFull": [{"Email": "suporte@acolhe.example", "Name": ""}], "Subject": "Conta bloqueada",
               "MessageID": "pm-2", "TextBody": "Olá, minha conta foi bloqueada e preciso muito de ajuda hoje.",
               "Headers": [{"Name": "Message-ID", "Value": "<parsed@example.com>"}], "Attachments": []}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/anymail/postmark/inbound/", json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=BASIC
        )
    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundEmail.Status.PROCESSED
    assert Ticket.objects.get().subject == "Conta bloqueada"
