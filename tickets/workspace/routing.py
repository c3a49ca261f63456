"""Next ticket: the most urgent unassigned ticket an associate may take, claimed in one transaction."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Least

from tickets import services
from tickets.models import Profile, Ticket
from tickets.wellbeing import selectors as wellbeing
from tickets.wellbeing.services import budget_for, record_intake

# Tickets tagged `skill:<name>` go only to associates who list <name> among their skills.
SKILL_TAG_PREFIX = "skill:"
WORKABLE_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)
URGENCY = (
    Least("first_response_due_at", "next_response_due_at", "resolution_due_at").asc(nulls_last=True),
    F("priority").desc(),
    F("created_at").asc(),
)


def next_eligible(user: AbstractBaseUser, exposure: wellbeing.Exposure | None = None) -> QuerySet[Ticket]:
    """Unassigned new or open tickets in the user's own queues, in a language they answer and needing no
    skill they lack, within their wellbeing budget (see `wellbeing.routable`), most urgent first: the
    earliest SLA due time, then priority, then age."""
    if not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    profile = Profile.objects.filter(user=user).first()
    queryset = Ticket.objects.filter(
        queue__in=user.support_queues.values("pk"), assignee__isnull=True, status__in=WORKABLE_STATUSES
    )
    if profile is not None and profile.languages:
        queryset = queryset.filter(language__in=profile.languages)
    held = [f"{SKILL_TAG_PREFIX}{skill.lower()}" for skill in (profile.skills if profile else [])]
    queryset = queryset.extra(
        where=[
            "NOT EXISTS (SELECT 1 FROM unnest(tickets_ticket.tags) AS t(tag) "
            "WHERE t.tag LIKE %s AND NOT (t.tag = ANY(%s::varchar[])))"
        ],
        params=[SKILL_TAG_PREFIX + "%", held],
    )
    queryset = wellbeing.routable(queryset, user, exposure or wellbeing.exposure(user))
    return wellbeing.rest_first(queryset, (*URGENCY, "id"))


def assign_next(user: AbstractBaseUser) -> Ticket | None:
    """Claim the most urgent eligible ticket for the user, or None when there is none. Rows another
    associate is claiming at this moment are skipped, never waited for: two associates never get the same
    ticket."""
    with transaction.atomic():
        # The budget row is locked first: one associate's concurrent presses count their exposure in turn.
        exposure = wellbeing.exposure(user, budget_for(user, lock=True))
        if exposure.paused:
            return None
        ticket = (
            next_eligible(user, exposure)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("queue", "requester")
            .first()
        )
        if ticket is None:
            return None
        services.update_ticket(ticket, actor=user, assignee=user)
        if ticket.status == Ticket.Status.NEW:
            services.update_ticket(ticket, actor=user, status=Ticket.Status.OPEN)
        record_intake(user, ticket)
        return ticket
