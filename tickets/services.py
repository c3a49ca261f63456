"""Writes on tickets that carry business rules. Every change to a ticket writes a `TicketEvent`.

Names: everything here takes instances (a ticket, a requester) and trusts its caller, who read them
through the actor's access rules and holds the row lock where it writes: the checked entry points that
take a ticket number and the acting user are in `tickets.workspace.services` (pages, API) and the topic
packages. The acting user is `actor`, keyword-only; `actor=None` is the system (mail, rules, the sweep).
Events go to an `EventLog` when the caller passes one as `log=`, so a path through several services writes
them once and in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Func, IntegerField
from django.db.models.functions import Left, Length
from django.utils import timezone, translation

from tickets import db, signals, sla, system_texts
from tickets.models import (
    SEARCH_EXCERPT_CHARS,
    Attachment,
    Message,
    Queue,
    Requester,
    SlaPolicy,
    Ticket,
    TicketEvent,
)

Kind = TicketEvent.Kind

# Which event kind each editable field writes.
FIELD_EVENTS = {
    "status": Kind.STATUS_CHANGED,
    "priority": Kind.PRIORITY_CHANGED,
    "assignee": Kind.ASSIGNED,
    "queue": Kind.QUEUE_CHANGED,
    "tags": Kind.TAGS_CHANGED,
    "language": Kind.LANGUAGE_CHANGED,
    "subject": Kind.SUBJECT_CHANGED,
}


class EventLog:
    """The events of one action, collected in the order they happen and written once (`flush`, one INSERT
    whose ids keep that order). A path on which several services log events (a mail: opening its ticket,
    inheriting a closed ticket's restrictions, flagging, reopening, acknowledging) creates one log and
    passes it to each of them as `log=`; the timeline then reads in the order things happened, and the path
    pays one statement for all its events. A service given no log writes its events as it goes."""

    def __init__(self) -> None:
        self._events: list[TicketEvent] = []

    def add(
        self,
        ticket: Ticket,
        kind: str,
        *,
        actor: User | None = None,
        old: Any = None,
        new: Any = None,
        message: Message | None = None,
        created_at: datetime | None = None,
    ) -> TicketEvent:
        """Append one event (unsaved until the log is flushed)."""
        event = TicketEvent(ticket=ticket, kind=kind, actor=actor, old_value=old, new_value=new, message=message)
        if created_at is not None:
            event.created_at = created_at
        self._events.append(event)
        return event

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[TicketEvent]:
        return iter(self._events)

    def take(self) -> list[TicketEvent]:
        """The events collected so far, in order, leaving the log empty: for a persistence shortcut that
        writes them inside a statement of its own (`db.finish_applied_mail`)."""
        events, self._events = self._events, []
        return events

    def flush(self) -> None:
        """Write the events collected so far in one INSERT, in order."""
        record_events(self.take())


def record_event(
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None = None,
    old: Any = None,
    new: Any = None,
    message: Message | None = None,
    log: EventLog | None = None,
) -> TicketEvent:
    """Append one event to the ticket's log: to `log` when given (written when it is flushed), else now."""
    if log is not None:
        return log.add(ticket, kind, actor=actor, old=old, new=new, message=message)
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, old_value=old, new_value=new, message=message
    )


def record_events(events: Iterable[TicketEvent]) -> None:
    """Write unsaved events in one INSERT. Their ids follow the order given, as separate `record_event`
    calls in that order would number them; the objects are not updated with their ids."""
    db.insert_events(events)


def _event_value(field: str, value: Any) -> Any:
    # Foreign keys are logged by id (and a label for the timeline); the rest as JSON values.
    if field == "assignee":
        return None if value is None else {"id": value.pk, "name": value.get_full_name() or value.get_username()}
    if field == "queue":
        return None if value is None else {"id": value.pk, "name": value.name}
    return value


def _apply_status_timestamps(ticket: Ticket, new_status: str) -> None:
    now = timezone.now()
    if new_status == Ticket.Status.SOLVED:
        ticket.solved_at = now
    elif new_status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif new_status in Ticket.ACTIVE_STATUSES:
        ticket.solved_at = None
        ticket.closed_at = None


@transaction.atomic
def update_ticket(
    ticket: Ticket, *, actor: User | None, log: EventLog | None = None, **changes: Any
) -> list[TicketEvent]:
    """Change any of status, priority, assignee, queue, tags, language, subject; one event per real change
    (to `log` when given)."""
    unknown = set(changes) - set(FIELD_EVENTS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    events = []
    changed_fields = []
    old_status = ticket.status
    for field, new in changes.items():
        if field == "tags":
            new = normalise_tags(new)
        old = getattr(ticket, field)
        if old == new:
            continue
        setattr(ticket, field, new)
        changed_fields.append(field)
        if field == "status":
            _apply_status_timestamps(ticket, new)
            changed_fields += ["solved_at", "closed_at"]
        events.append((FIELD_EVENTS[field], _event_value(field, old), _event_value(field, new)))
    if not changed_fields:
        return []
    ticket.save(update_fields=[*dict.fromkeys(changed_fields), "updated_at"])
    if "status" in changed_fields:
        sla.on_status_change(ticket, old_status, ticket.status)
    recorded = [record_event(ticket, kind, actor=actor, old=old, new=new, log=log) for kind, old, new in events]
    if ticket.status == Ticket.Status.SOLVED and old_status != Ticket.Status.SOLVED:
        signals.ticket_solved.send(sender=Ticket, ticket=ticket)
    return recorded


def record_changes(ticket: Ticket, changes: Iterable[tuple[str, Any, Any]], *, actor: User | None) -> None:
    """Log changes already written to the ticket row, as (field, old, new): the same events `update_ticket`
    writes, all in one INSERT (one `EventLog`), for callers that save the row themselves in a single
    statement."""
    now = timezone.now()
    log = EventLog()
    for field, old, new in changes:
        log.add(
            ticket,
            FIELD_EVENTS[field],
            actor=actor,
            old=_event_value(field, old),
            new=_event_value(field, new),
            created_at=now,
        )
    log.flush()


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Tags are lower case, without spaces, unique, sorted."""
    return sorted({t.strip().lower().replace(" ", "-") for t in tags if t and t.strip()})


def upsert_requester(email: str, name: str = "", language: str = "") -> tuple[Requester, bool]:
    """Find the requester by address (any case) or create one; fill in a missing name and take the
    language given. Returns (requester, created). One statement, on the case-insensitive unique index; it
    locks the requester's row until commit, so mail from one requester is applied in turn (routing and the
    auto-acknowledgement limit depend on it)."""
    return db.upsert_requester(email.strip(), name, language, timezone.now())


def open_ticket(
    *,
    requester: Requester,
    queue: Queue,
    subject: str,
    language: str,
    actor: User | None = None,
    follow_up_of: Ticket | None = None,
    priority: int = Ticket.Priority.NORMAL,
    sla_policy_for: Callable[[int, int], SlaPolicy | None] | None = None,
    log: EventLog | None = None,
    last_message_at: datetime | None = None,
    opened_at: datetime | None = None,
) -> Ticket:
    """Create a ticket and its `created` event, and start its SLA clocks. `sla_policy_for(queue_id,
    priority)`, when given, says which SLA policy applies, so a caller opening many tickets in one
    transaction can look each policy up once. The `created` event (and a follow-up's `follow_up_opened` on
    the closed ticket) go to `log` when given, else are written now."""
    ticket = Ticket(
        requester=requester,
        queue=queue,
        subject=subject[:500],
        language=language,
        follow_up_of=follow_up_of,
        priority=priority,
        last_message_at=last_message_at,
        # A mail opens its ticket when it arrived (`import_mail`: when it was written), not when applied.
        created_at=opened_at or timezone.now(),
    )
    # The clocks' targets go in with the INSERT: one write of the row (and of its indexes), not two.
    sla.set_clocks(ticket, ticket.created_at, policy=(sla_policy_for or sla.policy_for)(queue.pk, priority))
    ticket.save(force_insert=True)
    # A ticket just opened has no SLA check row: known, so nothing has to look for one.
    Ticket.sla_check.related.set_cached_value(ticket, None)
    own_log = log is None
    log = EventLog() if log is None else log
    log.add(
        ticket,
        Kind.CREATED,
        actor=actor,
        new={"queue": queue.slug, "language": language, "follow_up_of": follow_up_of and follow_up_of.number},
        created_at=ticket.created_at if opened_at else None,
    )
    if follow_up_of is not None:
        log.add(
            follow_up_of,
            Kind.FOLLOW_UP_OPENED,
            actor=actor,
            new={"ticket": ticket.number},
            created_at=ticket.created_at if opened_at else None,
        )
    if own_log:
        log.flush()
    sla.store_next_check(ticket)
    return ticket


def add_note(ticket: Ticket, *, actor: User | None, body: str, message_id: str = "") -> tuple[Message, TicketEvent]:
    """An internal note on the ticket (never mailed) and its `note_added` event. `message_id` names the
    draft it came from, so a second press of the same draft is recognised (workspace `reply`)."""
    message = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.NOTE,
        author=actor,
        body_text=body,
        message_id=message_id,
        delivery_status=Message.Delivery.NOT_SENT,
        language=ticket.language,
    )
    return message, record_event(ticket, Kind.NOTE_ADDED, actor=actor, message=message)


def attachment_too_large(size: int) -> bool:
    """Larger than `ACOLHE_MAX_ATTACHMENT_BYTES`, the one limit for files that come with mail or a reply."""
    return size > settings.ACOLHE_MAX_ATTACHMENT_BYTES


def store_attachment(
    message: Message,
    content: bytes,
    *,
    filename: str,
    content_type: str,
    content_id: str = "",
    is_inline: bool = False,
) -> Attachment:
    """Keep one file of a message under its SHA-256. A file over the limit keeps only its row, with the reason
    (the raw mail still holds it); callers that can refuse it (a reply's upload) check `attachment_too_large`
    first. Trusts its caller: the message is already the actor's to write on."""
    attachment = Attachment(
        message=message,
        filename=(filename or "attachment")[:255],
        content_type=(content_type or "application/octet-stream")[:255],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content_id=content_id[:255],
        is_inline=is_inline,
    )
    if attachment_too_large(len(content)):
        attachment.omitted = system_texts.text(
            "attachment_too_large", limit=settings.ACOLHE_MAX_ATTACHMENT_BYTES // (1024 * 1024)
        )
        with translation.override("en"):  # the stored text, for readers of the raw row (admin, old clients)
            attachment.omitted_reason = attachment.omitted_text
        attachment.save()
    else:
        attachment.file.save(attachment.sha256, ContentFile(content), save=True)
    return attachment


def fill_search_excerpts(*, after: int = 0, batch_size: int = 5_000) -> tuple[int, int]:
    """Give one batch of long bodies written before Message.search_excerpt existed their excerpt: the
    messages with ids after `after` (at most `batch_size` of them, in id order). Returns (the last id looked
    at, or 0 when none is left; how many got an excerpt). Idempotent; each batch is its own transaction."""
    ids = list(Message.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
    if not ids:
        return 0, 0
    # octet_length reads a stored body's size without reading the body back, and a body has at least as
    # many bytes as letters: only the few bodies it lets through are read to count their letters.
    filled = (
        Message.objects.filter(pk__gte=ids[0], pk__lte=ids[-1], search_excerpt__isnull=True)
        .alias(size=Func(F("body_text"), function="octet_length", output_field=IntegerField()))
        .filter(size__gt=SEARCH_EXCERPT_CHARS)
        .alias(letters=Length("body_text"))
        .filter(letters__gt=SEARCH_EXCERPT_CHARS)
        .update(search_excerpt=Left("body_text", SEARCH_EXCERPT_CHARS))
    )
    return ids[-1], filled
