"""What the generative assistant wrote (assist/): each answer kept with who asked, on which ticket,
when and from which provider, so that it can be read back, exported for the requester and erased."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Ticket


class AssistOutput(models.Model):
    """One answer of the assistant on one ticket, as the associate saw it (personal data restored). Read
    through `tickets.selectors.assist_outputs_visible_to`: the ticket's visibility rule applies."""

    class Kind(models.TextChoices):
        SUMMARY = "summary", _("Summary")
        DRAFT = "draft", _("Reply draft")
        TRANSLATION = "translation", _("Translation")
        SECOND_OPINION = "second_opinion", _("Second opinion")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assist_outputs")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The endpoint's host and the model (never the key), as the audit log names them.
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The ticket's own answers, newest first (the export and erasure read them by ticket).
        indexes = [models.Index(fields=["ticket", "-created_at"], name="assist_output_ticket_created")]
        verbose_name = _("assistant answer")
        verbose_name_plural = _("assistant answers")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.ticket_id}"
