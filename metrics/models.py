"""Metrics: page heartbeats, daily rollups, QA scorecards and reviews, CSAT surveys.

The rollup tables hold sums and counts only, so any date range or grouping is a SUM over rows; averages and
shares are derived when read (see `metrics.definitions`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.language import reader_language
from tickets.models import Language, Queue, Team, Ticket


class Heartbeat(models.Model):
    """One 30-second slot in which an associate had a ticket page visible and focused. The slot number
    (epoch seconds // 30) is unique per user and ticket, so two tabs or a retried request count once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    slot = models.BigIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "ticket", "slot"], name="heartbeat_once_per_slot")]
        indexes = [models.Index(fields=["at"], name="heartbeat_at")]
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.user_id} on #{self.ticket_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class DailyStats(models.Model):
    """One day of one associate's work in one queue and language (associate empty: the queue's share that
    belongs to nobody, such as tickets created). Rebuilt whole for a day by `services.rollup_days`."""

    day = models.DateField(_("day"))
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    # The associate's team when the day was rolled up (the queue's team for rows without an associate).
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    tickets_created = models.PositiveIntegerField(default=0)
    replies_sent = models.PositiveIntegerField(default=0)
    first_responses = models.PositiveIntegerField(default=0)
    first_response_seconds = models.BigIntegerField(default=0)
    solved = models.PositiveIntegerField(default=0)
    resolution_seconds = models.BigIntegerField(default=0)
    first_contact_resolved = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    escalated_solved = models.PositiveIntegerField(default=0)
    sla_clocks = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    handle_seconds = models.BigIntegerField(default=0)
    qa_reviews = models.PositiveIntegerField(default=0)
    qa_score_sum = models.FloatField(default=0)
    # QA distribution: below 60, 60s, 70s, 80s, 90 and above.
    qa_below_60 = models.PositiveIntegerField(default=0)
    qa_60 = models.PositiveIntegerField(default=0)
    qa_70 = models.PositiveIntegerField(default=0)
    qa_80 = models.PositiveIntegerField(default=0)
    qa_90 = models.PositiveIntegerField(default=0)
    csat_responses = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_1 = models.PositiveIntegerField(default=0)
    csat_2 = models.PositiveIntegerField(default=0)
    csat_3 = models.PositiveIntegerField(default=0)
    csat_4 = models.PositiveIntegerField(default=0)
    csat_5 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "associate", "queue", "language"], nulls_distinct=False, name="daily_stats_unique"
            )
        ]
        indexes = [
            models.Index(fields=["day", "team"], name="daily_stats_day_team"),
            models.Index(fields=["associate", "day"], name="daily_stats_associate_day"),
            models.Index(fields=["queue", "day"], name="daily_stats_queue_day"),
        ]
        verbose_name = _("daily statistics")
        verbose_name_plural = _("daily statistics")

    def __str__(self) -> str:
        return f"{self.day} {self.associate_id} {self.queue_id} {self.language}"


class QueueDay(models.Model):
    """Queue health at the end of a day: the backlog and its age are a snapshot taken by the last rollup
    of that day while it was today (the log cannot cheaply rebuild them later); breaches are recounted."""

    day = models.DateField(_("day"))
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    backlog = models.PositiveIntegerField(default=0)
    backlog_age_seconds = models.BigIntegerField(default=0)
    unassigned = models.PositiveIntegerField(default=0)
    sla_breaches = models.PositiveIntegerField(default=0)
    snapshot_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "queue", "language"], name="queue_day_unique")]
        indexes = [models.Index(fields=["day", "team"], name="queue_day_day_team")]
        verbose_name = _("queue day")
        verbose_name_plural = _("queue days")

    def __str__(self) -> str:
        return f"{self.day} {self.queue_id} {self.language}"


class Scorecard(models.Model):
    """A QA form: weighted criteria a reviewer rates from 1 to 5."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("what good looks like"), blank=True)
    # The same criterion in each interface language; empty falls back to `name` and `description`.
    name_pt = models.CharField(_("name in Portuguese"), max_length=200, blank=True)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    description_pt = models.TextField(_("what good looks like, in Portuguese"), blank=True)
    description_en = models.TextField(_("what good looks like, in English"), blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["scorecard", "position", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's interface language when it was written in it."""
        return getattr(self, f"name_{reader_language()}") or self.name

    @property
    def display_description(self) -> str:
        return getattr(self, f"description_{reader_language()}") or self.description


class Calibration(models.Model):
    """Two or more reviewers score the same ticket to compare how they apply the scorecard."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    associate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calibration")
        verbose_name_plural = _("calibrations")

    def __str__(self) -> str:
        return f"calibration on #{self.ticket_id}"


class Review(models.Model):
    """A lead's review of one ticket for one associate, scored 0-100 from the weighted criteria."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    associate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="reviews")
    calibration = models.ForeignKey(
        Calibration, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews"
    )
    score = models.FloatField(_("score"), validators=[MinValueValidator(0), MaxValueValidator(100)])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "associate", "reviewer", "calibration"],
                nulls_distinct=False,
                name="review_once_per_reviewer",
            )
        ]
        indexes = [
            models.Index(fields=["associate", "-created_at"], name="review_associate"),
            models.Index(fields=["created_at"], name="review_created"),
        ]
        verbose_name = _("QA review")
        verbose_name_plural = _("QA reviews")

    def __str__(self) -> str:
        return f"review of #{self.ticket_id} for {self.associate_id}: {self.score:.0f}"


class ReviewAnswer(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="review_answer_once"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_answer_rating_1_5"),
        ]
        verbose_name = _("review answer")
        verbose_name_plural = _("review answers")

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.rating}"


class QaAssignment(models.Model):
    """A ticket the weekly sample (or a calibration) asks a reviewer to review."""

    week = models.DateField(_("week of"), help_text=_("The Monday of the sampled week."))
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    associate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_assignments")
    calibration = models.ForeignKey(
        Calibration, on_delete=models.CASCADE, null=True, blank=True, related_name="assignments"
    )
    review = models.OneToOneField(Review, on_delete=models.SET_NULL, null=True, blank=True, related_name="assignment")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["week", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "reviewer", "calibration"], nulls_distinct=False, name="qa_assignment_once"
            )
        ]
        indexes = [models.Index(fields=["reviewer", "review"], name="qa_assignment_reviewer")]
        verbose_name = _("QA assignment")
        verbose_name_plural = _("QA assignments")

    def __str__(self) -> str:
        return f"#{self.ticket_id} to {self.reviewer_id} ({self.week})"


class CsatSurvey(models.Model):
    """The satisfaction question sent when a ticket is solved: one per ticket, answerable once through a
    signed link and changeable for a few days after."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="csat")
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="csat_surveys"
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.PT)
    sent_at = models.DateTimeField(default=timezone.now)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="csat_rating_1_5"
            )
        ]
        indexes = [
            models.Index(fields=["answered_at"], name="csat_answered", condition=Q(answered_at__isnull=False)),
            models.Index(fields=["associate", "-answered_at"], name="csat_associate"),
        ]
        verbose_name = _("CSAT survey")
        verbose_name_plural = _("CSAT surveys")

    def __str__(self) -> str:
        return f"CSAT #{self.ticket_id}: {self.rating or '-'}"

    @property
    def is_answered(self) -> bool:
        return self.rating is not None
