"""Celery tasks: thin wrappers that load ids and call one service."""

from celery import shared_task
from django.conf import settings

from tickets.email import inbound, outbound

# Mail in reads what strangers send: every inbound task has a soft limit (raised inside the task: the mail
# being applied is marked failed with the reason, the others go on in a fresh task) and a hard one (the
# worker process is killed; a mail that was being applied twice when that happened is marked failed).
INBOUND_TIME_LIMITS = {
    "soft_time_limit": settings.ACOLHE_INBOUND_TASK_SOFT_SECONDS,
    "time_limit": settings.ACOLHE_INBOUND_TASK_HARD_SECONDS,
}


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=5,
    **INBOUND_TIME_LIMITS,
)
def process_waiting_inbound() -> int:
    """Queued by `inbound.wake_inbound_worker` (at most one waits in the queue): apply the waiting mail."""
    return inbound.process_waiting_inbound()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5, **INBOUND_TIME_LIMITS)
def process_inbound_email(self, inbound_id: int) -> str:
    """Apply one stored mail (a retry of one that failed); other waiting mail rides along with it."""
    try:
        return inbound.process_inbound_batch(inbound_id)
    except inbound.TIME_LIMIT_ERRORS:
        return "failed"  # marked failed with the reason; it would take as long again
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
    """Run by beat: when stored mail has waited over two minutes (its wake-up never reached the broker, it
    was down), queue a drain task for it. Returns how many mails were waiting that long."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import InboundEmail

    cutoff = timezone.now() - timedelta(minutes=2)
    stale = InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED, received_at__lt=cutoff).count()
    if stale:
        process_waiting_inbound.delay()
    return stale
