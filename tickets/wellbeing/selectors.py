"""Reads for associate wellbeing: an associate's exposure this shift, what routing may give them, the
ticket page's warning, and the team's exposure and the scanner's precision for leads (in aggregate only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from tickets import selectors
from tickets.models import ExposureBudget, ExposureEntry, FlagClearance, Message, Role, Ticket
from tickets.wellbeing.detection import CATEGORIES, Category

# The self-harm procedure and the crisis macro the ticket page puts first (see sop/demo_content.py).
CRISIS_SOP_SLUG = "self-harm-risk"
CRISIS_MACRO_QUERY = "risco"
TEXT_ONLY_SESSION_KEY = "wellbeing_text_only"


def is_specialist(user: AbstractBaseUser) -> bool:
    """May read (and be routed, and clear) child-safety content: the specialist group, admins included only
    when they are in it (docs/wellbeing.md)."""
    return selectors.has_role(user, Role.SPECIALIST)


def child_safety_q() -> Q:
    return Q(sensitivity__contains=[Category.CHILD_SAFETY])


def shift_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.ACOLHE_SHIFT_HOURS)


@dataclass
class Exposure:
    taken: int
    budget: int
    streak: int
    break_after: int
    paused: bool

    @property
    def over_budget(self) -> bool:
        return self.taken >= self.budget

    @property
    def suggest_break(self) -> bool:
        return self.break_after > 0 and self.streak >= self.break_after

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.taken)


def exposure(user: AbstractBaseUser, budget: ExposureBudget | None = None, now: datetime | None = None) -> Exposure:
    """Sensitive tickets the associate took with Next ticket this shift, against their budget, and how many
    of their latest tickets in a row were sensitive."""
    if budget is None:
        budget = ExposureBudget.objects.filter(user=user).first() or ExposureBudget(user=user)
    per_shift = budget.per_shift if budget.per_shift is not None else settings.ACOLHE_EXPOSURE_BUDGET
    break_after = budget.break_after if budget.break_after is not None else settings.ACOLHE_BREAK_AFTER
    taken, latest = _shift_entries(user.pk, shift_start(now), break_after)
    streak = 0
    for sensitive in latest:
        if not sensitive:
            break
        streak += 1
    return Exposure(
        taken=taken,
        budget=per_shift,
        streak=streak,
        break_after=break_after,
        paused=budget.intake_paused_at is not None,
    )


def _shift_entries(user_id: int, since: datetime, latest: int) -> tuple[int, list[bool]]:
    """The sensitive count of the shift and whether each of the `latest` entries was sensitive, newest
    first, in one round trip: routing reads these on every press of Next ticket, with the budget row
    locked, so the read must be short."""
    table = ExposureEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE sensitive), "
            f"ARRAY(SELECT e.sensitive FROM {table} e WHERE e.user_id = %s AND e.taken_at >= %s "
            f"ORDER BY e.taken_at DESC, e.id DESC LIMIT %s) "
            f"FROM {table} WHERE user_id = %s AND taken_at >= %s",
            [user_id, since, latest, user_id, since],
        )
        taken, sensitive = cursor.fetchone()
    return taken, sensitive


def routable(queryset: QuerySet[Ticket], user: AbstractBaseUser, status: Exposure) -> QuerySet[Ticket]:
    """Narrow and order next-ticket candidates for the associate's wellbeing: child safety only for
    specialists; no sensitive ticket once the shift's budget is spent; and right after a sensitive ticket,
    a plain one first (urgent tickets keep their place), so sensitive work spreads across the team."""
    return routable_by(
        queryset, specialist=is_specialist(user), over_budget=status.over_budget, rest=bool(status.streak)
    )


def routable_by(queryset: QuerySet[Ticket], *, specialist: bool, over_budget: bool, rest: bool) -> QuerySet[Ticket]:
    """`routable` from plain facts about the associate (no query), so that routing can build the same
    query once for each combination of them."""
    if not specialist:
        queryset = queryset.exclude(child_safety_q())
    if over_budget:
        return queryset.filter(sensitivity=[])
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


def ticket_warning(ticket: Ticket, user: AbstractBaseUser) -> TicketWarning | None:
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
    """On a self-harm ticket the crisis procedure leads the SOP panel (reorders what is loaded)."""
    if Category.SELF_HARM in ticket.sensitivity and sop_panel.get("sops"):
        sop_panel["sops"] = sorted(sop_panel["sops"], key=lambda entry: entry.sop.slug != CRISIS_SOP_SLUG)
    return sop_panel


def text_only(session) -> bool:
    return bool(session.get(TEXT_ONLY_SESSION_KEY))


# --- leads, in aggregate -----------------------------------------------------------------------------------


def can_see_team_exposure(user: AbstractBaseUser) -> bool:
    return selectors.is_admin(user) or selectors.has_role(user, Role.TEAM_LEAD)


@dataclass
class TeamExposure:
    associates: int
    sensitive_taken: int
    average: float
    over_budget: int
    near_budget: int
    paused: int
    by_category: list[tuple[str, str, int]]


def team_exposure(lead: AbstractBaseUser, now: datetime | None = None) -> TeamExposure:
    """Exposure this shift of the associates in the lead's queues, as totals and counts, never names."""
    users = (
        get_user_model().objects.filter(is_active=True, support_queues__in=selectors.queues_visible_to(lead)).distinct()
    )
    entries = ExposureEntry.objects.filter(user__in=users.values("pk"), taken_at__gte=shift_start(now))
    per_user = dict(
        entries.filter(sensitive=True).values("user").annotate(n=Count("id")).values_list("user", "n").order_by()
    )
    active = set(entries.values_list("user", flat=True).distinct())
    budgets = {b.user_id: b for b in ExposureBudget.objects.filter(user__in=users.values("pk"))}
    over = near = 0
    for user_id in active:
        budget = budgets.get(user_id)
        limit = budget.per_shift if budget and budget.per_shift is not None else settings.ACOLHE_EXPOSURE_BUDGET
        taken = per_user.get(user_id, 0)
        over += taken >= limit
        near += limit > taken >= limit * 0.75
    categories: dict[str, int] = {}
    for cats in entries.filter(sensitive=True).values_list("categories", flat=True):
        for category in cats:
            categories[category] = categories.get(category, 0) + 1
    total = sum(per_user.values())
    return TeamExposure(
        associates=len(active),
        sensitive_taken=total,
        average=round(total / len(active), 1) if active else 0.0,
        over_budget=over,
        near_budget=near,
        paused=sum(1 for b in budgets.values() if b.intake_paused_at is not None),
        by_category=[(c, str(label), categories.get(c, 0)) for c, label in CATEGORIES.items()],
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


def precision_by_category(lead: AbstractBaseUser, since: datetime | None = None) -> list[CategoryPrecision]:
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
