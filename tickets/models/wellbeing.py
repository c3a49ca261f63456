"""Associate wellbeing: sensitive-content access, exposure budgets, cleared flags."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Ticket

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

    class Meta:
        verbose_name = _("exposure budget")
        verbose_name_plural = _("exposure budgets")

    def __str__(self) -> str:
        return f"exposure budget of {self.user_id}"


class ExposureEntry(models.Model):
    """One ticket an associate took with Next ticket, sensitive or not: the shift's exposure and the
    streak of sensitive tickets in a row are counted from these."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    sensitive = models.BooleanField(default=False)
    categories = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)

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
