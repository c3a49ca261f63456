"""Requesters, queues, tickets, messages, attachments, the event log, raw inbound mail."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Case, F, Func, Q, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Least, Left, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets import system_texts

# Text search configurations created by migration 0003 (the languages' stemmers). Documents and queries
# first fold accents with the SQL function acolhe_unaccent (same migration), so "ação" finds "acao" and the
# reverse. Search documents hold both configurations, since a thread mixes languages.
SEARCH_CONFIGS = ("acolhe_pt", "acolhe_en")
UNACCENT_FROM = "áàâãäåéèêëíìîïóòôõöúùûüýÿçñÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÝÇÑ"
UNACCENT_TO = "aaaaaaeeeeiiiiooooouuuuyycnAAAAAAEEEEIIIIOOOOOUUUUYCN"
UNACCENT_TABLE = str.maketrans(UNACCENT_FROM, UNACCENT_TO)
# to_tsvector refuses documents over 1 MB; the head of a very long mail is enough to find it.
SEARCH_MAX_CHARS = 100_000
# Search snippets are cut from this many first characters of a body: ts_headline parses all it is given, so a
# 2 MB mail (a pasted log, a forwarded archive) cost 1.85 s on every search it matched. A body longer than this
# keeps its opening in Message.search_excerpt, so a search never reads the whole body back; a shorter body is
# its own excerpt and is not copied.
SEARCH_EXCERPT_CHARS = 4_000


def search_excerpt(body: str) -> str | None:
    """What Message.search_excerpt holds for `body` (the database checks it on every write)."""
    return body[:SEARCH_EXCERPT_CHARS] if len(body) > SEARCH_EXCERPT_CHARS else None


def unaccent(expression) -> Func:
    return Func(expression, function="acolhe_unaccent")


# The columns `earliest_due` reads: an index on it carries them so that it is read alone.
BREACHING_CLOCKS = ("first_responded_at", "first_response_due_at", "next_response_due_at", "resolution_due_at")


def earliest_due() -> Least:
    """The earliest of a ticket's due times that still count: the first response's until it is answered, the
    next response's and the resolution's (NULL when none is set). "Breaching soon" is this within a few hours,
    and an index on it makes that count a short range scan."""
    first_response = Case(When(first_responded_at__isnull=True, then=F("first_response_due_at")))
    return Least(first_response, F("next_response_due_at"), F("resolution_due_at"))


def search_document(field: str) -> CombinedExpression:
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

    class ListMail(models.TextChoices):
        IGNORE = "ignore", _("Ignore it, with the reason (kept in the inbound mail list)")
        TICKET = "ticket", _("Open or continue a ticket, without an acknowledgement")

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
    assist_enabled = models.BooleanField(
        _("generative assist"),
        default=False,
        help_text=_(
            "Let associates ask the configured model for summaries, reply drafts, translations and second "
            "opinions on this queue's tickets. Restricted content is never sent; personal data is masked."
        ),
    )
    # Mail routed here from a mailing list or a null sender never gets an acknowledgement; this says
    # whether it becomes a ticket at all. A queue whose support address is itself a group (Google Groups
    # adds List-Id to every mail it passes on) wants tickets.
    list_mail = models.CharField(
        _("mail from mailing lists and null senders"),
        max_length=10,
        choices=ListMail.choices,
        default=ListMail.IGNORE,
        help_text=_(
            "Mail with List-Id, List-Unsubscribe, List-Post, X-Mailman or X-Loop headers, from -request@, "
            "-bounces@ or owner- addresses, or with an empty Return-Path. It is never acknowledged."
        ),
    )
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
    # Foreign keys whose own index would repeat the start of a composite one in Meta.indexes have none:
    # every index is written on every ticket update that is not HOT, and a ticket has many.
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    requester = models.ForeignKey(Requester, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged", db_index=False
    )
    follow_up_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
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
    # When each clock warns (a share of its target) and the resolution clock's pause. When the SLA sweep
    # must look at the ticket next lives in `SlaCheck`.
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
            # The sidebar's capped counts (per queue, all open, unassigned, pending) read the active tickets
            # here alone, with every column the visibility rule and those views test: no table row is read.
            models.Index(
                fields=["queue"],
                include=["id", "sensitivity", "status", "assignee"],
                name="ticket_active_queue_counts",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            # "Breaching soon" (workable tickets whose earliest due time is near) as a range of this one index.
            models.Index(
                earliest_due(),
                name="ticket_breaching_due",
                include=[*BREACHING_CLOCKS, "id", "queue", "sensitivity"],
                condition=Q(status__in=["new", "open", "on_hold"]),
            ),
            models.Index(F("updated_at").desc(), F("id").desc(), name="ticket_updated"),
            models.Index(fields=["queue", "status", "resolution_due_at"], name="ticket_queue_status_due"),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_status_frt_due"),
            # "My tickets", newest change first: only active tickets, each associate's in order.
            models.Index(
                F("assignee"),
                F("updated_at").desc(),
                F("id").desc(),
                name="ticket_mine_updated",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester"),
            models.Index(fields=["queue", "status", "-priority", "created_at"], name="ticket_queue_urgency"),
            # Few tickets are merged or follow-ups: partial indexes hold only those.
            models.Index(fields=["merged_into"], name="ticket_merged_into", condition=Q(merged_into__isnull=False)),
            models.Index(fields=["follow_up_of"], name="ticket_follow_up_of", condition=Q(follow_up_of__isnull=False)),
            GinIndex(fields=["tags"], name="ticket_tags_gin"),
            models.Index(
                fields=["resolution_paused_at"],
                name="ticket_sla_paused",
                condition=Q(resolution_paused_at__isnull=False),
            ),
        ]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self) -> str:
        if "child_safety" in (self.sensitivity or ()):
            # A ticket is named so where its reader is not known (the admin's lists, pickers and logs): a
            # child-safety subject is never shown there (docs/wellbeing.md).
            return str(_("#%(number)s (child-safety content)") % {"number": self.number})
        return f"#{self.number} {self.subject}"

    @property
    def tag(self) -> str:
        """The subject tag that threads a user's reply back onto this ticket."""
        return f"[#{self.number}]"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def sla_next_check_at(self) -> datetime | None:
        """When the SLA sweep must look at the ticket next; None when no clock is left to watch."""
        try:
            return self.sla_check.next_check_at
        except SlaCheck.DoesNotExist:
            return None


class SlaCheck(models.Model):
    """When the SLA sweep must look at a ticket next: the earliest warning or due time not yet behind it.
    Only tickets with such a time have a row.

    It has a narrow table of its own because the sweep moves it every time it looks: on the wide ticket row,
    whose many indexes each take a new entry on every update of an indexed column, that move cost more
    than everything else the sweep does."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla_check")
    next_check_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["next_check_at"], name="sla_check_next")]
        verbose_name = _("SLA check")
        verbose_name_plural = _("SLA checks")

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} at {self.next_check_at:%Y-%m-%d %H:%M}"


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

    # Indexed by message_ticket_created (ticket first).
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
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
    # When the message joined the ticket: a mail's arrival (for `import_mail`, its Date: the history keeps
    # its order), a reply's or note's saving. The thread and timeline are ordered by it.
    created_at = models.DateTimeField(default=timezone.now)
    # An inbound mail's own Date header, as the sender's client wrote it; the arrival time when the header
    # is missing, unparseable or in the future (the `message_received` event says which).
    written_at = models.DateTimeField(_("written at"), null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    search_document = models.GeneratedField(
        expression=search_document("body_text"), output_field=SearchVectorField(), db_persist=True, editable=False
    )
    # The opening of a body longer than SEARCH_EXCERPT_CHARS, for search snippets; null for a shorter body.
    # Set by save() and by every bulk write of body_text (erasure); the constraint below refuses a write that
    # would leave it out of step with the body, so erased or changed text can never linger here. Not a
    # generated column: adding one rewrites the whole table.
    search_excerpt = models.TextField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            GinIndex(fields=["search_document"], name="message_search_gin"),
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            models.Index(fields=["esp_message_id"], name="message_esp_id", condition=~Q(esp_message_id="")),
            # Written straight into the index, not into a pending list that every lookup reads through
            # until a vacuum empties it: threading looks a reply up by it for every mail.
            GinIndex(fields=["references"], name="message_references_gin", fastupdate=False),
            # Threading finds the replies that arrived before their parent by In-Reply-To as well.
            models.Index(fields=["in_reply_to"], name="message_in_reply_to", condition=~Q(in_reply_to="")),
            models.Index(
                fields=["delivery_status", "created_at"],
                name="message_outbox",
                condition=Q(delivery_status="queued"),
            ),
            models.Index(fields=["send_claimed_at"], name="message_sending", condition=Q(delivery_status="sending")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""), name="message_id_unique"),
            models.CheckConstraint(
                condition=Q(search_excerpt__isnull=True) | Q(search_excerpt=Left("body_text", SEARCH_EXCERPT_CHARS)),
                name="message_search_excerpt_in_step",
            ),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on #{self.ticket_id}"

    def save(self, *args, **kwargs):
        self.search_excerpt = search_excerpt(self.body_text)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body_text" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_excerpt"}
        super().save(*args, **kwargs)


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
    # The same reason as a system text (code and parameters), put into words in each reader's language.
    omitted = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def omitted_text(self) -> str:
        """Why the file was not kept, in the reader's language (the stored text for rows written before)."""
        return system_texts.render(
            self.omitted.get("code", ""), self.omitted.get("params"), fallback=self.omitted_reason
        )


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
        MESSAGE_ID_REUSED = "message_id_reused", _("Message-ID reused by another mail")
        SENSITIVITY_FLAGGED = "sensitivity_flagged", _("Sensitive content flagged")
        SENSITIVITY_CLEARED = "sensitivity_cleared", _("Sensitive content flag cleared")
        ESCALATION_CLAIMED = "escalation_claimed", _("Escalation taken")

    # Indexed by event_ticket_created and event_actor_created (each column first).
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_events",
        db_index=False,
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
            models.Index(fields=["actor", "created_at"], name="event_actor_created"),
            models.Index(fields=["message"], name="event_message", condition=Q(message__isnull=False)),
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
