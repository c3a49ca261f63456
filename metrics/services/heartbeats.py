"""Page heartbeats: the ticket page reports every 30 seconds while it is visible and focused. They are
handle time for metrics and, on a sensitive ticket, exposure time for the associate's wellbeing."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from metrics.definitions import HEARTBEAT_SECONDS
from metrics.models import Heartbeat
from tickets import selectors
from tickets.wellbeing.services import record_screen_time


def record_heartbeat(number: int, *, actor: User, now: datetime | None = None) -> bool:
    """Count the current 30-second slot for the actor on a ticket they can see. False when the ticket is not
    theirs to see; a second beat in the same slot is a no-op."""
    ticket = selectors.tickets_visible_to(actor).filter(number=number).only("pk", "sensitivity").first()
    if ticket is None:
        return False
    now = now or timezone.now()
    slot = int(now.timestamp()) // HEARTBEAT_SECONDS
    Heartbeat.objects.bulk_create(
        [Heartbeat(user=actor, ticket=ticket, slot=slot, at=now)],
        ignore_conflicts=True,
    )
    # Time on a sensitive ticket counts towards the associate's exposure (once per slot).
    record_screen_time(actor, ticket, slot=slot, seconds=HEARTBEAT_SECONDS, now=now)
    return True
