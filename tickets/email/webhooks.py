"""Inbound webhooks: keep the raw mail and answer. Nothing here parses the message.

Each ESP view first runs Anymail's validators (basic auth, the ESP's signature). Where the ESP posts the
original MIME (Mailgun's `body-mime`, Postmark's `RawEmail`, SendGrid's raw `email`, SES's SNS `content`),
those exact bytes are stored without Anymail parsing them; otherwise Anymail builds the message and its
`inbound` signal hands it to `on_inbound`.
"""

from __future__ import annotations

import base64
import json

from anymail.signals import AnymailInboundEvent
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.http import HttpResponse

from tickets.email.inbound import store_inbound
from tickets.email.sns import VerifiedAmazonSESInboundWebhookView


def on_inbound(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    message = event.message
    store_inbound(
        message.as_bytes(),
        esp=esp_name,
        envelope_recipient=message.envelope_recipient or "",
        envelope_sender=message.envelope_sender or "",
        spam_detected=message.spam_detected,
        spam_score=message.spam_score,
    )


class RawMimeMixin:
    """Store the ESP's own copy of the raw mail when the post carries one."""

    def raw_mime(self, request) -> tuple[bytes, dict] | None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        self.run_validators(request)
        found = self.raw_mime(request)
        if found is None:
            return super().post(request, *args, **kwargs)
        raw, envelope = found
        store_inbound(raw, esp=self.esp_name, **envelope)
        return HttpResponse()


def _text_to_bytes(value: str) -> bytes:
    # Form fields arrive decoded as UTF-8; bytes that were not UTF-8 survive as surrogates.
    return value.encode("utf-8", "surrogateescape")


class MailgunRawInboundView(RawMimeMixin, MailgunInboundWebhookView):
    def raw_mime(self, request):
        if "body-mime" not in request.POST:
            return None
        return _text_to_bytes(request.POST["body-mime"]), {
            "envelope_recipient": request.POST.get("recipient", ""),
            "envelope_sender": request.POST.get("sender", ""),
        }


class PostmarkRawInboundView(RawMimeMixin, PostmarkInboundWebhookView):
    def raw_mime(self, request):
        try:
            payload = json.loads(request.body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or not payload.get("RawEmail"):
            return None
        spam_score = next(
            (h.get("Value") for h in payload.get("Headers") or [] if h.get("Name", "").lower() == "x-spam-score"), None
        )
        return _text_to_bytes(payload["RawEmail"]), {
            "envelope_recipient": payload.get("OriginalRecipient", ""),
            "spam_score": _float(spam_score),
        }


class SendGridRawInboundView(RawMimeMixin, SendGridInboundWebhookView):
    def raw_mime(self, request):
        if "email" not in request.POST:
            return None
        try:
            envelope = json.loads(request.POST.get("envelope") or "{}")
        except ValueError:
            envelope = {}
        recipients = envelope.get("to") or [""]
        return _text_to_bytes(request.POST["email"]), {
            "envelope_recipient": recipients[0] if isinstance(recipients, list) else str(recipients),
            "envelope_sender": envelope.get("from", ""),
            "spam_score": _float(request.POST.get("spam_score")),
        }


class AmazonSESRawInboundView(RawMimeMixin, VerifiedAmazonSESInboundWebhookView):
    def raw_mime(self, request):
        try:
            sns = json.loads(request.body)
            ses = json.loads(sns["Message"]) if sns.get("Type") == "Notification" else None
        except (ValueError, KeyError, TypeError):
            return None
        if not ses or ses.get("notificationType") != "Received":
            return None
        receipt = ses.get("receipt", {})
        action = receipt.get("action", {})
        if action.get("type") != "SNS" or "content" not in ses:
            return None  # stored in S3: Anymail fetches it
        content = ses["content"]
        raw = base64.b64decode(content) if action.get("encoding") == "BASE64" else content.encode("utf-8")
        verdict = (receipt.get("spamVerdict") or {}).get("status", "")
        return raw, {
            "envelope_recipient": (receipt.get("recipients") or [""])[0],
            "envelope_sender": ses.get("mail", {}).get("source", ""),
            "spam_detected": {"FAIL": True, "PASS": False}.get(verdict),
        }


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
