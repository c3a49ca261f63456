"""Celery tasks: thin wrappers that load ids and call one service."""

from celery import shared_task

from tickets.email import outbound
from tickets.email.inbound import process_inbound_batch


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def process_inbound_email(self, inbound_id: int) -> str:
    """Apply one stored mail; other waiting mail rides along in the same transaction, so under a backlog
    most of these tasks find their mail applied already and return at the cost of one read."""
    try:
        return process_inbound_batch(inbound_id)
    except Exception as exc:
        # The row is already marked failed with the error; retrying may succeed (a lock, a restart).
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6)
def send_message(self, message_id: int) -> str:
    try:
        message = outbound.deliver(message_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            outbound.mark_failed(message_id, f"{type(exc).__name__}: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(900, 10 * 2**self.request.retries)) from exc
    return message.delivery_status if message else "missing"


@shared_task(acks_late=True)
def sla_sweep() -> dict[str, int]:
    """Run by beat every minute; overlapping or repeated runs record each warning and breach once."""
    from tickets import sla

    result = sla.sweep()
    return {"tickets": result.tickets, "warnings": result.warnings, "breaches": result.breaches}


@shared_task(acks_late=True)
def requeue_stale_outbound() -> int:
    """Run by beat: send again what a lost task or a dead worker left queued or half-sent."""
    stale = outbound.stale_outbox()
    for message_id in stale:
        send_message.delay(message_id)
    return len(stale)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def enforce_retention() -> int:
    """Run by beat each night: delete closed tickets older than their queue's retention period."""
    from tickets.privacy import purge_expired_tickets

    return purge_expired_tickets()


@shared_task(acks_late=True)
def requeue_stale_inbound() -> int:
    """Run by beat: queue stored mail whose processing task never reached the broker (it was down)."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import InboundEmail

    cutoff = timezone.now() - timedelta(minutes=2)
    stale = list(
        InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    for inbound_id in stale:
        process_inbound_email.delay(inbound_id)
    return len(stale)
