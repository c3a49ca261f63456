"""Reads for associate wellbeing: an associate's exposure this shift, what routing may give them, the
ticket page's warning, and the team's exposure and the scanner's precision for leads (in aggregate only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from tickets import db, selectors
from tickets.models import (
    ExposureBudget,
    ExposureEntry,
    FlagClearance,
    Message,
    Role,
    TeamWellbeingPolicy,
    Ticket,
)
from tickets.wellbeing.detection import CATEGORIES, Category

# The self-harm and child-safety procedures and the crisis macro the ticket page puts first (see
# sop/demo_content.py).
CRISIS_SOP_SLUG = "self-harm-risk"
CHILD_SAFETY_SOP_SLUG = "child-safety"
CRISIS_MACRO_QUERY = "risco"
TEXT_ONLY_SESSION_KEY = "wellbeing_text_only"


def is_specialist(user: User) -> bool:
    """May read (and be routed, and clear) child-safety content: the specialist group, admins included only
    when they are in it (docs/wellbeing.md)."""
    return selectors.has_role(user, Role.SPECIALIST)


def child_safety_q() -> Q:
    return Q(sensitivity__contains=[Category.CHILD_SAFETY])


def shift_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.ACOLHE_SHIFT_HOURS)


@dataclass
class Limits:
    """What an associate may take in a shift: their own setting, else their team's policy, else the default."""

    tickets: int
    minutes: int
    break_every_minutes: int
    break_after: int
    support_resources: str = ""


def limits_for(
    user: User, budget: ExposureBudget, policy: TeamWellbeingPolicy | None | Literal[False] = False
) -> Limits:
    """`policy` False: look the team's policy up; None: the associate's team has none."""
    if policy is False:
        policy = TeamWellbeingPolicy.objects.filter(team__members__user_id=user.pk).first()

    def pick(own, team_value, default):
        if own is not None:
            return own
        return team_value if team_value is not None else default

    return Limits(
        tickets=pick(budget.per_shift, policy and policy.tickets_per_shift, settings.ACOLHE_EXPOSURE_BUDGET),
        minutes=pick(budget.minutes_per_shift, policy and policy.minutes_per_shift, settings.ACOLHE_EXPOSURE_MINUTES),
        break_every_minutes=pick(None, policy and policy.break_every_minutes, settings.ACOLHE_BREAK_EVERY_MINUTES),
        break_after=pick(budget.break_after, None, settings.ACOLHE_BREAK_AFTER),
        support_resources=policy.support_resources if policy else "",
    )


@dataclass
class Exposure:
    taken: int
    budget: int
    streak: int
    break_after: int
    paused: bool
    seconds: int = 0
    minutes_budget: int = 0
    break_every_minutes: int = 0
    seconds_since_break: int = 0
    skipped: tuple[str, ...] = ()
    support_resources: str = ""

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def over_tickets(self) -> bool:
        return self.taken >= self.budget

    @property
    def over_minutes(self) -> bool:
        return self.minutes_budget > 0 and self.seconds >= self.minutes_budget * 60

    @property
    def over_budget(self) -> bool:
        """Either limit reached: Next ticket gives plain tickets only."""
        return self.over_tickets or self.over_minutes

    @property
    def break_due(self) -> bool:
        """An hour (or the team's interval) of exposure since the last break."""
        return self.break_every_minutes > 0 and self.seconds_since_break >= self.break_every_minutes * 60

    @property
    def suggest_break(self) -> bool:
        return (self.break_after > 0 and self.streak >= self.break_after) or self.break_due

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.taken)


def exposure(user: User, budget: ExposureBudget | None = None, now: datetime | None = None) -> Exposure:
    """Sensitive tickets the associate took or opened this shift and the time they had them on screen,
    against their limits, and how many of their latest tickets in a row were sensitive."""
    if budget is None:
        budget = ExposureBudget.objects.filter(user=user).first() or ExposureBudget(user=user)
    now = now or timezone.now()
    break_after = budget.break_after if budget.break_after is not None else settings.ACOLHE_BREAK_AFTER
    taken, seconds, latest, policy = db.shift_entries(user.pk, shift_start(now), break_after)
    limits = limits_for(user, budget, policy)
    streak = 0
    for sensitive in latest:
        if not sensitive:
            break
        streak += 1
    # A break taken in an earlier shift does not count: the shift's seconds restarted below it.
    since_break = seconds - budget.seconds_at_last_break if budget.seconds_at_last_break <= seconds else seconds
    skipping = budget.skip_until is not None and budget.skip_until > now
    return Exposure(
        taken=taken,
        budget=limits.tickets,
        streak=streak,
        break_after=limits.break_after,
        paused=budget.intake_paused_at is not None,
        seconds=seconds,
        minutes_budget=limits.minutes,
        break_every_minutes=limits.break_every_minutes,
        seconds_since_break=since_break,
        skipped=tuple(sorted(budget.skipped_categories)) if skipping else (),
        support_resources=limits.support_resources,
    )


def routable(queryset: QuerySet[Ticket], user: User, status: Exposure) -> QuerySet[Ticket]:
    """Narrow and order next-ticket candidates for the associate's wellbeing: child safety only for
    specialists; no sensitive ticket once a limit of the shift (tickets or minutes) is reached; none of the
    categories they asked to skip this shift; and right after a sensitive ticket, a plain one first (urgent
    tickets keep their place), so sensitive work spreads across the team."""
    return routable_by(
        queryset,
        specialist=is_specialist(user),
        over_budget=status.over_budget,
        rest=bool(status.streak),
        skipped=status.skipped,
    )


def routable_by(
    queryset: QuerySet[Ticket], *, specialist: bool, over_budget: bool, rest: bool, skipped: tuple[str, ...] = ()
) -> QuerySet[Ticket]:
    """Narrow and order next-ticket candidates for the associate's wellbeing: child safety only for
    specialists; no sensitive ticket once a limit of the shift (tickets or minutes) is reached; none of the
    categories they asked to skip this shift; and right after a sensitive ticket, a plain one first (urgent
    tickets keep their place), so sensitive work spreads across the team. Takes plain facts about the
    associate (no query), so that routing builds the same query once for each combination of them."""
    if not specialist:
        queryset = queryset.exclude(child_safety_q())
    if over_budget:
        return queryset.filter(sensitivity=[])
    if skipped:
        queryset = queryset.exclude(sensitivity__overlap=list(skipped))
    if rest:
        return queryset.annotate(
            _wellbeing_rest=Case(
                When(Q(sensitivity=[]) | Q(priority=Ticket.Priority.URGENT), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
    return queryset


def rest_first(queryset: QuerySet[Ticket], ordering) -> QuerySet[Ticket]:
    if "_wellbeing_rest" in queryset.query.annotations:
        return queryset.order_by("_wellbeing_rest", *ordering)
    return queryset.order_by(*ordering)


# --- the ticket page -------------------------------------------------------------------------------------


@dataclass
class TicketWarning:
    categories: list[tuple[str, str]]
    self_harm: bool
    child_safety: bool
    legal_hold: bool
    crisis_macro_query: str
    can_clear: list[tuple[str, str]] = field(default_factory=list)


def ticket_warning(ticket: Ticket, user: User) -> TicketWarning | None:
    """The content warning for a flagged ticket, from the ticket row alone (no query)."""
    if not ticket.sensitivity and not ticket.legal_hold:
        return None
    categories = [(c, str(CATEGORIES[c])) for c in ticket.sensitivity if c in CATEGORIES]
    specialist = is_specialist(user)
    return TicketWarning(
        categories=categories,
        self_harm=Category.SELF_HARM in ticket.sensitivity,
        child_safety=Category.CHILD_SAFETY in ticket.sensitivity,
        legal_hold=ticket.legal_hold,
        crisis_macro_query=CRISIS_MACRO_QUERY,
        can_clear=[(c, label) for c, label in categories if c != Category.CHILD_SAFETY or specialist],
    )


def crisis_sop_first(sop_panel: dict, ticket: Ticket) -> dict:
    """On a child-safety or self-harm ticket that procedure leads the SOP panel (child safety first when
    both apply; reorders what is loaded)."""
    leading = [
        slug
        for category, slug in ((Category.CHILD_SAFETY, CHILD_SAFETY_SOP_SLUG), (Category.SELF_HARM, CRISIS_SOP_SLUG))
        if category in ticket.sensitivity
    ]
    if leading and sop_panel.get("sops"):
        rank = {slug: index for index, slug in enumerate(leading)}
        sop_panel["sops"] = sorted(sop_panel["sops"], key=lambda entry: rank.get(entry.sop.slug, len(rank)))
    return sop_panel


def text_only(session) -> bool:
    return bool(session.get(TEXT_ONLY_SESSION_KEY))


# --- leads, in aggregate -----------------------------------------------------------------------------------


def can_see_team_exposure(user: User) -> bool:
    return selectors.is_admin(user) or selectors.has_role(user, Role.TEAM_LEAD)


def leads_of(user: User) -> list[User]:
    """The leads of the associate's team, else the team leads of the queues they work in."""
    users = get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
    leads = list(users.filter(led_teams__members__user_id=user.pk).distinct())
    if leads:
        return leads
    return list(users.filter(groups__name=Role.TEAM_LEAD, support_queues__members=user).distinct().order_by("username"))


@dataclass
class CheckIn:
    """The gentle check-in on the ticket page: why it shows, and the support the team offers."""

    reason: str  # "limit", "break" or "ticket"
    support_resources: str
    leads: list[str]
    skippable: list[tuple[str, str]]


def check_in(user: User, ticket: Ticket, status: Exposure) -> CheckIn | None:
    """Shown when the associate reached a limit of the shift, is due a break, or has a child-safety or
    self-harm ticket open; None otherwise."""
    heavy = {Category.CHILD_SAFETY, Category.SELF_HARM} & set(ticket.sensitivity)
    if status.over_budget:
        reason = "limit"
    elif status.break_due:
        reason = "break"
    elif heavy:
        reason = "ticket"
    else:
        return None
    return CheckIn(
        reason=reason,
        support_resources=status.support_resources,
        leads=[lead.get_full_name() or lead.get_username() for lead in leads_of(user)],
        skippable=[(c, str(CATEGORIES[c])) for c in ticket.sensitivity if c in CATEGORIES and c not in status.skipped],
    )


@dataclass
class TeamExposure:
    associates: int
    sensitive_taken: int
    average: float
    over_budget: int
    near_budget: int
    paused: int
    by_category: list[tuple[str, str, int]]
    minutes: int = 0
    average_minutes: float = 0.0
    # Who reached a limit this shift, by name in alphabetical order (so the lead can step in), never ranked.
    reached_limit: list[str] = field(default_factory=list)


def team_exposure(lead: User, now: datetime | None = None) -> TeamExposure:
    """Exposure this shift of the associates in the lead's queues, as totals and counts, and the names of
    those who reached a limit; nothing is ranked."""
    now = now or timezone.now()
    users = (
        get_user_model().objects.filter(is_active=True, support_queues__in=selectors.queues_visible_to(lead)).distinct()
    )
    entries = ExposureEntry.objects.filter(user__in=users.values("pk"), taken_at__gte=shift_start(now))
    per_user = {
        row["user"]: row
        for row in entries.filter(sensitive=True)
        .values("user")
        .annotate(n=Count("id"), seconds=Sum("seconds"))
        .order_by()
    }
    active = set(entries.values_list("user", flat=True).distinct())
    budgets = {b.user_id: b for b in ExposureBudget.objects.filter(user__in=users.values("pk"))}
    over = near = 0
    reached = []
    people = {u.pk: u for u in get_user_model().objects.filter(pk__in=active)}
    for user_id in active:
        budget = budgets.get(user_id) or ExposureBudget(user_id=user_id)
        limits = limits_for(people[user_id], budget)
        row = per_user.get(user_id, {"n": 0, "seconds": 0})
        taken, seconds = row["n"], row["seconds"] or 0
        if taken >= limits.tickets or (limits.minutes and seconds >= limits.minutes * 60):
            over += 1
            reached.append(people[user_id].get_full_name() or people[user_id].get_username())
        else:
            near += taken >= limits.tickets * 0.75 or seconds >= limits.minutes * 60 * 0.75
    categories: dict[str, int] = {}
    for cats in entries.filter(sensitive=True).values_list("categories", flat=True):
        for category in cats:
            categories[category] = categories.get(category, 0) + 1
    total = sum(row["n"] for row in per_user.values())
    minutes = sum(row["seconds"] or 0 for row in per_user.values()) // 60
    return TeamExposure(
        associates=len(active),
        sensitive_taken=total,
        average=round(total / len(active), 1) if active else 0.0,
        over_budget=over,
        near_budget=near,
        paused=sum(1 for b in budgets.values() if b.intake_paused_at is not None),
        by_category=[(c, str(label), categories.get(c, 0)) for c, label in CATEGORIES.items()],
        minutes=minutes,
        average_minutes=round(minutes / len(active), 1) if active else 0.0,
        reached_limit=sorted(reached, key=str.casefold),
    )


@dataclass
class CategoryPrecision:
    category: str
    label: str
    flagged: int
    cleared: int

    @property
    def precision(self) -> float | None:
        return (self.flagged - self.cleared) / self.flagged if self.flagged else None


def precision_by_category(lead: User, since: datetime | None = None) -> list[CategoryPrecision]:
    """Per category: tickets the scanner flagged and how many of them an associate cleared as false."""
    tickets = selectors.tickets_visible_to(lead)
    since = since or timezone.now() - timedelta(days=30)
    messages = Message.objects.filter(ticket__in=tickets.values("pk"), created_at__gte=since).exclude(sensitivity={})
    rows = []
    for category, label in CATEGORIES.items():
        flagged = messages.filter(sensitivity__categories__contains=[category]).values("ticket_id").distinct().count()
        cleared = (
            FlagClearance.objects.filter(ticket__in=tickets.values("pk"), category=category, cleared_at__gte=since)
            .values("ticket_id")
            .distinct()
            .count()
        )
        rows.append(CategoryPrecision(category=category, label=str(label), flagged=flagged, cleared=cleared))
    return rows
