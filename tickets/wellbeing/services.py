"""Writes for associate wellbeing: flag a message and its ticket, clear a false flag, log reveals and
access to sensitive content, record exposure, pause intake."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import escalations, selectors, services, sla
from tickets.email.parsing import html_to_text
from tickets.models import (
    Attachment,
    Escalation,
    EscalationRule,
    ExposureBudget,
    ExposureEntry,
    FlagClearance,
    Message,
    Queue,
    Role,
    SensitiveAccessLog,
    Ticket,
)
from tickets.wellbeing.detection import CATEGORIES, Category, Verdict, get_classifier

logger = logging.getLogger(__name__)

# The tag that makes the self-harm SOP (and any other procedure tagged so) apply to a ticket.
SELF_HARM_TAG = "self-harm"
# Only text attachments are read, and only their head: the scan is on the inbound hot path.
TEXT_ATTACHMENT_BYTES = 20_000
# Every field of a message that the ticket page (`templates/tickets/_thread.html`) shows an associate.
# Each is scanned; a test fails when the page shows a field that is not listed here.
SHOWN_TEXT_FIELDS = ("from_name", "from_address", "subject", "body_text", "quoted_text")
SHOWN_HTML_FIELDS = ("body_html", "quoted_html")
# Attachments an associate can read as text: any text/* type, and the usual text files sent as
# application/octet-stream by clients that do not know better.
TEXT_ATTACHMENT_EXTENSIONS = (".txt", ".text", ".csv", ".log", ".md", ".htm", ".html", ".eml", ".ics", ".vcf")


def scan_message(message: Message, attachments: Iterable = ()) -> Verdict:
    """Classify an inbound message over everything an associate can be shown of it (see `shown_text`); a
    flagged result is stored on the message and rolled up on its ticket. Writes nothing when clean."""
    verdict = classify_message(message, attachments)
    if verdict:
        store_verdict(message, verdict)
    return verdict


def classify_message(message: Message, attachments: Iterable = ()) -> Verdict:
    """`scan_message`'s verdict without writing it, for a caller that has writes of its own to make first
    when the message is flagged; `store_verdict` then writes it."""
    return get_classifier().classify(shown_text(message, attachments))


def shown_text(message: Message, attachments: Iterable = ()) -> str:
    """All the text an associate can be shown of a message: sender name, subject, the visible text and the
    quoted history, the HTML of both rendered as text (it may differ from the text part), and each
    attachment's name and, for a text attachment, the head of its content. `attachments` are the parsed
    parts (with `content`) or stored `Attachment` rows (their file is read)."""
    parts = [getattr(message, name) or "" for name in SHOWN_TEXT_FIELDS]
    parts += [html_to_text(getattr(message, name)) for name in SHOWN_HTML_FIELDS if getattr(message, name)]
    for attachment in attachments:
        filename = getattr(attachment, "filename", "") or ""
        parts.append(filename)
        if is_text_attachment(filename, getattr(attachment, "content_type", "") or ""):
            head = _attachment_head(attachment)
            parts.append(html_to_text(head) if filename.lower().endswith((".htm", ".html")) else head)
    return "\n".join(p for p in parts if p)


def is_text_attachment(filename: str, content_type: str) -> bool:
    return content_type.lower().startswith("text/") or filename.lower().endswith(TEXT_ATTACHMENT_EXTENSIONS)


def _attachment_head(attachment) -> str:
    content = getattr(attachment, "content", None)
    if content is None:
        stored = getattr(attachment, "file", None)
        if not stored:
            return ""
        with stored.open("rb") as handle:
            content = handle.read(TEXT_ATTACHMENT_BYTES)
    head = bytes(content[:TEXT_ATTACHMENT_BYTES])
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a letter cut in two at the end of the head
            return head[: exc.start].decode("utf-8", errors="replace")
        return head.decode("windows-1252", errors="replace")


def store_verdict(message: Message, verdict: Verdict) -> None:
    """Keep a flagged verdict on the message and roll it up on its ticket."""
    message.sensitivity = verdict.as_json()
    message.save(update_fields=["sensitivity"])
    flag_ticket(message.ticket, verdict.categories)


@transaction.atomic
def flag_ticket(ticket: Ticket, categories: Iterable[str]) -> list[str]:
    """Add categories to the ticket's sensitivity and act on the new ones: self-harm makes the ticket urgent
    and brings its SOP and crisis macro; child safety puts it under legal hold and escalates it to Trust &
    Safety. The `sensitive_content` escalation rules run too. Returns the categories that were new."""
    new = [c for c in categories if c in CATEGORIES and c not in ticket.sensitivity]
    if not new:
        return []
    ticket.sensitivity = sorted({*ticket.sensitivity, *new})
    update = ["sensitivity", "updated_at"]
    if Category.CHILD_SAFETY in new and not ticket.legal_hold:
        ticket.legal_hold = True
        update.append("legal_hold")
    ticket.save(update_fields=update)
    if Category.SELF_HARM in new:
        changes: dict = {"tags": [*ticket.tags, SELF_HARM_TAG]}
        raise_priority = ticket.priority < Ticket.Priority.URGENT
        if raise_priority:
            changes["priority"] = Ticket.Priority.URGENT
        services.update_ticket(ticket, actor=None, **changes)
        if raise_priority and ticket.first_responded_at is None:
            # Still unanswered: its clocks follow the urgent policy, counted from when it was opened.
            sla.start_clocks(ticket, now=ticket.created_at)
    escalations.run_rules(ticket, EscalationRule.Trigger.SENSITIVE_CONTENT)
    if Category.CHILD_SAFETY in new:
        _escalate_to_trust_and_safety(ticket)
    return new


def trust_and_safety_queue() -> Queue | None:
    return Queue.objects.filter(slug=settings.ACOLHE_TRUST_SAFETY_QUEUE).first()


def _escalate_to_trust_and_safety(ticket: Ticket) -> None:
    queue = trust_and_safety_queue()
    if queue is None:
        logger.error("child-safety ticket #%s: no queue %r", ticket.number, settings.ACOLHE_TRUST_SAFETY_QUEUE)
        return
    if ticket.escalations.filter(status=Escalation.Status.OPEN, target_queue=queue).exists():
        return
    if queue.kind != Queue.Kind.CROSS_FUNCTIONAL:
        logger.error("child-safety ticket #%s: %s is not a cross-functional queue", ticket.number, queue.slug)
        return
    escalations.escalate(ticket, target_queue=queue, reason=_("Child-safety content found by the scanner."))


def can_clear(user: AbstractBaseUser, ticket: Ticket, category: str) -> bool:
    if category == Category.CHILD_SAFETY:
        return selectors.is_admin(user) or selectors.has_role(user, Role.SPECIALIST)
    return True


@transaction.atomic
def clear_flag(user: AbstractBaseUser, number: int, category: str, note: str = "") -> FlagClearance:
    """An associate judges a category a false flag: it leaves the ticket and the clearance is recorded
    (leads read the scanner's precision from these). A legal hold stays until an admin lifts it."""
    ticket = selectors.tickets_visible_to(user).select_for_update(of=("self",)).filter(number=number).first()
    if ticket is None:
        raise PermissionDenied(_("You cannot see this ticket."))
    if category not in ticket.sensitivity:
        raise ValidationError(_("This ticket is not flagged for that category."))
    if not can_clear(user, ticket, category):
        raise PermissionDenied(_("Only the specialist team can clear a child-safety flag."))
    ticket.sensitivity = [c for c in ticket.sensitivity if c != category]
    ticket.save(update_fields=["sensitivity", "updated_at"])
    return FlagClearance.objects.create(ticket=ticket, category=category, cleared_by=user, note=note.strip()[:500])


def log_access(
    user: AbstractBaseUser, ticket: Ticket, kind: str, *, attachment: Attachment | None = None, detail: str = ""
) -> SensitiveAccessLog:
    return SensitiveAccessLog.objects.create(
        user=user, ticket=ticket, kind=kind, attachment=attachment, detail=detail[:300]
    )


def log_reveal(
    user: AbstractBaseUser, number: int, *, attachment_id: int | None, source: str = ""
) -> SensitiveAccessLog:
    """An associate chose to see one blurred image or video: logged with the attachment when it is ours."""
    ticket = selectors.tickets_visible_to(user).filter(number=number).first()
    if ticket is None:
        raise PermissionDenied(_("You cannot see this ticket."))
    attachment = None
    if attachment_id is not None:
        attachment = Attachment.objects.filter(pk=attachment_id, message__ticket=ticket).first()
    return log_access(user, ticket, SensitiveAccessLog.Kind.REVEAL, attachment=attachment, detail=source)


def budget_for(user: AbstractBaseUser, *, lock: bool = False) -> ExposureBudget:
    if lock:
        # Most associates have their row already: lock it in one query, create it only the first time.
        budget = _locked_budget(user.pk)
        if budget is not None:
            return budget
    budget, _ = ExposureBudget.objects.get_or_create(user=user)
    if lock:
        budget = ExposureBudget.objects.select_for_update().get(pk=budget.pk)
    return budget


def _locked_budget(user_id: int) -> ExposureBudget | None:
    # A raw query (Django still builds the instance): routing takes this lock on every press of Next
    # ticket, and compiling the ORM query cost more than running it.
    sql = f"SELECT * FROM {ExposureBudget._meta.db_table} WHERE user_id = %s FOR UPDATE"
    return next(iter(ExposureBudget.objects.raw(sql, [user_id])), None)


def set_intake_paused(user: AbstractBaseUser, paused: bool) -> ExposureBudget:
    """Pause or resume intake: while paused, Next ticket gives the associate nothing."""
    with transaction.atomic():
        budget = budget_for(user, lock=True)
        budget.intake_paused_at = (budget.intake_paused_at or timezone.now()) if paused else None
        budget.save(update_fields=["intake_paused_at"])
    return budget


def record_intake(user: AbstractBaseUser, ticket: Ticket) -> ExposureEntry:
    """Count a ticket taken with Next ticket towards the associate's shift (call inside the routing
    transaction, with the budget row locked). A ticket they took before stays counted once, as then."""
    table = ExposureEntry._meta.db_table
    # One statement instead of get_or_create's read, savepoint, insert and release: this runs on every press.
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH added AS (INSERT INTO {table} (user_id, ticket_id, sensitive, categories, taken_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, ticket_id) DO NOTHING "
            "RETURNING id, sensitive, categories, taken_at) "
            "SELECT id, sensitive, categories, taken_at FROM added UNION ALL "
            f"SELECT id, sensitive, categories, taken_at FROM {table} "
            "WHERE user_id = %s AND ticket_id = %s AND NOT EXISTS (SELECT 1 FROM added)",
            [
                user.pk,
                ticket.pk,
                bool(ticket.sensitivity),
                list(ticket.sensitivity),
                timezone.now(),
                user.pk,
                ticket.pk,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        # The entry that stood in the way was committed after this statement began: read it afresh.
        return ExposureEntry.objects.get(user=user, ticket=ticket)
    entry_id, sensitive, categories, taken_at = row
    entry = ExposureEntry(
        id=entry_id, user=user, ticket=ticket, sensitive=sensitive, categories=categories, taken_at=taken_at
    )
    entry._state.adding = False
    return entry


def log_child_safety_access(user: AbstractBaseUser, ticket: Ticket, *, attachment: Attachment | None = None) -> None:
    """Every access to child-safety content is logged: ticket page views and attachment downloads."""
    if Category.CHILD_SAFETY not in ticket.sensitivity:
        return
    kind = SensitiveAccessLog.Kind.ATTACHMENT if attachment is not None else SensitiveAccessLog.Kind.VIEW
    log_access(user, ticket, kind, attachment=attachment)
