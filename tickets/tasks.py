"""Celery tasks: thin wrappers that load ids and call one service."""

from celery import shared_task

from tickets.email import outbound
from tickets.email.inbound import process_inbound


@shared_task(bind=True, acks_late=True, max_retries=5, retry_backoff=True)
def process_inbound_email(self, inbound_id: int) -> str:
    try:
        return process_inbound(inbound_id).status
    except Exception as exc:
        # The row is already marked failed with the error; retrying may succeed (a lock, a restart).
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, max_retries=6)
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
