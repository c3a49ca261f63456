"""Celery tasks: thin wrappers that load ids and call one service."""

from celery import shared_task

from sop import services


@shared_task(acks_late=True)
def send_acknowledgement_reminders(acknowledgement_ids: list[int]) -> int:
    # Re-running mails only those still pending.
    return services.send_reminder_mails(acknowledgement_ids)
