"""QA: reviews against weighted scorecards, weekly sampling of tickets to review, calibration."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metrics import definitions
from metrics.models import Calibration, QaAssignment, Review, ReviewAnswer, Scorecard
from metrics.selectors import calibration_reviewers
from tickets import selectors
from tickets.models import Role, Team, Ticket


def can_review(reviewer: User, associate: User) -> bool:
    """Admins review anyone; team leads review the members of the teams they lead (never themselves)."""
    if not reviewer.is_authenticated or reviewer.pk == associate.pk:
        return False
    if selectors.is_admin(reviewer):
        return True
    return (
        selectors.has_role(reviewer, Role.TEAM_LEAD)
        and Team.objects.filter(leads=reviewer, members__user=associate).exists()
    )


def _schedule_rollup(moment: datetime) -> None:
    from metrics.services.rollup import local_today
    from metrics.tasks import rollup_day

    day = local_today(moment).isoformat()
    transaction.on_commit(lambda: rollup_day.delay(day))


@transaction.atomic
def submit_review(
    *,
    actor: User,
    ticket: Ticket,
    associate: User,
    scorecard: Scorecard,
    ratings: Mapping[int, tuple[int, str]],
    comment: str = "",
    calibration: Calibration | None = None,
) -> Review:
    """Write (or rewrite) the actor's review of a ticket for an associate: a 1-5 rating and a comment per
    criterion of the scorecard, scored 0-100 by weight. Any assignment it answers is marked done."""
    assigned = QaAssignment.objects.filter(
        ticket=ticket, reviewer=actor, associate=associate, calibration=calibration
    ).first()
    if assigned is None and not can_review(actor, associate):
        raise PermissionDenied(_("You cannot review this associate."))
    if calibration is not None and assigned is None:
        raise PermissionDenied(_("You are not part of this calibration."))
    criteria = list(scorecard.criteria.all())
    if not criteria:
        raise ValidationError(_("This scorecard has no criteria."))
    answers = []
    for criterion in criteria:
        rating, note = ratings.get(criterion.pk, (None, ""))
        if rating not in (1, 2, 3, 4, 5):
            raise ValidationError(_("Rate every criterion from 1 to 5."))
        answers.append((criterion, rating, (note or "").strip()))
    score = definitions.review_score((criterion.weight, rating) for criterion, rating, _note in answers)
    review, _created = Review.objects.update_or_create(
        ticket=ticket,
        associate=associate,
        reviewer=actor,
        calibration=calibration,
        defaults={"scorecard": scorecard, "score": score, "comment": (comment or "").strip()},
    )
    review.answers.all().delete()
    ReviewAnswer.objects.bulk_create(
        ReviewAnswer(review=review, criterion=criterion, rating=rating, comment=note)
        for criterion, rating, note in answers
    )
    if assigned is not None and assigned.review_id != review.pk:
        assigned.review = review
        assigned.save(update_fields=["review"])
    if calibration is None:
        _schedule_rollup(review.created_at)
    return review


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _reviewers_for(associate: User, admins: Sequence[User]) -> list[User]:
    leads = list(
        get_user_model()
        .objects.filter(is_active=True, led_teams__members__user=associate)
        .exclude(pk=associate.pk)
        .distinct()
        .order_by("pk")
    )
    return leads or [admin for admin in admins if admin.pk != associate.pk]


@transaction.atomic
def sample_week(week: date, per_associate: int = 3, *, seed: int | None = None) -> list[QaAssignment]:
    """Assign up to `per_associate` random tickets each associate solved in the week starting `week` to
    their team leads (admins when they have none), spreading the work. Running it again for the same
    week adds nothing for associates already sampled."""
    week = week_start(week)
    from metrics.services.rollup import reporting_tz

    tz = reporting_tz()
    start = datetime.combine(week, time.min, tz)
    end = start + timedelta(days=7)
    rng = random.Random(seed)
    already = set(
        QaAssignment.objects.filter(week=week, calibration__isnull=True).values_list("associate_id", flat=True)
    )
    reviewed = set(Review.objects.filter(calibration__isnull=True).values_list("ticket_id", "associate_id"))
    solved = (
        Ticket.objects.filter(solved_at__gte=start, solved_at__lt=end, assignee__isnull=False)
        .exclude(assignee_id__in=already)
        .values_list("pk", "assignee_id")
    )
    by_associate: dict[int, list[int]] = {}
    for ticket_id, associate_id in solved:
        if (ticket_id, associate_id) not in reviewed:
            by_associate.setdefault(associate_id, []).append(ticket_id)
    # A restricted ticket goes only to a reviewer who may read it; with no such reviewer it is not sampled.
    sampled = [ticket_id for ticket_ids in by_associate.values() for ticket_id in ticket_ids]
    restricted = Ticket.objects.filter(selectors.restricted(), pk__in=sampled).in_bulk()
    users = get_user_model().objects.in_bulk(by_associate)
    admins = list(
        get_user_model().objects.filter(is_active=True, groups__name=Role.ADMIN).distinct().order_by("pk")
    ) or list(get_user_model().objects.filter(is_active=True, is_superuser=True).order_by("pk"))
    load: dict[int, int] = {}
    created = []
    for associate_id in sorted(by_associate):
        associate = users[associate_id]
        reviewers = _reviewers_for(associate, admins)
        if not reviewers:
            continue
        tickets = sorted(by_associate[associate_id])
        eligible = {
            ticket_id: [r for r in reviewers if selectors.can_open(r, restricted[ticket_id])]
            if ticket_id in restricted
            else reviewers
            for ticket_id in tickets
        }
        tickets = [ticket_id for ticket_id in tickets if eligible[ticket_id]]
        for ticket_id in rng.sample(tickets, min(per_associate, len(tickets))):
            reviewer = min(eligible[ticket_id], key=lambda r: (load.get(r.pk, 0), r.pk))
            load[reviewer.pk] = load.get(reviewer.pk, 0) + 1
            created.append(QaAssignment(week=week, ticket_id=ticket_id, associate=associate, reviewer=reviewer))
    QaAssignment.objects.bulk_create(created, ignore_conflicts=True)
    return created


@transaction.atomic
def start_calibration(
    *,
    actor: User,
    ticket: Ticket,
    associate: User,
    scorecard: Scorecard,
    reviewers: Iterable[User],
) -> Calibration:
    """Ask two or more reviewers to score the same ticket; the calibration page shows how far apart they are.
    Calibration reviews do not count in the associate's QA score. Reviewers are leads of the ticket's team
    (or admins) who may read the ticket (`metrics.selectors.calibration_reviewers`)."""
    reviewers = list({r.pk: r for r in reviewers}.values())
    if not can_review(actor, associate) or not selectors.can_open(actor, ticket):
        raise PermissionDenied(_("You cannot review this associate."))
    if len(reviewers) < 2:
        raise ValidationError(_("Choose at least two reviewers."))
    if any(r.pk == associate.pk for r in reviewers):
        raise ValidationError(_("Associates cannot calibrate their own tickets."))
    allowed = set(calibration_reviewers(ticket, associate).values_list("pk", flat=True))
    if any(r.pk not in allowed for r in reviewers):
        raise ValidationError(_("Only leads of the ticket's team who can open the ticket can calibrate it."))
    calibration = Calibration.objects.create(ticket=ticket, associate=associate, scorecard=scorecard, created_by=actor)
    QaAssignment.objects.bulk_create(
        QaAssignment(
            week=week_start(timezone.localdate()),
            ticket=ticket,
            associate=associate,
            reviewer=reviewer,
            calibration=calibration,
        )
        for reviewer in reviewers
    )
    return calibration
