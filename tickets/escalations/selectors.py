"""Reads of escalations, with visibility applied: an escalation is seen by whoever may see its ticket."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from tickets import selectors
from tickets.models import Escalation


def escalations_visible_to(user: User) -> QuerySet[Escalation]:
    return Escalation.objects.filter(ticket__in=selectors.tickets_visible_to(user))


def open_escalations_for_specialist(user: User) -> QuerySet[Escalation]:
    """Open escalations to the cross-functional queues the user belongs to (for admins, all of those whose
    ticket they may read: a child-safety escalation's reason is not shown outside Trust & Safety)."""
    scope = Q(status=Escalation.Status.OPEN)
    if selectors.is_admin(user):
        scope &= Q(target_queue__members=user) | Q(ticket__in=selectors.tickets_visible_to(user).values("pk"))
    else:
        scope &= Q(target_queue__members=user)
    return (
        Escalation.objects.filter(scope)
        .select_related("ticket", "target_queue", "from_queue", "requested_by", "claimed_by")
        .order_by("due_at", "created_at")
    )


def escalation_counts(user: User) -> dict[str, int]:
    """Open escalations to the user's teams: all, not taken by anyone, taken by the user."""
    rows = open_escalations_for_specialist(user)
    return {
        "open": rows.count(),
        "unclaimed": rows.filter(claimed_by=None).count(),
        "mine": rows.filter(claimed_by=user).count(),
    }


def can_hand_back(user: User, escalation: Escalation) -> bool:
    if not user.is_authenticated or not escalation.is_open:
        return False
    return may_hand_back(user, escalation)


def may_hand_back(user: User, escalation: Escalation) -> bool:
    """The user answers for the escalation's specialist team, open or not (`can_hand_back` adds that it is open)."""
    # An admin outside the specialist team answers only for tickets they may read (not child-safety content).
    if selectors.is_member_of(user, escalation.target_queue_id):
        return True
    return selectors.is_admin(user) and selectors.can_open(user, escalation.ticket)
