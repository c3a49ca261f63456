"""Standard operating procedures (versioned, per language, with checklists and acknowledgements) and macros."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Language, Queue, Ticket


class SOP(models.Model):
    """One procedure. Its text lives in versions, one line of versions per language."""

    class Category(models.TextChoices):
        ACCOUNT = "account", _("Account access")
        SAFETY = "safety", _("Safety and harassment")
        CONTENT = "content", _("Content and appeals")
        PAYMENTS = "payments", _("Payments")
        TECHNICAL = "technical", _("Technical problems")
        PRIVACY = "privacy", _("Privacy and data")
        GENERAL = "general", _("General")

    title = models.CharField(_("title"), max_length=200, help_text=_("Internal name; each version has its own."))
    slug = models.SlugField(unique=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.GENERAL)
    queues = models.ManyToManyField(
        Queue,
        related_name="sops",
        blank=True,
        help_text=_("Queues whose tickets it applies to; empty means any queue with a matching tag."),
    )
    tags = ArrayField(
        models.CharField(max_length=50),
        default=list,
        blank=True,
        help_text=_("Ticket tags (categories) it applies to; empty means every ticket of its queues."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        indexes = [GinIndex(fields=["tags"], name="sop_tags_gin")]
        verbose_name = _("SOP")
        verbose_name_plural = _("SOPs")

    def __str__(self) -> str:
        return self.title


class SOPVersion(models.Model):
    """A numbered text of an SOP in one language. Drafts can change; a published version never does."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    sop = models.ForeignKey(SOP, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(editable=False, blank=True, help_text=_("Rendered and sanitised body."))
    change_summary = models.CharField(_("what changed"), max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sop_versions"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    is_current = models.BooleanField(_("current"), default=False, editable=False)
    must_read = models.BooleanField(
        _("must read"), default=False, help_text=_("Publishing asks every associate of its queues to acknowledge it.")
    )
    counterpart = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The version in the other language this one matches."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["sop", "language", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["sop", "language", "number"], name="sop_version_number_unique"),
            models.UniqueConstraint(
                fields=["sop", "language"], condition=Q(is_current=True), name="sop_one_current_per_language"
            ),
            models.CheckConstraint(
                condition=Q(is_current=False) | Q(status="published"), name="sop_current_is_published"
            ),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="sop_version_search_gin")]
        verbose_name = _("SOP version")
        verbose_name_plural = _("SOP versions")

    def __str__(self) -> str:
        return f"{self.sop.slug} {self.language} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class ChecklistStep(models.Model):
    version = models.ForeignKey(SOPVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(_("step"), max_length=500)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "position"], name="checklist_step_position")]
        verbose_name = _("checklist step")
        verbose_name_plural = _("checklist steps")

    def __str__(self) -> str:
        return self.text


class ChecklistTick(models.Model):
    """A step ticked on a ticket now. The history of ticks is in the ticket's event log."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sop_ticks")
    step = models.ForeignKey(ChecklistStep, on_delete=models.CASCADE, related_name="ticks")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "step"], name="checklist_tick_unique")]
        verbose_name = _("checklist tick")
        verbose_name_plural = _("checklist ticks")

    def __str__(self) -> str:
        return f"#{self.ticket_id} step {self.step_id}"


class Acknowledgement(models.Model):
    """An associate asked to read a must-read version; `acknowledged_at` is set when they confirm."""

    version = models.ForeignKey(SOPVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sop_acknowledgements")
    requested_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)

    # Not stored: the procedure's title in the reader's language, set for the banner by
    # `selectors.acknowledgements_to_show`.
    title_shown: str

    class Meta:
        ordering = ["-requested_at"]
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="acknowledgement_unique")]
        indexes = [
            # The banner's query on every page: my pending acknowledgements.
            models.Index(fields=["user"], name="acknowledgement_pending", condition=Q(acknowledged_at__isnull=True))
        ]
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")

    def __str__(self) -> str:
        return f"{self.user} · {self.version}"

    @property
    def is_pending(self) -> bool:
        return self.acknowledged_at is None


class Macro(models.Model):
    """A canned reply with a body per language, variables, and actions applied when the reply is sent."""

    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        help_text=_("Set for a personal macro; empty for one shared with the team."),
    )
    body_pt = models.TextField(_("body in Portuguese"), blank=True)
    body_en = models.TextField(_("body in English"), blank=True)
    sop = models.ForeignKey(SOP, on_delete=models.SET_NULL, null=True, blank=True, related_name="macros")
    set_status = models.CharField(_("set status"), max_length=10, choices=Ticket.Status.choices, blank=True)
    set_priority = models.PositiveSmallIntegerField(
        _("set priority"), choices=Ticket.Priority.choices, null=True, blank=True
    )
    add_tags = ArrayField(models.CharField(max_length=50), default=list, blank=True, verbose_name=_("add tags"))
    set_queue = models.ForeignKey(
        Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("move to queue")
    )
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    def body_for(self, language: str) -> str:
        bodies: dict[str, str] = {Language.PT: self.body_pt, Language.EN: self.body_en}
        return bodies.get(language, "")

    @property
    def has_actions(self) -> bool:
        return bool(self.set_status or self.set_priority or self.add_tags or self.set_queue_id)
