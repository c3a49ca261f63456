"""Anymail's inbound signal: keep the raw mail and answer. Nothing here parses the message."""

from __future__ import annotations

from anymail.signals import AnymailInboundEvent

from tickets.email.inbound import store_inbound


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
