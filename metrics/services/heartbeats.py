"""Page heartbeats: the ticket page reports every 30 seconds while it is visible and focused."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from metrics.definitions import HEARTBEAT_SECONDS
from metrics.models import Heartbeat
from tickets import selectors


def record_heartbeat(user: AbstractBaseUser, number: int, *, now: datetime | None = None) -> bool:
    """Count the current 30-second slot for the user on a ticket they can see. False when the ticket is not
    theirs to see; a second beat in the same slot is a no-op."""
    ticket = selectors.tickets_visible_to(user).filter(number=number).only("pk").first()
    if ticket is None:
        return False
    now = now or timezone.now()
    slot = int(now.timestamp()) // HEARTBEAT_SECONDS
    Heartbeat.objects.bulk_create(
        [Heartbeat(user=user, ticket=ticket, slot=slot, at=now)],
        ignore_conflicts=True,
    )
    return True
