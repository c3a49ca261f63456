"""Next ticket: the most urgent unassigned ticket an associate may take, claimed in one transaction."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Least
from django.utils import timezone

from tickets import db, services, sla
from tickets.models import Queue, Ticket
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


def _held_skills(skills) -> tuple[str, ...]:
    return tuple(f"{SKILL_TAG_PREFIX}{skill.lower()}" for skill in skills)


def _eligible(
    user_id: int,
    languages: tuple[str, ...],
    held: tuple[str, ...],
    specialist: bool,
    over_budget: bool,
    rest: bool,
    skipped: tuple[str, ...] = (),
) -> QuerySet[Ticket]:
    """Unassigned new or open tickets in the associate's own queues, in a language they answer and needing no
    skill they lack, within their wellbeing budget (see `wellbeing.routable_by`), most urgent first: the
    earliest SLA due time, then priority, then age."""
    # Everything the rules depend on is an argument, so one compiled query serves every press alike.
    queryset = Ticket.objects.filter(
        queue__in=Queue.members.through.objects.filter(user_id=user_id).values("queue_id"),
        assignee__isnull=True,
        status__in=WORKABLE_STATUSES,
    )
    if languages:
        queryset = queryset.filter(language__in=languages)
    queryset = db.lacking_no_skill(queryset, SKILL_TAG_PREFIX, held)
    queryset = wellbeing.routable_by(
        queryset, specialist=specialist, over_budget=over_budget, rest=rest, skipped=skipped
    )
    return wellbeing.rest_first(queryset, (*URGENCY, "id"))


@lru_cache(maxsize=1024)
def _claim_sql(
    user_id: int,
    languages: tuple[str, ...],
    held: tuple[str, ...],
    specialist: bool,
    over_budget: bool,
    rest: bool,
    skipped: tuple[str, ...] = (),
) -> tuple[str, tuple]:
    """The claim statement for one combination of facts about the associate. Building and compiling the
    eligible query costs more than running it, so it is done once per combination and process."""
    eligible = (
        _eligible(user_id, languages, held, specialist, over_budget, rest, skipped)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", "status")[:1]
    )
    return db.claim_sql(eligible)


def _profile_facts(user_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The languages the associate answers in and the skill tags they hold (none without a profile)."""
    row = db.profile_facts(user_id)
    if row is None:
        return (), ()
    return tuple(row[0] or ()), _held_skills(row[1] or ())


def assign_next(user: User) -> Ticket | None:
    """Claim the most urgent eligible ticket for the user, or None when there is none. Rows another
    associate is claiming at this moment are skipped, never waited for: two associates never get the same
    ticket."""
    if not user.is_authenticated or not user.is_active:
        return None
    with transaction.atomic():
        # The budget row is locked first: one associate's concurrent presses count their exposure in turn.
        budget = budget_for(user, lock=True)
        if budget.intake_paused_at is not None:
            return None
        exposure = wellbeing.exposure(user, budget)
        languages, held = _profile_facts(user.pk)
        sql, params = _claim_sql(
            user.pk,
            languages,
            held,
            wellbeing.is_specialist(user),
            exposure.over_budget,
            bool(exposure.streak),
            exposure.skipped,
        )
        claimed = db.claim(sql, params, assignee_id=user.pk, now=timezone.now())
        if claimed is None:
            return None
        old_status, stored_check, ticket = claimed
        ticket.assignee = user
        changes: list[tuple[str, Any, Any]] = [("assignee", None, user)]
        if old_status != ticket.status:
            changes.append(("status", old_status, ticket.status))
            _on_opened(ticket, old_status, stored_check)
        services.record_changes(ticket, changes, actor=user)
        record_intake(user, ticket)
        return ticket


def _on_opened(ticket: Ticket, old_status: str, stored_check: datetime | None) -> None:
    # New and open both run every SLA clock, so opening changes nothing unless the resolution clock was
    # paused or the stored next check is not the one the clocks give; only then is there anything to write.
    if ticket.resolution_paused_at is not None or sla.next_check_at(ticket) != stored_check:
        sla.on_status_change(ticket, old_status, ticket.status)
