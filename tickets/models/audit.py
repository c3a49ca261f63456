"""The audit log of sensitive actions (exports, erasures, raw-mail views, credentials)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLog(models.Model):
    """Who did what to whose personal data, and when: exports, erasures, retention purges, sensitive reads
    and account security changes. Append-only; admins read it in the admin site."""

    class Action(models.TextChoices):
        REQUESTER_EXPORTED = "requester_exported", _("Requester data exported")
        REQUESTER_ERASED = "requester_erased", _("Requester erased")
        RETENTION_PURGED = "retention_purged", _("Tickets purged by retention")
        SOURCE_VIEWED = "source_viewed", _("Raw message viewed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor enabled")
        TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor disabled")
        ASSIST_REQUESTED = "assist_requested", _("Assistant asked")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text too, so the log still names the actor after their account is gone.
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    target = models.CharField(_("target"), max_length=200, blank=True, help_text=_('e.g. "requester:42".'))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target", "-created_at"], name="audit_target_created")]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or '-'} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the audit log is append-only")
