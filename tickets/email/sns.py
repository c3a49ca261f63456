"""Amazon SNS message signatures, which Anymail's SES webhook does not check itself.

SNS signs every message with a certificate served from an `sns.<region>.amazonaws.com` URL. We rebuild
the canonical string SNS signed, fetch (and cache) the certificate, and verify with `cryptography`.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlparse

import requests
from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView, AmazonSESTrackingWebhookView
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache

CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
SIGNED_KEYS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    "UnsubscribeConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}


def canonical_string(message: dict) -> bytes:
    keys = SIGNED_KEYS.get(message.get("Type", ""), [])
    return "".join(f"{key}\n{message[key]}\n" for key in keys if key in message).encode("utf-8")


def fetch_certificate(url: str) -> bytes:
    parsed = urlparse(url)
    if parsed.scheme != "https" or not CERT_HOST.match(parsed.hostname or "") or not parsed.path.endswith(".pem"):
        raise AnymailWebhookValidationFailure(f"SNS SigningCertURL is not an Amazon SNS certificate: {url!r}")
    key = f"sns-cert:{url}"
    pem = cache.get(key)
    if pem is None:
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        pem = response.content
        cache.set(key, pem, 24 * 3600)
    return pem


# Every field SNS sends is text; anything else (a number, a list) is refused before it is used.
TEXT_FIELDS = (
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "SubscribeURL",
    "UnsubscribeURL",
    "Token",
)
REQUIRED_FIELDS = ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "Signature", "SigningCertURL")


def check_sns_fields(message) -> None:
    """Raise AnymailWebhookValidationFailure unless `message` has SNS's shape (every field text, the
    required ones present) and its topic is one `ACOLHE_SES_TOPIC_ARNS` allows (any, when that is empty).
    Runs before the certificate is fetched."""
    if not isinstance(message, dict):
        raise AnymailWebhookValidationFailure("SNS body is not a JSON object")
    for key in TEXT_FIELDS:
        if key in message and not isinstance(message[key], str):
            raise AnymailWebhookValidationFailure(f"SNS field {key} is not text")
    missing = [key for key in REQUIRED_FIELDS if not message.get(key)]
    if missing:
        raise AnymailWebhookValidationFailure(f"SNS message without {', '.join(missing)}")
    if message["Type"] not in SIGNED_KEYS or message.get("SignatureVersion", "1") not in {"1", "2"}:
        raise AnymailWebhookValidationFailure("SNS message of an unknown type or signature version")
    allowed = settings.ACOLHE_SES_TOPIC_ARNS
    if allowed and message["TopicArn"] not in allowed:
        raise AnymailWebhookValidationFailure(f"SNS topic {message['TopicArn'][:200]!r} is not allowed")


def verify_sns_message(message: dict) -> None:
    """Raise AnymailWebhookValidationFailure unless the message carries a valid SNS signature."""
    try:
        signature = base64.b64decode(message["Signature"])
        version = str(message.get("SignatureVersion", "1"))
        certificate = x509.load_pem_x509_certificate(fetch_certificate(message["SigningCertURL"]))
    except (KeyError, ValueError, TypeError, requests.RequestException) as exc:
        raise AnymailWebhookValidationFailure(f"SNS message signature missing or unusable: {exc}") from exc
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise AnymailWebhookValidationFailure("SNS signing certificate without an RSA key")
    try:
        key.verify(signature, canonical_string(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as exc:
        raise AnymailWebhookValidationFailure("SNS message signature does not match") from exc


class SignedSNSMixin:
    """Check an SNS post's shape, topic and signature. Runs after basic auth (see
    `tickets.email.webhooks.HardenedWebhookMixin`), so nothing is parsed or fetched for an anonymous post."""

    def validate_request(self, request):
        try:
            message = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise AnymailWebhookValidationFailure("SNS body is not JSON") from exc
        check_sns_fields(message)
        verify_sns_message(message)


class VerifiedAmazonSESInboundWebhookView(SignedSNSMixin, AmazonSESInboundWebhookView):
    pass


class VerifiedAmazonSESTrackingWebhookView(SignedSNSMixin, AmazonSESTrackingWebhookView):
    pass
