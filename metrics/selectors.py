"""Reads for the metric pages and API, with access control. Dashboards read the rollup tables only.

Admins see everyone; team leads the associates of the teams they lead and those teams' queues; an
associate only their own numbers and reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet, Sum

from helpdesk import generations
from metrics.definitions import CSAT_BUCKETS, QA_BUCKETS, SUM_FIELDS, Summary
from metrics.models import Calibration, CsatSurvey, DailyStats, QaAssignment, QueueDay, Review, Scorecard
from tickets import selectors as ticket_selectors
from tickets.models import Queue, Role, Team, Ticket


def is_lead_or_admin(user: User) -> bool:
    return ticket_selectors.is_admin(user) or ticket_selectors.has_role(user, Role.TEAM_LEAD)


def led_team_ids(user: User) -> list[int]:
    cached = getattr(user, "_acolhe_led_teams", None)
    if cached is None:
        cached = list(Team.objects.filter(leads=user).values_list("pk", flat=True))
        setattr(user, "_acolhe_led_teams", cached)  # noqa: B010 (a per-request cache, like Django's _perm_cache)
    return cached


def teams_visible_to(user: User) -> QuerySet[Team]:
    if ticket_selectors.is_admin(user):
        return Team.objects.all()
    if ticket_selectors.has_role(user, Role.TEAM_LEAD):
        return Team.objects.filter(pk__in=led_team_ids(user))
    return Team.objects.none()


def associates_visible_to(user: User) -> QuerySet:
    """The people whose scores the user may read."""
    users = get_user_model().objects.filter(is_active=True)
    if not user.is_authenticated:
        return users.none()
    if ticket_selectors.is_admin(user):
        return users.filter(Q(profile__isnull=False) | Q(groups__name=Role.ASSOCIATE)).distinct()
    if ticket_selectors.has_role(user, Role.TEAM_LEAD):
        return users.filter(Q(profile__team_id__in=led_team_ids(user)) | Q(pk=user.pk)).distinct()
    return users.filter(pk=user.pk)


def can_see_associate(user: User, associate_id: int) -> bool:
    return associates_visible_to(user).filter(pk=associate_id).exists()


def stats_visible_to(user: User) -> QuerySet[DailyStats]:
    if not user.is_authenticated:
        return DailyStats.objects.none()
    if ticket_selectors.is_admin(user):
        return DailyStats.objects.all()
    if ticket_selectors.has_role(user, Role.TEAM_LEAD):
        return DailyStats.objects.filter(Q(team_id__in=led_team_ids(user)) | Q(associate=user))
    return DailyStats.objects.filter(associate=user)


def queue_days_visible_to(user: User) -> QuerySet[QueueDay]:
    if not is_lead_or_admin(user):
        return QueueDay.objects.none()
    if ticket_selectors.is_admin(user):
        return QueueDay.objects.all()
    return QueueDay.objects.filter(queue__in=ticket_selectors.queues_visible_to(user))


@dataclass(frozen=True)
class Filters:
    first: date
    last: date
    queue_id: int | None = None
    language: str = ""
    team_id: int | None = None

    @classmethod
    def last_days(cls, today: date, days: int = 30) -> Filters:
        return cls(first=today - timedelta(days=days - 1), last=today)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _filtered(rows: QuerySet, filters: Filters) -> QuerySet:
    rows = rows.filter(day__gte=filters.first, day__lte=filters.last)
    if filters.queue_id:
        rows = rows.filter(queue_id=filters.queue_id)
    if filters.language:
        rows = rows.filter(language=filters.language)
    if filters.team_id:
        rows = rows.filter(team_id=filters.team_id)
    return rows


SUMS = {name: Sum(name) for name in SUM_FIELDS}


@dataclass
class AssociateRow:
    associate_id: int
    name: str
    summary: Summary


@dataclass
class QueueRow:
    queue_id: int
    name: str
    backlog: int
    unassigned: int
    average_age_hours: float | None
    sla_breaches: int
    summary: Summary


@dataclass
class Dashboard:
    filters: Filters
    totals: Summary
    trend: list[tuple[date, Summary]]
    associates: list[AssociateRow]
    queues: list[QueueRow]

    @property
    def qa_distribution(self) -> list[int]:
        return [getattr(self.totals, name) for name in QA_BUCKETS]

    @property
    def csat_distribution(self) -> list[int]:
        return [getattr(self.totals, name) for name in CSAT_BUCKETS]


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def trend(rows: QuerySet, filters: Filters) -> tuple[Summary, list[tuple[date, Summary]]]:
    """One query: the sums per day, and their total."""
    by_day = {row.pop("day"): row for row in _filtered(rows, filters).values("day").annotate(**SUMS).order_by()}
    totals = {name: sum((row[name] or 0) for row in by_day.values()) for name in SUM_FIELDS}
    return Summary(totals), [(day, Summary(by_day.get(day, {}))) for day in filters.days()]


def associate_rows(user: User, filters: Filters) -> list[AssociateRow]:
    """One query: the scorecard of every associate the user may see, for the filters."""
    rows = (
        _filtered(stats_visible_to(user), filters)
        .exclude(associate=None)
        .values("associate_id", "associate__first_name", "associate__last_name", "associate__username")
        .annotate(**SUMS)
        .order_by()
    )
    result = []
    for row in rows:
        name = _name(row.pop("associate__first_name"), row.pop("associate__last_name"), row.pop("associate__username"))
        result.append(AssociateRow(row.pop("associate_id"), name, Summary(row)))
    return sorted(result, key=lambda r: r.name.lower())


def queue_rows(user: User, filters: Filters) -> list[QueueRow]:
    """Two queries: backlog and breaches from the queue days, resolution numbers from the daily rows."""
    days = _filtered(queue_days_visible_to(user), filters)
    latest: dict[int, date] = {}
    queues: dict[int, dict] = {}
    snapshot_rows = []
    for row in days.values(
        "queue_id", "queue__name", "day", "backlog", "unassigned", "backlog_age_seconds", "sla_breaches", "snapshot_at"
    ):
        entry = queues.setdefault(row["queue_id"], {"name": row["queue__name"], "breaches": 0})
        entry["breaches"] += row["sla_breaches"]
        if row["snapshot_at"] is not None:
            snapshot_rows.append(row)
            latest[row["queue_id"]] = max(latest.get(row["queue_id"], row["day"]), row["day"])
    backlog: dict[int, list[int]] = {}
    for row in snapshot_rows:
        if row["day"] == latest[row["queue_id"]]:
            counts = backlog.setdefault(row["queue_id"], [0, 0, 0])
            counts[0] += row["backlog"]
            counts[1] += row["unassigned"]
            counts[2] += row["backlog_age_seconds"]
    stats = (
        stats_visible_to(user)
        if ticket_selectors.is_admin(user)
        else DailyStats.objects.filter(queue__in=ticket_selectors.queues_visible_to(user))
    )
    sums = {
        row.pop("queue_id"): row
        for row in _filtered(stats, filters).exclude(queue=None).values("queue_id").annotate(**SUMS).order_by()
    }
    if sums.keys() - queues.keys():
        for pk, name in Queue.objects.filter(pk__in=sums.keys() - queues.keys()).values_list("pk", "name"):
            queues[pk] = {"name": name, "breaches": 0}
    result = []
    for pk, entry in queues.items():
        count, unassigned, age = backlog.get(pk, [0, 0, 0])
        result.append(
            QueueRow(
                queue_id=pk,
                name=entry["name"],
                backlog=count,
                unassigned=unassigned,
                average_age_hours=round(age / count / 3600, 1) if count else None,
                sla_breaches=entry["breaches"],
                summary=Summary(sums.get(pk, {})),
            )
        )
    return sorted(result, key=lambda r: r.name.lower())


# The dashboard reads the rollup tables, which change only when a rollup runs (every 5 minutes), and the names
# of associates and queues. So each dashboard is kept in the rollups' generation (`helpdesk.generations`), per
# reader and filters: a rollup replaces it (`services.rollup.rollup_days`), and so does a saved or deleted
# account or queue (`rollups_changed`, connected in `MetricsConfig.ready`). Who may see which rows (admin,
# lead, led teams, visible queues) is part of the key, so a change of roles or teams reads afresh.
ROLLUPS = "metrics-rollups"
ROLLUPS_SECONDS = 600


def dashboard(user: User, filters: Filters, *, shape: str | None = None) -> Dashboard:
    """The team lead dashboard: a handful of queries over the rollup tables, kept until they change.
    `shape`: `dashboard_shape(user, filters)`, when the caller has it already."""
    if shape is None:
        shape = dashboard_shape(user, filters)
    return generations.kept(ROLLUPS, shape, lambda: _read_dashboard(user, filters), ROLLUPS_SECONDS)


def dashboard_shape(user: User, filters: Filters) -> str:
    """What a kept dashboard depends on besides the rollups' generation: who reads it (admin, lead, led
    teams, visible queues) and the filters. Also the key of what is kept made from it (the tables' HTML)."""
    admin = ticket_selectors.is_admin(user)
    lead = ticket_selectors.has_role(user, Role.TEAM_LEAD)
    reader = (user.pk, admin, lead, sorted(led_team_ids(user)) if lead and not admin else [])
    queues = None if admin else ticket_selectors.visible_queue_ids(user)
    return repr((reader, queues, filters))


def _read_dashboard(user: User, filters: Filters) -> Dashboard:
    totals, days = trend(stats_visible_to(user), filters)
    return Dashboard(filters, totals, days, associate_rows(user, filters), queue_rows(user, filters))


# Receiver for saved and deleted accounts and queues: their names are in the kept dashboards (a sign-in is not).
rollups_changed = generations.replacer(ROLLUPS, unless_only=generations.SIGN_IN_FIELDS)


def associate_trend(user: User, associate_id: int, filters: Filters):
    return trend(stats_visible_to(user).filter(associate_id=associate_id), filters)


# QA and CSAT records ---------------------------------------------------------------------------------


def reviews_visible_to(user: User) -> QuerySet[Review]:
    """Admins every review; leads the reviews of their teams' associates and their own; associates the
    reviews about them (calibration reviews stay with the reviewers). A review of a restricted ticket (its
    comments speak of the content) only for those who may read the ticket."""
    reviews = Review.objects.select_related("ticket", "associate", "reviewer", "scorecard")
    if not user.is_authenticated:
        return reviews.none()
    reviews = reviews.filter(ticket_selectors.about_readable_ticket(user))
    if ticket_selectors.is_admin(user):
        return reviews
    if ticket_selectors.has_role(user, Role.TEAM_LEAD):
        return reviews.filter(
            Q(associate__profile__team_id__in=led_team_ids(user))
            | Q(reviewer=user)
            | Q(associate=user, calibration__isnull=True)
        )
    return reviews.filter(Q(associate=user, calibration__isnull=True) | Q(reviewer=user))


def _unwritten(user: User) -> QuerySet[QaAssignment]:
    return QaAssignment.objects.filter(reviewer=user, review__isnull=True)


def assignments_for(user: User) -> QuerySet[QaAssignment]:
    """The reviews the user still has to write (of tickets the user may still read)."""
    return (
        _unwritten(user)
        .filter(ticket_selectors.about_readable_ticket(user))
        .select_related("ticket", "associate", "calibration")
        .order_by("week", "id")
    )


def calibrations_visible_to(user: User) -> QuerySet[Calibration]:
    calibrations = Calibration.objects.filter(ticket_selectors.about_readable_ticket(user))
    if ticket_selectors.is_admin(user):
        return calibrations
    if ticket_selectors.has_role(user, Role.TEAM_LEAD):
        return calibrations.filter(
            Q(created_by=user) | Q(assignments__reviewer=user) | Q(associate__profile__team_id__in=led_team_ids(user))
        ).distinct()
    return calibrations.filter(assignments__reviewer=user).distinct()


def calibration_reviewers(ticket: Ticket, associate: User) -> QuerySet:
    """Who may be asked to score a ticket in a calibration: the leads of the team that owns the ticket's queue
    (and admins), never the associate, and only those who may read the ticket."""
    candidates = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=Role.TEAM_LEAD, led_teams__queues=ticket.queue_id) | Q(groups__name=Role.ADMIN))
        .exclude(pk=associate.pk)
        .distinct()
        .order_by("username")
    )
    readers = [user.pk for user in candidates if ticket_selectors.can_open(user, ticket)]
    return candidates.filter(pk__in=readers)


@dataclass
class CriterionSpread:
    name: str
    ratings: list[int | None]
    spread: int | None


def calibration_spread(calibration: Calibration) -> tuple[list[Review], list[CriterionSpread], float | None]:
    """The calibration's reviews, each criterion's ratings side by side with their spread (max - min), and
    the spread of the total scores."""
    reviews = list(
        calibration.reviews.select_related("reviewer").prefetch_related("answers").order_by("reviewer__username")
    )
    ratings = {review.pk: {a.criterion_id: a.rating for a in review.answers.all()} for review in reviews}
    spreads = []
    for criterion in calibration.scorecard.criteria.all():
        values = [ratings[r.pk].get(criterion.pk) for r in reviews]
        present = [v for v in values if v is not None]
        spreads.append(
            CriterionSpread(criterion.display_name, values, max(present) - min(present) if len(present) > 1 else None)
        )
    scores = [r.score for r in reviews]
    total_spread = round(max(scores) - min(scores), 2) if len(scores) > 1 else None
    return reviews, spreads, total_spread


def active_scorecards() -> QuerySet[Scorecard]:
    return Scorecard.objects.filter(is_active=True).prefetch_related("criteria")


def csat_visible_to(user: User) -> QuerySet[CsatSurvey]:
    surveys = CsatSurvey.objects.select_related("ticket", "associate")
    if not user.is_authenticated:
        return surveys.none()
    surveys = surveys.filter(ticket_selectors.about_readable_ticket(user))
    if ticket_selectors.is_admin(user):
        return surveys
    if ticket_selectors.has_role(user, Role.TEAM_LEAD):
        return surveys.filter(Q(associate__profile__team_id__in=led_team_ids(user)) | Q(associate=user))
    return surveys.filter(associate=user)


def navigation_links(user: User) -> dict[str, Any]:
    """The metrics links in every page's navigation (registered in `MetricsConfig.ready`)."""
    lead = is_lead_or_admin(user)
    return {
        "dashboard": lead,
        "qa": lead,
        "pending": ticket_selectors.count_about_readable(_unwritten(user), user) if lead else 0,
        "my_scores": not lead and ticket_selectors.has_role(user, Role.ASSOCIATE),
    }
