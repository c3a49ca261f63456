"""The core of Acolhe: requesters, queues, tickets, messages, attachments, the event log, raw inbound mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Least, Left, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Text search configurations created by migration 0003 (the languages' stemmers). Documents and queries
# first fold accents with the SQL function acolhe_unaccent (same migration), so "ação" finds "acao" and the
# reverse. Search documents hold both configurations, since a thread mixes languages.
SEARCH_CONFIGS = ("acolhe_pt", "acolhe_en")
UNACCENT_FROM = "áàâãäåéèêëíìîïóòôõöúùûüýÿçñÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÝÇÑ"
UNACCENT_TO = "aaaaaaeeeeiiiiooooouuuuyycnAAAAAAEEEEIIIIOOOOOUUUUYCN"
UNACCENT_TABLE = str.maketrans(UNACCENT_FROM, UNACCENT_TO)
# to_tsvector refuses documents over 1 MB; the head of a very long mail is enough to find it.
SEARCH_MAX_CHARS = 100_000


def unaccent(expression) -> Func:
    return Func(expression, function="acolhe_unaccent")


def search_document(field: str) -> SearchVector:
    document = unaccent(Left(field, SEARCH_MAX_CHARS))
    return SearchVector(document, config=SEARCH_CONFIGS[0]) + SearchVector(document, config=SEARCH_CONFIGS[1])


class Language(models.TextChoices):
    PT = "pt", _("Portuguese")
    EN = "en", _("English")


class Role(models.TextChoices):
    """The auth groups Acolhe creates; a user's queues come from queue membership."""

    ASSOCIATE = "associate", _("Associate")
    TEAM_LEAD = "team_lead", _("Team lead")
    SPECIALIST = "specialist", _("Specialist")
    ADMIN = "admin", _("Admin")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    leads = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="led_teams", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What Acolhe knows about a staff user beyond Django auth."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members")
    ui_language = models.CharField(_("interface language"), max_length=10, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="America/Sao_Paulo")
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices),
        default=list,
        blank=True,
        help_text=_("Languages this associate answers in."),
    )
    skills = ArrayField(models.CharField(max_length=40), default=list, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Requester(models.Model):
    """A person who writes to support. Addresses are unique regardless of case."""

    email = models.EmailField(_("email"), max_length=254)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("preferred language"), max_length=2, choices=Language.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="requester_email_ci_unique")]
        verbose_name = _("requester")
        verbose_name_plural = _("requesters")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class Queue(models.Model):
    class Kind(models.TextChoices):
        FRONT_LINE = "front_line", _("Front line")
        CROSS_FUNCTIONAL = "cross_functional", _("Cross-functional")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FRONT_LINE)
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices),
        default=list,
        blank=True,
        help_text=_("Languages routed here; empty means any."),
    )
    addresses = ArrayField(
        models.EmailField(),
        default=list,
        blank=True,
        help_text=_("Support addresses whose mail lands in this queue (lower case)."),
    )
    is_default = models.BooleanField(_("default queue"), default=False)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="queues")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="support_queues", blank=True)
    auto_acknowledge = models.BooleanField(_("send an automatic acknowledgement"), default=False)
    from_address = models.EmailField(_("reply from"), blank=True)
    retention_days = models.PositiveIntegerField(
        _("keep closed tickets for (days)"),
        null=True,
        blank=True,
        help_text=_("Closed tickets older than this are deleted each night, unless on legal hold. Empty: forever."),
    )
    signatures = models.JSONField(
        _("signatures"),
        default=dict,
        blank=True,
        help_text=_('Signature appended to replies, per language: {"pt": "...", "en": "..."}.'),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [GinIndex(fields=["addresses"], name="queue_addresses_gin")]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_queue")
        ]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return self.name

    @property
    def reply_address(self) -> str:
        return self.from_address or (self.addresses[0] if self.addresses else settings.DEFAULT_FROM_EMAIL)


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        ON_HOLD = "on_hold", _("On hold")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        # Integers so that "most urgent first" is an index-friendly ORDER BY.
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)

    number = models.BigIntegerField(
        _("number"),
        unique=True,
        db_default=models.Func(models.Value("tickets_ticket_number_seq"), function="nextval"),
        editable=False,
    )
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.PT)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(Requester, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged")
    follow_up_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text=_("The closed ticket a user replied to, which opened this one."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks: filled by the SLA engine.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # When each clock warns (a share of its target), the resolution clock's pause, and when the SLA sweep
    # must look at the ticket next: the earliest warning or due time not yet behind it.
    sla_policy = models.ForeignKey(
        "SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("SLA policy")
    )
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    next_response_warn_at = models.DateTimeField(null=True, blank=True)
    next_response_cycle = models.PositiveIntegerField(default=0, editable=False)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_paused_at = models.DateTimeField(null=True, blank=True)
    resolution_remaining_seconds = models.BigIntegerField(null=True, blank=True)
    resolution_warning_remaining_seconds = models.BigIntegerField(null=True, blank=True)
    sla_next_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when erasure or the retention period scrubbed the personal data; the row stays for the counts.
    personal_data_erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Content sensitivity, rolled up from messages by the wellbeing scanner.
    sensitivity = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    # Set with child-safety content: no retention job or erasure may delete the ticket (a database trigger
    # refuses), until an admin lifts it.
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    search_document = models.GeneratedField(
        expression=search_document("subject"), output_field=SearchVectorField(), db_persist=True, editable=False
    )

    class Meta:
        indexes = [
            GinIndex(fields=["search_document"], name="ticket_search_gin"),
            # "Next ticket": unassigned workable tickets, most urgent SLA first (LEAST skips missing clocks).
            models.Index(
                Least("first_response_due_at", "next_response_due_at", "resolution_due_at").asc(nulls_last=True),
                models.F("priority").desc(),
                "created_at",
                name="ticket_next_eligible",
                condition=Q(assignee__isnull=True, status__in=["new", "open"]),
            ),
            # Workspace lists walk these in sort order and stop after one page (keyset pagination).
            models.Index(
                F("updated_at").desc(),
                F("id").desc(),
                name="ticket_active_updated",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(
                F("updated_at").desc(),
                F("id").desc(),
                name="ticket_unassigned_updated",
                condition=Q(assignee__isnull=True, status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(
                "resolution_due_at",
                "id",
                name="ticket_active_due",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(
                F("resolution_due_at").desc(nulls_last=True),
                F("id").desc(),
                name="ticket_active_due_desc",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(
                "priority",
                "id",
                name="ticket_active_priority",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(F("updated_at").desc(), F("id").desc(), name="ticket_updated"),
            models.Index(fields=["queue", "status", "resolution_due_at"], name="ticket_queue_status_due"),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_status_frt_due"),
            models.Index(fields=["assignee", "status", "-updated_at"], name="ticket_assignee_status"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester"),
            models.Index(fields=["queue", "status", "-priority", "created_at"], name="ticket_queue_urgency"),
            GinIndex(fields=["tags"], name="ticket_tags_gin"),
            models.Index(
                fields=["sla_next_check_at"],
                name="ticket_sla_next_check",
                condition=Q(sla_next_check_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_paused_at"],
                name="ticket_sla_paused",
                condition=Q(resolution_paused_at__isnull=False),
            ),
        ]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def tag(self) -> str:
        """The subject tag that threads a user's reply back onto this ticket."""
        return f"[#{self.number}]"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class InboundEmail(models.Model):
    """A raw inbound mail exactly as it arrived, stored before anything parses it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        SPAM = "spam", _("Spam")
        FAILED = "failed", _("Failed")

    esp = models.CharField(_("source"), max_length=30)
    raw = models.BinaryField(_("raw MIME"))
    raw_sha256 = models.CharField(max_length=64)
    dedupe_key = models.CharField(
        max_length=1000,
        unique=True,
        help_text=_("The Message-ID, or a hash of the raw bytes when it has none."),
    )
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    envelope_recipient = models.CharField(max_length=254, blank=True)
    envelope_sender = models.CharField(max_length=254, blank=True)
    spam_detected = models.BooleanField(null=True)
    spam_score = models.FloatField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(_("reason or error"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "-received_at"], name="inbound_status_received")]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")

    def __str__(self) -> str:
        return f"{self.esp} {self.message_id or self.raw_sha256[:12]} ({self.status})"


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("From the requester")
        OUT = "out", _("Reply")
        NOTE = "note", _("Internal note")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        FAILED = "failed", _("Failed")
        NOT_SENT = "not_sent", _("Not sent")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    cc_addresses = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text=_("Sanitised HTML, safe to render."))
    quoted_text = models.TextField(blank=True, help_text=_("Quoted history and signature, shown collapsed."))
    quoted_html = models.TextField(blank=True, help_text=_("Sanitised quoted history, shown collapsed."))
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = ArrayField(models.CharField(max_length=998), default=list, blank=True)
    delivery_status = models.CharField(max_length=12, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_error = models.TextField(blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker last claimed this message for sending (or last gave up on an attempt): the outbox sweep
    # re-queues messages whose claim or retry went stale.
    send_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    inbound_email = models.OneToOneField(
        InboundEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="message"
    )
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    sensitivity = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    search_document = models.GeneratedField(
        expression=search_document("body_text"), output_field=SearchVectorField(), db_persist=True, editable=False
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            GinIndex(fields=["search_document"], name="message_search_gin"),
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            models.Index(fields=["esp_message_id"], name="message_esp_id", condition=~Q(esp_message_id="")),
            GinIndex(fields=["references"], name="message_references_gin"),
            models.Index(
                fields=["delivery_status", "created_at"],
                name="message_outbox",
                condition=Q(delivery_status="queued"),
            ),
            models.Index(fields=["send_claimed_at"], name="message_sending", condition=Q(delivery_status="sending")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""), name="message_id_unique")
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on #{self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.direction != self.Direction.NOTE


def attachment_path(instance: Attachment, filename: str) -> str:
    # The storage name is never the sender's: a random name per file, the original kept in `filename`.
    return f"attachments/{timezone.now():%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    content_id = models.CharField(max_length=255, blank=True, help_text=_("For inline cid: images."))
    is_inline = models.BooleanField(default=False)
    omitted_reason = models.TextField(blank=True, help_text=_("Why the file was not kept (too large, ...)."))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class TicketEvent(models.Model):
    """One typed change on a ticket. Append-only: the event log is what metrics are computed from."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Ticket created")
        MESSAGE_RECEIVED = "message_received", _("Message received")
        REPLY_SENT = "reply_sent", _("Reply sent")
        NOTE_ADDED = "note_added", _("Internal note added")
        STATUS_CHANGED = "status_changed", _("Status changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        ASSIGNED = "assigned", _("Assignee changed")
        QUEUE_CHANGED = "queue_changed", _("Queue changed")
        TAGS_CHANGED = "tags_changed", _("Tags changed")
        LANGUAGE_CHANGED = "language_changed", _("Language changed")
        SUBJECT_CHANGED = "subject_changed", _("Subject changed")
        REOPENED = "reopened", _("Reopened")
        MERGED = "merged", _("Merged")
        FOLLOW_UP_OPENED = "follow_up_opened", _("Follow-up opened")
        DELIVERY_CHANGED = "delivery_changed", _("Delivery status changed")
        AUTO_ACK_SENT = "auto_ack_sent", _("Acknowledgement sent")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breached")
        ESCALATED = "escalated", _("Escalated")
        HANDED_BACK = "handed_back", _("Handed back")
        RULE_FIRED = "rule_fired", _("Escalation rule applied")
        SOP_STEP_CHECKED = "sop_step_checked", _("SOP step ticked")
        SOP_STEP_UNCHECKED = "sop_step_unchecked", _("SOP step unticked")
        MACRO_APPLIED = "macro_applied", _("Macro applied")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_events",
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
            models.Index(fields=["actor", "created_at"], name="event_actor_created"),
        ]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("ticket events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ticket events are append-only")


class SavedView(models.Model):
    """A list view an associate keeps: its filters and sort as a query string, shown in their sidebar."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_user_name_unique")]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


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

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts")
    clock = models.CharField(_("clock"), max_length=20, choices=SlaClock.choices)
    # 0 for first response and resolution; the requester message count for next response; the escalation id.
    cycle = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    due_at = models.DateTimeField(_("due"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    queue = models.ForeignKey(Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
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


class Notification(models.Model):
    """An in-app notice for one staff user, written in their language when it was created."""

    class Kind(models.TextChoices):
        SLA = "sla", _("SLA")
        ESCALATED = "escalated", _("Escalated")
        HANDED_BACK = "handed_back", _("Handed back")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=500)
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
        return self.text


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
