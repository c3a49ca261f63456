"""Webhook hardening: Mailgun replays are refused, SES checks the shared secret before it reads anything,
and malformed input of any kind to any webhook answers 4xx, never 5xx."""

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tickets.email.test_webhooks import (  # noqa: F401  (the autouse fixture switches every ESP on)
    BASIC,
    MAILGUN_KEY,
    RAW,
    _mailgun,
    _ses,
    _webhooks,
    sns_signing,
)
from tickets.email import sns
from tickets.models import InboundEmail

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/anymail/mailgun/inbound/",
    "/anymail/mailgun/inbound_mime/",
    "/anymail/mailgun/tracking/",
    "/anymail/postmark/inbound/",
    "/anymail/postmark/tracking/",
    "/anymail/sendgrid/inbound/",
    "/anymail/sendgrid/tracking/",
    "/anymail/amazon_ses/inbound/",
    "/anymail/amazon_ses/tracking/",
]


@pytest.fixture(autouse=True)
def _forget_mailgun_tokens():
    yield
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{cache.key_prefix}:*mailgun-token:*", count=1000):
        client.delete(key)


def test_mailgun_post_signed_more_than_five_minutes_ago_is_refused(client):
    response = _mailgun(client, RAW.format(esp="mailgun"), timestamp=int(time.time()) - 301)
    assert 400 <= response.status_code < 500
    assert not InboundEmail.objects.exists()


def test_mailgun_post_signed_in_2015_is_refused(client):
    response = _mailgun(client, RAW.format(esp="mailgun"), timestamp=1430000000)
    assert 400 <= response.status_code < 500
    assert not InboundEmail.objects.exists()


def test_mailgun_post_replayed_with_its_token_is_refused(client):
    token = secrets.token_hex(25)
    assert _mailgun(client, RAW.format(esp="mailgun"), token=token).status_code == 200
    InboundEmail.objects.all().delete()  # so a replay that got through would show
    replay = _mailgun(client, RAW.format(esp="mailgun"), token=token)
    assert 400 <= replay.status_code < 500
    assert not InboundEmail.objects.exists()


def test_mailgun_token_is_not_spent_by_a_post_with_a_forged_signature(client):
    token = secrets.token_hex(25)
    assert 400 <= _mailgun(client, RAW.format(esp="mailgun"), token=token, key="forged").status_code < 500
    assert _mailgun(client, RAW.format(esp="mailgun"), token=token).status_code == 200
    assert InboundEmail.objects.count() == 1


def test_mailgun_token_is_not_spent_by_a_post_that_failed_on_our_side(client, monkeypatch):
    from tickets.email import webhooks

    token = secrets.token_hex(25)

    def database_down(*args, **kwargs):
        raise ConnectionError("the database is down")

    monkeypatch.setattr(webhooks, "store_inbound", database_down)
    with pytest.raises(ConnectionError):
        _mailgun(client, RAW.format(esp="mailgun"), token=token)
    monkeypatch.undo()
    # Mailgun retries the same post: it is taken.
    assert _mailgun(client, RAW.format(esp="mailgun"), token=token).status_code == 200


def test_mailgun_tracking_post_replayed_is_refused(client):
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    body = json.dumps({"signature": {"timestamp": timestamp, "token": token, "signature": signature},
                       "event-data": {"event": "delivered", "timestamp": time.time(), "id": "x",
                                      "message": {"headers": {"message-id": "none@example.com"}}}})  # fmt: skip
    first = client.post("/anymail/mailgun/tracking/", body, content_type="application/json", HTTP_AUTHORIZATION=BASIC)
    again = client.post("/anymail/mailgun/tracking/", body, content_type="application/json", HTTP_AUTHORIZATION=BASIC)
    assert first.status_code == 200
    assert 400 <= again.status_code < 500


@pytest.mark.parametrize("path", ["/anymail/amazon_ses/inbound/", "/anymail/amazon_ses/tracking/"])
def test_ses_checks_basic_auth_before_parsing_or_fetching_a_certificate(client, monkeypatch, path):
    fetched, parsed = [], []
    monkeypatch.setattr(sns, "fetch_certificate", lambda url: fetched.append(url) or b"")
    monkeypatch.setattr(sns, "check_sns_fields", lambda message: parsed.append(message))
    message = {"Type": "Notification", "MessageId": "m", "TopicArn": "arn", "Message": "{}", "Timestamp": "t",
               "SignatureVersion": "1", "Signature": "eA==",
               "SigningCertURL": "https://sns.us-east-1.amazonaws.com/any.pem"}  # fmt: skip
    response = client.post(
        path, json.dumps(message), content_type="text/plain",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"someone:else").decode(),
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification", HTTP_X_AMZ_SNS_MESSAGE_ID="m",
    )  # fmt: skip
    assert 400 <= response.status_code < 500
    assert fetched == [] and parsed == []


@pytest.mark.parametrize("value", [["a@example.com", "b@example.com"], 12345])
def test_postmark_envelope_recipient_that_is_not_text_is_a_400_and_stores_nothing(client, value):
    # Postmark JSON without RawEmail goes through Anymail's parsing and its inbound signal.
    message = {"From": "paula@example.com", "To": "suporte@acolhe.example", "Subject": "Oi", "TextBody": "Oi",
               "Headers": [], "Attachments": [], "OriginalRecipient": value}  # fmt: skip
    response = client.post(
        "/anymail/postmark/inbound/", json.dumps(message), content_type="application/json", HTTP_AUTHORIZATION=BASIC
    )
    assert response.status_code == 400
    assert not InboundEmail.objects.exists()


@pytest.mark.parametrize(
    "field, value", [("SigningCertURL", 12345), ("Signature", ["x"]), ("TopicArn", None), ("Message", {"a": 1})]
)
def test_ses_field_of_the_wrong_type_is_a_400(client, field, value):
    message = {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:111:inbound",
               "Message": "{}", "Timestamp": "t", "SignatureVersion": "1", "Signature": "eA==",
               "SigningCertURL": "https://sns.us-east-1.amazonaws.com/any.pem", field: value}  # fmt: skip
    response = client.post(
        "/anymail/amazon_ses/inbound/", json.dumps(message), content_type="text/plain", HTTP_AUTHORIZATION=BASIC,
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification", HTTP_X_AMZ_SNS_MESSAGE_ID="m",
    )  # fmt: skip
    assert response.status_code == 400


def test_ses_topic_outside_the_allowed_list_is_refused(client, settings, sns_signing):  # noqa: F811
    settings.ACOLHE_SES_TOPIC_ARNS = ["arn:aws:sns:us-east-1:111:other"]
    response = _ses(client, RAW.format(esp="amazon_ses"), sns_signing)
    assert response.status_code == 400
    assert not InboundEmail.objects.exists()


def test_ses_topic_in_the_allowed_list_is_taken(client, settings, sns_signing):  # noqa: F811
    settings.ACOLHE_SES_TOPIC_ARNS = ["arn:aws:sns:us-east-1:111:inbound"]
    assert _ses(client, RAW.format(esp="amazon_ses"), sns_signing).status_code == 200
    assert InboundEmail.objects.count() == 1


def _signed_mailgun_fields():
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Field names each ESP reads, so the fuzzer reaches past the first lookup.
KNOWN_KEYS = ["Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature",
              "SigningCertURL", "RawEmail", "Headers", "FromFull", "ToFull", "Attachments", "RecordType",
              "MessageID", "signature", "event-data", "notificationType", "content", "receipt", "mail",
              "OriginalRecipient", "event", "sg_message_id"]  # fmt: skip
form_fields = st.dictionaries(
    st.sampled_from(["body-mime", "email", "envelope", "recipient", "sender", "headers", "charsets",
                     "spam_score", "body-plain", "from", "subject", "attachment-count", "message-headers"]),
    st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    max_size=6,
)  # fmt: skip


@st.composite
def malformed_post(draw):
    kind = draw(st.sampled_from(["json", "known-json", "form", "bytes"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), "application/json"
    if kind == "known-json":
        body = draw(st.dictionaries(st.sampled_from(KNOWN_KEYS), json_values, max_size=8))
        if draw(st.booleans()):
            body["signature"] = _signed_mailgun_fields()
        return json.dumps(body).encode(), draw(st.sampled_from(["application/json", "text/plain"]))
    if kind == "form":
        fields = draw(form_fields)
        if draw(st.booleans()):
            fields.update(_signed_mailgun_fields())
        return fields, None
    content_types = ["application/json", "text/plain", "multipart/form-data; boundary=x"]
    content_types.append("application/x-www-form-urlencoded")
    return draw(st.binary(max_size=400)), draw(st.sampled_from(content_types))


@pytest.mark.parametrize("path", ENDPOINTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(post=malformed_post(), sns_type=st.sampled_from(["Notification", "SubscriptionConfirmation", "x"]))
def test_malformed_input_to_any_webhook_is_a_4xx_never_a_5xx(client, path, post, sns_type):
    body, content_type = post
    headers = {"HTTP_AUTHORIZATION": BASIC, "HTTP_X_AMZ_SNS_MESSAGE_TYPE": sns_type, "HTTP_X_AMZ_SNS_MESSAGE_ID": "m"}
    if content_type is None:
        response = client.post(path, body, **headers)
    else:
        response = client.post(path, body, content_type=content_type, **headers)
    assert response.status_code < 500, (path, body, content_type)
