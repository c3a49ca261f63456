"""SLA policies and alerts, escalation rules, escalations and in-app notifications."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets import system_texts
from tickets.models.core import Language, Queue, Ticket


class SlaClock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    ESCALATION = "escalation", _("Escalation")


class SlaPolicy(models.Model):
    """Targets for one queue and priority (either may be empty: any). The most specific active policy
    applies when a clock starts; editing a policy changes new clocks only."""

    name = models.CharField(_("name"), max_length=120)
    queue = models.ForeignKey(
        Queue,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text=_("Empty: any queue."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Ticket.Priority.choices, null=True, blank=True, help_text=_("Empty: any priority.")
    )
    first_response_minutes = models.PositiveIntegerField(_("first response target (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response target (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution target (minutes)"), null=True, blank=True)
    warning_percent = models.PositiveSmallIntegerField(
        _("warn at (% of the target)"), default=75, help_text=_("Between 1 and 99.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Sao_Paulo")
    business_hours = models.JSONField(
        _("business hours"),
        default=dict,
        blank=True,
        help_text=_('Empty: 24x7. Otherwise open hours per weekday, e.g. {"mon": [["09:00", "18:00"]], ...}.'),
    )
    holidays = ArrayField(models.DateField(), default=list, blank=True, verbose_name=_("holidays"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queue__name", "priority", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "priority"],
                condition=Q(is_active=True),
                nulls_distinct=False,
                name="sla_policy_one_active_per_scope",
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=99), name="sla_policy_warning_percent"
            ),
        ]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from tickets.sla.calendar import Calendar

        try:
            Calendar.parse(self.time_zone, self.business_hours, self.holidays)
        except ValueError as exc:
            raise ValidationError({"business_hours": str(exc)}) from exc


class SlaAlert(models.Model):
    """A warning or a breach of one clock cycle, recorded exactly once."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")

    # Indexed by the unique constraint (ticket first).
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts", db_index=False)
    clock = models.CharField(_("clock"), max_length=20, choices=SlaClock.choices)
    # 0 for first response and resolution; the requester message count for next response; the escalation id.
    cycle = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    due_at = models.DateTimeField(_("due"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    queue = models.ForeignKey(
        Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )  # indexed by sla_alert_queue_kind
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "clock", "cycle", "kind"], name="sla_alert_once_per_cycle")
        ]
        indexes = [models.Index(fields=["queue", "kind", "recorded_at"], name="sla_alert_queue_kind")]
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")

    def __str__(self) -> str:
        return f"{self.kind} {self.clock} on #{self.ticket_id}"


class EscalationRule(models.Model):
    """When a trigger fires and every condition holds, the actions run. Rules run by `position`; each
    fires at most once per ticket and trigger."""

    class Trigger(models.TextChoices):
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breach")
        SENSITIVE_CONTENT = "sensitive_content", _("Sensitive content found")

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    # Conditions: empty means any.
    clock = models.CharField(_("clock"), max_length=20, choices=SlaClock.choices, blank=True)
    queues = models.ManyToManyField(Queue, blank=True, related_name="+", verbose_name=_("queues"))
    priorities = ArrayField(models.PositiveSmallIntegerField(choices=Ticket.Priority.choices), default=list, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True, help_text=_("Any of these."))
    sensitivity = ArrayField(
        models.CharField(max_length=30), default=list, blank=True, help_text=_("Any of these categories.")
    )
    languages = ArrayField(models.CharField(max_length=2, choices=Language.choices), default=list, blank=True)
    no_reply_hours = models.PositiveIntegerField(
        _("no reply for (hours)"), null=True, blank=True, help_text=_("No public reply for at least this long.")
    )
    # Actions.
    raise_priority_to = models.PositiveSmallIntegerField(
        _("raise priority to"), choices=Ticket.Priority.choices, null=True, blank=True
    )
    notify_team_lead = models.BooleanField(_("notify the team lead"), default=False)
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reassign to"),
    )
    move_to_queue = models.ForeignKey(
        Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("move to queue")
    )
    escalate_to_queue = models.ForeignKey(
        Queue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Queue.Kind.CROSS_FUNCTIONAL},
        verbose_name=_("escalate to"),
    )
    add_tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    stop_processing = models.BooleanField(_("stop here when applied"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self) -> str:
        return self.name


class EscalationRuleFiring(models.Model):
    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=80, help_text=_("The trigger and its clock cycle."))
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "ticket", "trigger"], name="escalation_rule_fires_once")]
        verbose_name = _("escalation rule firing")
        verbose_name_plural = _("escalation rule firings")

    def __str__(self) -> str:
        return f"{self.rule_id} on #{self.ticket_id} ({self.trigger})"


class Escalation(models.Model):
    """A ticket sent to a cross-functional queue: the specialists see it while it is open and hand it
    back with a resolution note. The ticket stays in its queue with its associate."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        HANDED_BACK = "handed_back", _("Handed back")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    from_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+", verbose_name=_("from queue"))
    target_queue = models.ForeignKey(
        Queue,
        on_delete=models.PROTECT,
        related_name="escalations_in",
        limit_choices_to={"kind": Queue.Kind.CROSS_FUNCTIONAL},
        verbose_name=_("escalated to"),
    )
    reason = models.TextField(_("reason"))
    # A reason the system wrote (the scanner, a rule): its code and parameters (tickets/system_texts.py),
    # shown in each reader's language; `reason` keeps the words in the default language for search.
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.ForeignKey(EscalationRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    return_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The associate the ticket returns to."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handed_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handed_back_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    # The specialist working on it, so two of them do not answer the same escalation.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    claimed_at = models.DateTimeField(_("taken at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target_queue"], condition=Q(status="open"), name="escalation_one_open_per_queue"
            )
        ]
        indexes = [
            models.Index(fields=["target_queue", "status", "due_at"], name="escalation_queue_status_due"),
            models.Index(
                fields=["due_at"], name="escalation_open_unbreached", condition=Q(status="open", breached_at=None)
            ),
            models.Index(fields=["ticket", "-created_at"], name="escalation_ticket"),
        ]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"#{self.ticket_id} → {self.target_queue_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language when the system wrote it; as typed when a person did."""
        return system_texts.render(self.reason_code, self.reason_params, fallback=self.reason)


class Notification(models.Model):
    """An in-app notice for one staff user, written in their language when it was created."""

    class Kind(models.TextChoices):
        SLA = "sla", _("SLA")
        ESCALATED = "escalated", _("Escalated")
        HANDED_BACK = "handed_back", _("Handed back")
        WELLBEING = "wellbeing", _("Wellbeing")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=500)
    # What the notice says, as a code and parameters (tickets/system_texts.py), shown in the reader's
    # language; rows written before codes existed show `text`.
    code = models.CharField(_("code"), max_length=40, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
            models.Index(fields=["user"], name="notification_unread", condition=Q(read_at=None)),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.display_text

    @property
    def display_text(self) -> str:
        return system_texts.render(self.code, self.params, fallback=self.text)
