"""Anymail tracking webhooks: what happened to a reply after the ESP took it (delivered, bounced, ...)."""

from __future__ import annotations

import logging

from anymail.signals import AnymailTrackingEvent
from django.db import transaction

from tickets import services
from tickets.models import Message, TicketEvent

logger = logging.getLogger(__name__)

# ESP event → delivery status. Other events (opened, clicked, queued) are not recorded.
EVENT_STATUS = {
    "delivered": Message.Delivery.DELIVERED,
    "bounced": Message.Delivery.BOUNCED,
    "rejected": Message.Delivery.BOUNCED,
    "complained": Message.Delivery.COMPLAINED,
    "failed": Message.Delivery.FAILED,
}
# A later "delivered" must not hide an earlier bounce or complaint (ESPs do not post in order).
FINAL = {Message.Delivery.BOUNCED, Message.Delivery.COMPLAINED}


def record_tracking_event(esp_message_id: str, event_type: str, description: str = "") -> Message | None:
    """Apply one ESP event to the outbound message it names. Idempotent: a repeated event changes nothing."""
    status = EVENT_STATUS.get(event_type)
    if status is None or not esp_message_id:
        return None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(esp_message_id=str(esp_message_id)[:255], direction=Message.Direction.OUT)
            .first()
        )
        if message is None or message.delivery_status == status:
            return message
        if message.delivery_status in FINAL and status == Message.Delivery.DELIVERED:
            return message
        old = message.delivery_status
        message.delivery_status = status
        if status != Message.Delivery.DELIVERED:
            message.delivery_error = (description or event_type)[:2000]
        message.save(update_fields=["delivery_status", "delivery_error"])
        services.record_event(message.ticket, TicketEvent.Kind.DELIVERY_CHANGED, old=old, new=status, message=message)
        return message


def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    record_tracking_event(
        event.message_id or "", event.event_type or "", event.description or event.reject_reason or ""
    )
