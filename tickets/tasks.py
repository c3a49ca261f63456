"""Celery tasks: thin wrappers that load ids and call one service."""

from celery import shared_task
from django.conf import settings

from helpdesk.locks import single_run
from tickets.email import inbound, outbound

# Mail in reads what strangers send: every inbound task has a soft limit (raised inside the task: the mail
# being applied is marked failed with the reason, the others go on in a fresh task) and a hard one (the
# worker process is killed; a mail that was being applied twice when that happened is marked failed).
INBOUND_TIME_LIMITS = {
    "soft_time_limit": settings.ACOLHE_INBOUND_TASK_SOFT_SECONDS,
    "time_limit": settings.ACOLHE_INBOUND_TASK_HARD_SECONDS,
}


# Time limits: a drain stops taking batches after DRAIN_SECONDS (10 s), a send waits on one ESP call. A task
# past its hard limit is killed and, being acks_late, delivered again; the database sweeps re-drive the work
# anyway. The longest retry countdown (240 s) plus a hard limit stays inside the broker's visibility timeout.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=240,
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
        raise self.retry(exc=exc, countdown=min(240, 5 * 2**self.request.retries)) from exc


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=outbound.MAX_SEND_ATTEMPTS,
    # Inside the claim's lease (outbound.SENDING_LEASE, 35 s): the ESP call itself gives up after 20 s
    # (ANYMAIL REQUESTS_TIMEOUT), so a sender past this is dead or stuck, and its message is re-driven.
    soft_time_limit=25,
    time_limit=30,
)
def send_message(self, message_id: int) -> str:
    """Send one queued message. Attempts are counted on the row, so a chain of retries re-driven by the
    outbox sweep still ends as `failed` after MAX_SEND_ATTEMPTS."""
    try:
        message = outbound.deliver(message_id)
    except Exception as exc:
        attempts = outbound.send_attempts(message_id)
        if attempts >= outbound.MAX_SEND_ATTEMPTS:
            outbound.mark_failed(message_id, f"{type(exc).__name__}: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=outbound.retry_delay(attempts)) from exc
    return message.delivery_status if message else "missing"


@shared_task(acks_late=True)
@single_run("sla-sweep", timeout=300)
def sla_sweep() -> dict[str, int]:
    """Run by beat every minute; overlapping or repeated runs record each warning and breach once, and a
    run that starts while another is going (a second beat) returns None at once."""
    from tickets import sla

    result = sla.sweep()
    return {"tickets": result.tickets, "warnings": result.warnings, "breaches": result.breaches}


@shared_task(acks_late=True)
@single_run("requeue-stale-outbound", timeout=300)
def requeue_stale_outbound() -> int:
    """Run by beat: send again what a lost task or a dead worker left queued or half-sent."""
    stale = outbound.stale_outbox()
    for message_id in stale:
        send_message.delay(message_id)
    return len(stale)


@shared_task(acks_late=True, reject_on_worker_lost=True)
@single_run("enforce-retention", timeout=3600)
def enforce_retention() -> int:
    """Run by beat each night: delete closed tickets older than their queue's retention period."""
    from tickets.privacy.services import purge_expired_tickets

    return purge_expired_tickets()


@shared_task(acks_late=True)
@single_run("requeue-stale-inbound", timeout=120)
def requeue_stale_inbound() -> int:
    """Run by beat every ACOLHE_SWEEP_SECONDS: when stored mail has waited longer than its grace with no
    drain working on it (its wake-up never reached the broker, or the worker running the drain died), queue a
    drain task for it. Returns how many mails were found waiting that long."""
    stale = inbound.stale_waiting_count()
    if stale:
        process_waiting_inbound.delay()
    return stale
