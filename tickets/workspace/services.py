"""Writes from the associate workspace: field changes, replies and notes, merges and bulk actions.

Names: the acting user is `actor`, keyword-only. A function that takes ticket numbers (or a message id)
and the actor checks access through the selectors and locks the rows (`update_fields`, `reply`, `resend`,
`merge`, `bulk_update`, `lock_visible_ticket`), so pages and the API apply the same rules; a ticket the
actor cannot see raises `PermissionDenied`. A function that takes a ticket instance (`change_fields`,
`collisions`, `newer_replies`) trusts its caller to have locked it through `lock_visible_ticket`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tickets import selectors, services
from tickets.email import outbound
from tickets.language import interface_language
from tickets.models import Message, Queue, Ticket, TicketEvent
from tickets.wellbeing import services as wellbeing

Kind = TicketEvent.Kind
# Statuses an associate may finish a reply with ("send and set status").
REPLY_STATUSES = (Ticket.Status.OPEN, Ticket.Status.PENDING, Ticket.Status.ON_HOLD, Ticket.Status.SOLVED)


class ReplyConflict(Exception):
    """Someone else answered the requester, or took or solved the ticket, after the actor loaded it."""

    def __init__(self, messages: Sequence[Message], notices: Sequence[str] = ()):
        super().__init__(f"{len(messages)} newer message(s)")
        self.messages = list(messages)
        self.notices = list(notices)


# Optimistic concurrency for writes from a page. A page carries `seen_event`, the newest event id when it was
# rendered (`latest_event_id`); a write from it is refused when someone else took, solved or answered one of
# its tickets after that, instead of silently overriding what they did. The actor's own events, and the
# system's (a requester's mail reopening a ticket), do not count.
COLLIDING_KINDS = (Kind.ASSIGNED, Kind.STATUS_CHANGED, Kind.REPLY_SENT)
COLLIDING_STATUSES = (Ticket.Status.SOLVED.value, Ticket.Status.CLOSED.value)


def latest_event_id() -> int:
    """The version a list shows: the newest event id of all, 0 when there is none. (A ticket page's is its
    ticket's newest, `db.ticket_page_facts`.)"""
    return TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _ago(moment) -> str:
    seconds = max(int((timezone.now() - moment).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def collisions(tickets: Sequence[Ticket], seen_event: int | None, *, actor: User) -> list[str]:
    """What others did to `tickets` since event `seen_event`, one translated sentence per ticket (its
    latest such change): "Ana Souza took this ticket 5 s ago." Empty when nothing collides."""
    if seen_event is None or not tickets:
        return []
    events = (
        TicketEvent.objects.filter(ticket__in=tickets, pk__gt=seen_event, kind__in=COLLIDING_KINDS)
        .exclude(actor=actor)
        .exclude(actor__isnull=True)
        .select_related("actor", "ticket")
        .order_by("-pk")
    )
    numbers = {ticket.pk: ticket.number for ticket in tickets}
    found: dict[int, str] = {}
    for event in events:
        if event.ticket_id in found:
            continue
        if event.kind == Kind.STATUS_CHANGED and event.new_value not in COLLIDING_STATUSES:
            continue
        if event.kind == Kind.ASSIGNED and not event.new_value:
            continue
        values = {"name": _name(event.actor), "ago": _ago(event.created_at)}
        if event.kind == Kind.ASSIGNED:
            text = _("%(name)s took this ticket %(ago)s ago.") % values
        elif event.kind == Kind.STATUS_CHANGED:
            text = _("%(name)s solved this ticket %(ago)s ago.") % values
        else:
            text = _("%(name)s answered this ticket %(ago)s ago.") % values
        found[event.ticket_id] = text if len(tickets) == 1 else f"#{numbers[event.ticket_id]}: {text}"
    return [found[t.pk] for t in tickets if t.pk in found]


def refuse_collisions(tickets: Sequence[Ticket], seen_event: int | None, *, actor: User) -> None:
    """Raise a ValidationError naming who changed what, when a page's view of `tickets` went stale."""
    found = collisions(tickets, seen_event, actor=actor)
    if found:
        raise ValidationError(
            [*found, _("Your change was not applied: look at the ticket again and repeat it if you still mean it.")]
        )


def lock_visible_ticket(number: int, *, actor: User) -> Ticket:
    """The ticket, row-locked for the rest of the transaction, if the actor may work on it."""
    ticket = (
        selectors.tickets_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("queue", "requester", "assignee")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise PermissionDenied(_("You cannot work on this ticket."))
    return ticket


def _check_assignee(ticket_queue: Queue, assignee: User | None) -> None:
    if assignee is None:
        return
    if not assignee.is_active or not selectors.queues_visible_to(assignee).filter(pk=ticket_queue.pk).exists():
        raise ValidationError(
            _("%(user)s is not a member of the queue %(queue)s.")
            % {
                "user": assignee.get_username(),
                "queue": ticket_queue.name,
            }
        )


def _check_queue(actor: User, queue: Queue) -> None:
    if not selectors.queues_visible_to(actor).filter(pk=queue.pk).exists():
        raise PermissionDenied(_("You cannot move tickets to the queue %(queue)s.") % {"queue": queue.name})


def change_fields(ticket: Ticket, *, actor: User, **changes: Any) -> list[TicketEvent]:
    """Edit status, priority, queue, assignee, tags, language or subject of a ticket the actor can see
    (the ticket must be locked by the caller). A moved ticket keeps its assignee only if they can see the
    new queue."""
    if "queue" in changes and changes["queue"] is not None and changes["queue"] != ticket.queue:
        _check_queue(actor, changes["queue"])
        if "assignee" not in changes and ticket.assignee is not None:
            try:
                _check_assignee(changes["queue"], ticket.assignee)
            except ValidationError:
                changes["assignee"] = None
    if "assignee" in changes:
        _check_assignee(changes.get("queue") or ticket.queue, changes["assignee"])
    if "status" in changes and changes["status"] not in Ticket.Status.values:
        raise ValidationError(_("Unknown status."))
    return services.update_ticket(ticket, actor=actor, **changes)


@transaction.atomic
def update_fields(
    number: int, *, actor: User, seen_event: int | None = None, **changes: Any
) -> tuple[Ticket, list[TicketEvent]]:
    """Edit fields of one ticket; refused when someone else took, solved or answered it after `seen_event`."""
    ticket = lock_visible_ticket(number, actor=actor)
    refuse_collisions([ticket], seen_event, actor=actor)
    return ticket, change_fields(ticket, actor=actor, **changes)


def signature_for(queue: Queue, language: str) -> str:
    signatures = queue.signatures or {}
    return (signatures.get(language) or "").strip()


def _store_uploads(message: Message, uploads: Iterable[UploadedFile]) -> None:
    for upload in uploads:
        if services.attachment_too_large(upload.size or 0):
            limit = settings.ACOLHE_MAX_ATTACHMENT_BYTES // (1024 * 1024)
            raise ValidationError(_("%(name)s is larger than %(limit)s MB.") % {"name": upload.name, "limit": limit})
        services.store_attachment(
            message,
            upload.read(),
            filename=upload.name or "attachment",
            content_type=upload.content_type or "application/octet-stream",
        )


@dataclass(frozen=True)
class ReplyActions:
    """Field changes made in the same transaction as a reply (a macro's actions), checked as if the actor
    made them by hand (`change_fields`). Its status replaces the reply's own "send and set status"."""

    status: str = ""
    priority: int | None = None
    add_tags: Sequence[str] = ()
    queue: Queue | None = None

    def changes_for(self, ticket: Ticket) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if self.status:
            changes["status"] = self.status
        if self.priority:
            changes["priority"] = self.priority
        if self.add_tags:
            changes["tags"] = [*ticket.tags, *self.add_tags]
        if self.queue is not None and self.queue.pk != ticket.queue_id:
            changes["queue"] = self.queue
        return changes


@dataclass
class ReplyResult:
    ticket: Ticket
    message: Message
    events: list[TicketEvent]
    # A second press of Send on the same draft: nothing new was written, `message` is the first one.
    repeated: bool = False


def newer_replies(ticket: Ticket, seen_message_id: int | None, *, actor: User) -> list[Message]:
    """Replies and notes written by others after the message the actor last saw."""
    if seen_message_id is None:
        return []
    return list(
        ticket.messages.filter(pk__gt=seen_message_id, direction__in=[Message.Direction.OUT, Message.Direction.NOTE])
        .exclude(author=actor)
        .exclude(author__isnull=True)
        .select_related("author")
    )


@transaction.atomic
def reply(
    number: int,
    body: str,
    *,
    actor: User,
    internal: bool = False,
    set_status: str | None = None,
    uploads: Sequence[UploadedFile] = (),
    seen_message_id: int | None = None,
    confirmed: bool = False,
    draft: str = "",
    actions: ReplyActions | None = None,
    seen_event: int | None = None,
) -> ReplyResult:
    """Answer the requester by email or add an internal note, then optionally set the status and apply
    `actions`, all in one transaction and one field change: mail (the reply, a satisfaction survey) is
    queued only on commit, for the final status. Raises `ReplyConflict` when someone else wrote since
    `seen_message_id` and the actor has not confirmed. `draft` is the composer form's token: the same text
    sent again from the same form (a second press of Send, a browser retry after an error page) returns the
    first message with `repeated` set, and writes nothing."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write something first."))
    if set_status and set_status not in REPLY_STATUSES:
        raise ValidationError(_("Unknown status."))
    ticket = lock_visible_ticket(number, actor=actor)
    signature = signature_for(ticket.queue, ticket.language)
    text = body if internal or not signature else f"{body}\n\n-- \n{signature}"
    message_id = outbound.draft_message_id(ticket, actor, draft) if draft else ""
    if message_id:
        # The ticket's row lock (above) makes two presses of the same form wait for each other here.
        earlier = Message.objects.filter(message_id=message_id).first()
        if earlier is not None and earlier.ticket_id == ticket.pk and earlier.body_text == text:
            return ReplyResult(ticket, earlier, [], repeated=True)
        if earlier is not None:
            # Another text from the same form (a page kept from before, reopened in a second tab): its own mail.
            message_id = ""
    if not confirmed:
        conflicts = newer_replies(ticket, seen_message_id, actor=actor)
        notices = collisions([ticket], seen_event, actor=actor)
        if conflicts or notices:
            raise ReplyConflict(conflicts, notices)
    events: list[TicketEvent] = []
    now = timezone.now()
    if internal:
        message, note_event = services.add_note(ticket, actor=actor, body=text, message_id=message_id)
        _store_uploads(message, uploads)
        events.append(note_event)
    else:
        message = outbound.queue_outbound(ticket, body_text=text, author=actor, message_id=message_id)
        _store_uploads(message, uploads)
        events.append(services.record_event(ticket, Kind.REPLY_SENT, actor=actor, message=message))
        # The SLA clocks (first response included) stop inside `queue_outbound`.
        ticket.last_message_at = now
        ticket.save(update_fields=["last_message_at", "updated_at"])
    changes: dict[str, Any] = {}
    if ticket.assignee_id is None and not selectors.is_admin(actor):
        changes["assignee"] = actor
    if set_status:
        changes["status"] = set_status
    elif not internal and ticket.status == Ticket.Status.NEW:
        changes["status"] = Ticket.Status.OPEN
    if actions is not None:
        changes.update(actions.changes_for(ticket))
    if changes:
        events += change_fields(ticket, actor=actor, **changes)
    return ReplyResult(ticket, message, events)


@transaction.atomic
def resend(message_pk: int, *, actor: User) -> Message:
    """Queue a failed or bounced reply for sending again."""
    message = (
        Message.objects.select_for_update(of=("self",))
        .filter(pk=message_pk, direction=Message.Direction.OUT, ticket__in=selectors.tickets_visible_to(actor))
        .select_related("ticket")
        .first()
    )
    if message is None:
        raise PermissionDenied(_("You cannot resend this message."))
    if message.delivery_status not in (Message.Delivery.FAILED, Message.Delivery.BOUNCED):
        raise ValidationError(_("Only failed or bounced messages can be sent again."))
    old = message.delivery_status
    message.delivery_status = Message.Delivery.QUEUED
    message.delivery_error = ""
    # A fresh round of attempts; the same Message-ID, so a copy that did arrive threads as the same mail.
    message.send_attempts = 0
    message.send_claimed_at = None
    message.save(update_fields=["delivery_status", "delivery_error", "send_attempts", "send_claimed_at"])
    services.record_event(message.ticket, Kind.DELIVERY_CHANGED, actor=actor, old=old, new="queued", message=message)
    transaction.on_commit(lambda: outbound.enqueue_send(message.pk), robust=True)
    return message


@transaction.atomic
def merge(source_number: int, target_number: int, *, actor: User, restrict_target: bool = False) -> Ticket:
    """Merge a duplicate into another ticket: its messages move, it closes pointing at the target, and its
    requester is told by email, on their own thread, that the conversation continues. Restrictions are
    sticky: the target takes the strictest sensitivity, legal hold and open escalations of the two. Moving
    restricted content (child safety) onto a ticket that lacks the restriction is refused unless the actor
    says the target takes it (`restrict_target`); the target then leaves the view of everyone the
    restriction excludes, its assignee included (the actor takes it over)."""
    if source_number == target_number:
        raise ValidationError(_("A ticket cannot be merged into itself."))
    # Lock in a fixed order so two opposite merges cannot deadlock.
    first, second = sorted([source_number, target_number])
    locked = {n: lock_visible_ticket(n, actor=actor) for n in (first, second)}
    source, target = locked[source_number], locked[target_number]
    if source.merged_into_id or target.merged_into_id:
        raise ValidationError(_("That ticket was already merged."))
    if wellbeing.widens_restriction(source, target) and not restrict_target:
        raise ValidationError(
            _(
                "Ticket #%(source)s holds child-safety content that only Trust & Safety may read; ticket "
                "#%(target)s does not. Merging makes #%(target)s restricted to Trust & Safety and under legal "
                "hold too: confirm that it takes the restriction, or do not merge."
            )
            % {"source": source.number, "target": target.number}
        )
    # The requester's own thread, read before its messages move: the notice answers it there.
    notice_thread = outbound.thread_headers(source)
    moved = source.messages.update(ticket=target)
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    services.update_ticket(source, actor=actor, status=Ticket.Status.CLOSED)
    services.record_event(source, Kind.MERGED, actor=actor, new={"into": target.number, "messages": moved})
    services.record_event(target, Kind.MERGED, actor=actor, new={"from": source.number, "messages": moved})
    had_assignee = target.assignee_id is not None
    wellbeing.inherit_restrictions(target, [source], move_escalations=True)
    if had_assignee and (target.assignee is None or not selectors.can_open(target.assignee, target)):
        # Its associate may no longer open it: the person merging, who can, takes it over.
        services.update_ticket(target, actor=actor, assignee=actor if selectors.can_open(actor, target) else None)
    # The notice speaks only of the recipient's own ticket: the target's subject, number and thread belong
    # to another requester unless both are theirs.
    same_requester = source.requester_id == target.requester_id
    with translation.override(interface_language(source.language)):
        body = render_to_string(
            "tickets/email/merged.txt", {"source": source, "target": target, "same_requester": same_requester}
        ).strip()
    notice = outbound.queue_outbound(source, body_text=body, author=actor, thread=notice_thread)
    services.record_event(source, Kind.REPLY_SENT, actor=actor, message=notice)
    target.last_message_at = timezone.now()
    target.save(update_fields=["last_message_at", "updated_at"])
    return target


BULK_FIELDS = ("assignee", "status", "queue", "add_tag", "remove_tag", "priority")


@transaction.atomic
def bulk_update(
    numbers: Sequence[int],
    *,
    actor: User,
    seen_event: int | None = None,
    take_over: bool = False,
    **changes: Any,
) -> int:
    """Apply one change to many tickets: assign, set status or priority, move, add or remove a tag.
    All or nothing: one ticket the actor cannot touch refuses the whole batch, and so does one that someone
    else took, solved or answered after `seen_event`. Assigning to someone takes only unassigned tickets
    (or theirs already) unless `take_over` says to take them from whoever has them."""
    unknown = set(changes) - set(BULK_FIELDS)
    if unknown or not changes:
        raise ValidationError(_("Choose an action."))
    numbers = sorted(set(numbers))
    tickets = list(
        selectors.tickets_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("queue", "assignee")
        .filter(number__in=numbers)
        .order_by("number")
    )
    if len(tickets) != len(numbers):
        raise PermissionDenied(_("You cannot work on some of these tickets."))
    refuse_collisions(tickets, seen_event, actor=actor)
    if changes.get("assignee") is not None and not take_over:
        taken = [t for t in tickets if t.assignee_id is not None and t.assignee_id != changes["assignee"].pk]
        if taken:
            raise ValidationError(
                [
                    _("#%(number)s is assigned to %(name)s.") % {"number": t.number, "name": _name(t.assignee)}
                    for t in taken
                ]
                + [_("Nothing was changed. Tick “take over” to assign tickets that someone else has.")]
            )
    for ticket in tickets:
        fields = {k: v for k, v in changes.items() if k not in ("add_tag", "remove_tag")}
        if "add_tag" in changes:
            fields["tags"] = [*ticket.tags, changes["add_tag"]]
        if "remove_tag" in changes:
            fields["tags"] = [t for t in fields.get("tags", ticket.tags) if t != changes["remove_tag"]]
        change_fields(ticket, actor=actor, **fields)
    return len(tickets)
