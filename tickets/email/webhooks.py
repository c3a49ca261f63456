"""Inbound webhooks: keep the raw mail and answer. Nothing here parses the message.

Each ESP view first runs Anymail's validators, HTTP basic auth before any other (before the body is read,
before a certificate is fetched), then the ESP's signature. Where the ESP posts the original MIME
(Mailgun's `body-mime`, Postmark's `RawEmail`, SendGrid's raw `email`, SES's SNS `content`), those exact
bytes are stored without Anymail parsing them; otherwise Anymail builds the message and its `inbound`
signal hands it to `tickets.email.inbound.on_inbound`.

Malformed input of any kind is the sender's fault and answers 4xx: a 5xx makes the ESP post it again and
again. Only a failure on our side (the database is down) answers 5xx, so the ESP keeps the mail and retries.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import json
import logging
import time
from io import BytesIO

from anymail.exceptions import AnymailConfigurationError, AnymailError, AnymailWebhookValidationFailure
from anymail.webhooks.base import AnymailBasicAuthMixin
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView, PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView, SendGridTrackingWebhookView
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadhandler import load_handler
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from tickets.email.inbound import store_inbound
from tickets.email.sns import VerifiedAmazonSESInboundWebhookView, VerifiedAmazonSESTrackingWebhookView

logger = logging.getLogger(__name__)

# What a malformed post raises on its way through our code and Anymail's parsers (a field of the wrong
# type, a missing key, text that is not JSON, base64 or MIME, a NUL byte PostgreSQL refuses).
MALFORMED_INPUT = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    UnicodeError,
    binascii.Error,
    email.errors.MessageError,
    MultiPartParserError,
    AnymailError,
    # Raised by Anymail for a post of the wrong shape (tracking JSON posted to the inbound URL).
    AnymailConfigurationError,
)
# Mailgun signs a timestamp and a one-time token; a post older than this, or a token seen before, is a replay.
MAILGUN_MAX_AGE_SECONDS = 5 * 60


class HardenedWebhookMixin:
    """Basic auth before any other check, and a 400 (not a 500) for any malformed post."""

    def run_validators(self, request):
        # Anymail runs validators in MRO order, so a subclass's signature check (which reads the body, and
        # for SNS fetches a certificate) would run before the shared secret is checked. A post is checked
        # once, even when a raw-MIME view hands it on to Anymail's own parsing.
        if getattr(request, "_acolhe_validated", False):
            return
        AnymailBasicAuthMixin.validate_request(self, request)
        for validator in self.validators:
            if validator is not AnymailBasicAuthMixin.validate_request:
                validator(self, request)
        # Last, once the signature holds: only a signed post may spend a one-time token.
        self.check_replay(request)
        request._acolhe_validated = True

    def check_replay(self, request) -> None:
        pass

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except SuspiciousOperation:
            raise  # Django answers 400 (Anymail's validation failures are of this kind)
        except MALFORMED_INPUT as exc:
            logger.warning("malformed %s webhook post: %s: %s", self.esp_name, type(exc).__name__, exc)
            return HttpResponseBadRequest("malformed webhook post")


class MailgunReplayMixin:
    """Mailgun's signature covers a timestamp and a token: refuse an old timestamp or a token used before.
    A token is only spent by a post that was handled; a post that failed on our side may be sent again."""

    def check_replay(self, request) -> None:
        fields = _mailgun_signature_fields(request)
        try:
            timestamp = int(fields["timestamp"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AnymailWebhookValidationFailure("Mailgun webhook without a usable timestamp") from exc
        if abs(time.time() - timestamp) > MAILGUN_MAX_AGE_SECONDS:
            raise AnymailWebhookValidationFailure("Mailgun webhook timestamp is more than 5 minutes away")
        token = fields.get("token")
        if not isinstance(token, str) or not token:
            raise AnymailWebhookValidationFailure("Mailgun webhook without a token")
        # Kept twice the accepted age: past that the timestamp check refuses the post anyway.
        if not cache.add(_mailgun_token_key(token), 1, 2 * MAILGUN_MAX_AGE_SECONDS):
            raise AnymailWebhookValidationFailure("Mailgun webhook token was used before (replay)")
        request._acolhe_mailgun_token = token

    def post(self, request, *args, **kwargs):
        try:
            response = super().post(request, *args, **kwargs)
        except Exception:
            _release_mailgun_token(request)
            raise
        if response.status_code >= 500:
            _release_mailgun_token(request)
        return response


def _mailgun_signature_fields(request) -> dict:
    if request.content_type == "application/json":
        try:
            signature = json.loads(request.body.decode("utf-8"))["signature"]
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise AnymailWebhookValidationFailure("Mailgun webhook with an invalid payload") from exc
        if not isinstance(signature, dict):
            raise AnymailWebhookValidationFailure("Mailgun webhook with an invalid signature block")
        return signature
    return {name: request.POST.get(name) for name in ("timestamp", "token")}


def _mailgun_token_key(token: str) -> str:
    return f"mailgun-token:{token[:200]}"


def _release_mailgun_token(request) -> None:
    token = getattr(request, "_acolhe_mailgun_token", None)
    if token:
        cache.delete(_mailgun_token_key(token))


class RawMimeMixin(HardenedWebhookMixin):
    """Store the ESP's own copy of the raw mail when the post carries one."""

    def raw_mime(self, request) -> tuple[bytes, dict] | None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        try:
            # Read the body before anything reads the form fields, so `form_bytes` can parse it again.
            request.body  # noqa: B018
            self.run_validators(request)
            found = self.raw_mime(request)
            if found is not None:
                raw, envelope = found
                store_inbound(raw, esp=self.esp_name, **envelope)
                return HttpResponse()
        except SuspiciousOperation:
            raise
        except MALFORMED_INPUT as exc:
            logger.warning("malformed %s webhook post: %s: %s", self.esp_name, type(exc).__name__, exc)
            return HttpResponseBadRequest("malformed webhook post")
        return super().post(request, *args, **kwargs)


def form_bytes(request, name: str) -> bytes | None:
    """A form field's bytes exactly as posted, or None when the form has no such field.

    Django decodes form fields as UTF-8 with replacement characters, so a raw mail in 8-bit Windows-1252
    (as many clients still send) would lose its letters before it is stored. Decoding the same body as
    ISO-8859-1 maps every byte to one code point and back, so encoding the field again gives its bytes."""
    if request.content_type == "multipart/form-data":
        # Handlers of its own: the request's were used when its form was parsed.
        handlers = [load_handler(path, request) for path in settings.FILE_UPLOAD_HANDLERS]
        parser = MultiPartParser(request.META, BytesIO(request.body), handlers, "iso-8859-1")
        fields, files = parser.parse()
        value = fields.get(name)
        if value is not None:
            return value.encode("iso-8859-1")
        upload = files.get(name)
        return upload.read() if upload is not None else None
    fields = QueryDict(request.body, encoding="iso-8859-1")
    return fields[name].encode("iso-8859-1") if name in fields else None


def _form_text(request, name: str) -> str:
    value = form_bytes(request, name)
    return value.decode("utf-8", "replace") if value is not None else ""


def _text_to_bytes(value: str) -> bytes:
    # JSON carries text, not bytes: raw mail posted in JSON is stored as its UTF-8 encoding.
    return value.encode("utf-8", "surrogateescape")


class MailgunRawInboundView(MailgunReplayMixin, RawMimeMixin, MailgunInboundWebhookView):
    def raw_mime(self, request):
        if "body-mime" not in request.POST and "body-mime" not in request.FILES:
            return None  # parsed fields: Anymail builds the message
        raw = form_bytes(request, "body-mime")
        if raw is None:
            return None
        return raw, {
            "envelope_recipient": _form_text(request, "recipient"),
            "envelope_sender": _form_text(request, "sender"),
        }


class MailgunHardenedTrackingView(MailgunReplayMixin, HardenedWebhookMixin, MailgunTrackingWebhookView):
    pass


class PostmarkRawInboundView(RawMimeMixin, PostmarkInboundWebhookView):
    def raw_mime(self, request):
        try:
            payload = json.loads(request.body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or not payload.get("RawEmail"):
            return None
        if not isinstance(payload["RawEmail"], str):
            raise TypeError("Postmark RawEmail is not text")
        headers = payload.get("Headers") or []
        spam_score = next(
            (
                h.get("Value")
                for h in (headers if isinstance(headers, list) else [])
                if isinstance(h, dict) and str(h.get("Name", "")).lower() == "x-spam-score"
            ),
            None,
        )
        return _text_to_bytes(payload["RawEmail"]), {
            "envelope_recipient": _str(payload.get("OriginalRecipient")),
            "spam_score": _float(spam_score),
        }


class PostmarkHardenedTrackingView(HardenedWebhookMixin, PostmarkTrackingWebhookView):
    pass


class SendGridRawInboundView(RawMimeMixin, SendGridInboundWebhookView):
    def raw_mime(self, request):
        if "email" not in request.POST and "email" not in request.FILES:
            return None  # parsed fields: Anymail builds the message
        raw = form_bytes(request, "email")
        if raw is None:
            return None
        try:
            envelope = json.loads(request.POST.get("envelope") or "{}")
        except ValueError:
            envelope = {}
        envelope = envelope if isinstance(envelope, dict) else {}
        recipients = envelope.get("to") or [""]
        return raw, {
            "envelope_recipient": _str(recipients[0] if isinstance(recipients, list) else recipients),
            "envelope_sender": _str(envelope.get("from")),
            "spam_score": _float(request.POST.get("spam_score")),
        }


class SendGridHardenedTrackingView(HardenedWebhookMixin, SendGridTrackingWebhookView):
    pass


class AmazonSESRawInboundView(RawMimeMixin, VerifiedAmazonSESInboundWebhookView):
    def raw_mime(self, request):
        try:
            sns = json.loads(request.body)
            ses = json.loads(sns["Message"]) if sns.get("Type") == "Notification" else None
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(ses, dict) or ses.get("notificationType") != "Received":
            return None
        receipt = ses.get("receipt") or {}
        action = receipt.get("action") or {}
        if not isinstance(receipt, dict) or not isinstance(action, dict):
            raise TypeError("SES receipt is not an object")
        if action.get("type") != "SNS" or "content" not in ses:
            return None  # stored in S3: Anymail fetches it
        content = ses["content"]
        if not isinstance(content, str):
            raise TypeError("SES content is not text")
        raw = base64.b64decode(content, validate=True) if action.get("encoding") == "BASE64" else content.encode()
        verdict = receipt.get("spamVerdict") or {}
        recipients = receipt.get("recipients") or [""]
        mail = ses.get("mail") or {}
        return raw, {
            "envelope_recipient": _str(recipients[0] if isinstance(recipients, list) else recipients),
            "envelope_sender": _str(mail.get("source") if isinstance(mail, dict) else ""),
            "spam_detected": {"FAIL": True, "PASS": False}.get(
                verdict.get("status") if isinstance(verdict, dict) else None
            ),
        }


class AmazonSESHardenedTrackingView(HardenedWebhookMixin, VerifiedAmazonSESTrackingWebhookView):
    pass


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
