"""Associate wellbeing: sensitive-content access, exposure budgets, cleared flags."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Team, Ticket

# Associate wellbeing (tickets/wellbeing) -----------------------------------------------------------------


class SensitiveAccessLog(models.Model):
    """Who saw what of a sensitive ticket: every reveal of blurred media, and every access to child-safety
    content (page views, attachment downloads)."""

    class Kind(models.TextChoices):
        VIEW = "view", _("Viewed the ticket")
        REVEAL = "reveal", _("Revealed media")
        ATTACHMENT = "attachment", _("Opened an attachment")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="access_logs")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    attachment = models.ForeignKey("Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["ticket", "-created_at"], name="access_log_ticket"),
            models.Index(fields=["user", "-created_at"], name="access_log_user"),
        ]
        verbose_name = _("sensitive access")
        verbose_name_plural = _("sensitive access log")

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id} by {self.user_id}"


class ExposureBudget(models.Model):
    """An associate's wellbeing settings: their per-shift budget of sensitive tickets (empty: the team
    default) and whether they paused intake from next-ticket routing. Routing locks this row, so one
    associate's concurrent presses of Next ticket are counted one after the other."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exposure_budget")
    per_shift = models.PositiveSmallIntegerField(
        _("sensitive tickets per shift"), null=True, blank=True, help_text=_("Empty: the team default.")
    )
    break_after = models.PositiveSmallIntegerField(
        _("suggest a break after (in a row)"), null=True, blank=True, help_text=_("Empty: the team default.")
    )
    intake_paused_at = models.DateTimeField(_("intake paused since"), null=True, blank=True)
    minutes_per_shift = models.PositiveSmallIntegerField(
        _("minutes of sensitive content per shift"), null=True, blank=True, help_text=_("Empty: the team's limit.")
    )
    # Seconds of exposure this shift when the associate last took a break (paused intake): the hourly
    # prompt counts from there.
    seconds_at_last_break = models.PositiveIntegerField(default=0)
    # Categories Next ticket skips for the associate until `skip_until` (the end of their shift).
    skipped_categories = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    skip_until = models.DateTimeField(null=True, blank=True)
    # The shift in which the associate's lead was last told they reached a limit (told once a shift).
    limit_notice_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("exposure budget")
        verbose_name_plural = _("exposure budgets")

    def __str__(self) -> str:
        return f"exposure budget of {self.user_id}"


class ExposureEntry(models.Model):
    """One ticket an associate took with Next ticket or opened from any page, within a shift: the shift's
    exposure (tickets, and seconds on screen from the page heartbeats) and the streak of sensitive tickets
    in a row are counted from these. A ticket seen again in a later shift starts its entry afresh."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    sensitive = models.BooleanField(default=False)
    categories = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)
    views = models.PositiveIntegerField(_("views"), default=0)
    seconds = models.PositiveIntegerField(_("seconds on screen"), default=0)
    # The last heartbeat slot counted, so that a beat repeated in the same slot adds nothing.
    last_slot = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-taken_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "ticket"], name="exposure_once_per_ticket")]
        indexes = [models.Index(fields=["user", "-taken_at"], name="exposure_user_taken")]
        verbose_name = _("exposure entry")
        verbose_name_plural = _("exposure entries")

    def __str__(self) -> str:
        return f"#{self.ticket_id} to {self.user_id}"


class FlagClearance(models.Model):
    """A sensitivity category an associate judged a false flag on a ticket; leads read precision from these."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="flag_clearances")
    category = models.CharField(_("category"), max_length=30)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    cleared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-cleared_at", "-id"]
        indexes = [models.Index(fields=["category", "cleared_at"], name="flag_clearance_category")]
        verbose_name = _("cleared flag")
        verbose_name_plural = _("cleared flags")

    def __str__(self) -> str:
        return f"{self.category} cleared on #{self.ticket_id}"


class TeamWellbeingPolicy(models.Model):
    """A team's exposure limits and the support it offers; empty limits follow the ACOLHE_EXPOSURE_*
    settings (a break prompt after each hour of exposure, five hours a day at most, after the Internet
    Watch Foundation's practice for its analysts)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="wellbeing_policy")
    tickets_per_shift = models.PositiveSmallIntegerField(
        _("sensitive tickets per shift"), null=True, blank=True, help_text=_("Empty: the default.")
    )
    minutes_per_shift = models.PositiveSmallIntegerField(
        _("minutes of sensitive content per shift"), null=True, blank=True, help_text=_("Empty: the default.")
    )
    break_every_minutes = models.PositiveSmallIntegerField(
        _("break prompt after this many minutes of exposure"), null=True, blank=True, help_text=_("Empty: the default.")
    )
    support_resources = models.TextField(
        _("support resources"),
        blank=True,
        help_text=_("Shown to associates in the check-in: who to call, the care programme, opening hours."),
    )

    class Meta:
        verbose_name = _("team wellbeing policy")
        verbose_name_plural = _("team wellbeing policies")

    def __str__(self) -> str:
        return f"wellbeing policy of team {self.team_id}"
