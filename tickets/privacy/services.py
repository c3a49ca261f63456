"""Privacy (LGPD / GDPR): export everything held about a requester, erase it, and enforce retention per queue.

Erasure and retention scrub personal data in place: requester identity, subjects, message bodies, raw mail,
attachment files, CSAT comments, the assistant's answers. Tickets, messages and events stay as rows, so every
count the metrics read (tickets, replies, response times, SLA) is unchanged. A ticket on legal hold is never scrubbed.

Names: the acting user is `actor`, keyword-only, recorded in the audit log (None for retention). The
requester instance is trusted: callers are the admin and the `privacy` command, both admin-only.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from tickets import audit, signals
from tickets.models import (
    AssistOutput,
    Attachment,
    AuditLog,
    InboundEmail,
    Message,
    Queue,
    Requester,
    Ticket,
    TicketEvent,
    search_excerpt,
)

ERASED = "[erased]"


def _receivers_of_held_content() -> set[int]:
    """Tickets that hold messages merged in from a ticket under legal hold, through any chain of merges. A
    merge carries the hold to its target, but a hold set on the source afterwards, or a merge made before
    holds were carried, leaves the evidence on a ticket without the flag. Few tickets are merged and fewer
    held (partial index `ticket_merged_into`)."""
    receivers: set[int] = set()
    frontier = set(
        Ticket.objects.filter(legal_hold=True, merged_into__isnull=False).values_list("merged_into_id", flat=True)
    )
    while frontier - receivers:
        new = frontier - receivers
        receivers |= new
        frontier = set(
            Ticket.objects.filter(pk__in=new, merged_into__isnull=False).values_list("merged_into_id", flat=True)
        )
    return receivers


def held() -> Q:
    """Tickets whose content is under legal hold: held themselves, or holding a held ticket's merged content."""
    return Q(legal_hold=True) | Q(pk__in=_receivers_of_held_content())


def on_legal_hold(ticket: Ticket) -> bool:
    """Legal hold (set for child-safety evidence) blocks erasure and retention, wherever the content sits."""
    return ticket.legal_hold or Ticket.objects.filter(held(), pk=ticket.pk).exists()


def _without_legal_hold(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.exclude(held())


def find_requester(email_or_id: str) -> Requester | None:
    if email_or_id.isdigit():
        return Requester.objects.filter(pk=int(email_or_id)).first()
    return Requester.objects.filter(email__iexact=email_or_id.strip()).first()


# Export


def _message_record(message: Message) -> dict:
    return {
        "id": message.pk,
        "direction": message.direction,
        "created_at": message.created_at,
        "from": message.from_address,
        "from_name": message.from_name,
        "to": message.to_addresses,
        "cc": message.cc_addresses,
        "subject": message.subject,
        "body_text": message.body_text,
        "quoted_text": message.quoted_text,
        "message_id": message.message_id,
        "delivery_status": message.delivery_status,
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }


# What the assistant wrote for or from the requester (a reply draft, a translation of their mail) is exported
# with its text; summaries and second opinions are the staff's own assessment of the case, like internal notes:
# the export says when and to which provider the ticket was sent for them, not what they said.
ASSIST_TEXT_EXPORTED = (AssistOutput.Kind.DRAFT, AssistOutput.Kind.TRANSLATION)


def _assist_record(output: AssistOutput) -> dict:
    record = {
        "kind": output.kind,
        "created_at": output.created_at,
        "provider": output.provider,
        "model": output.model,
        "language": output.language,
    }
    if output.kind in ASSIST_TEXT_EXPORTED:
        record["text"] = output.text
    return record


def _attachment_name(ticket: Ticket, attachment: Attachment) -> str:
    try:
        name = get_valid_filename(attachment.filename)
    except Exception:
        name = "attachment"
    return f"attachments/{ticket.number}/{attachment.pk}-{name}"


def export_requester(requester: Requester, *, actor: User | None, request=None) -> bytes:
    """A zip with `requester.json` (who they are, their tickets and every public message on them, their
    survey answers, what the generative assistant was asked about them) and their attachments under
    `attachments/<ticket>/`. Internal notes are staff records about the case and are not included."""
    if actor is not None:
        # The zip holds every message: child-safety content only for someone who may read it (Trust & Safety).
        from tickets import selectors

        unreadable = (
            requester.tickets.filter(sensitivity__contains=["child_safety"])
            .exclude(pk__in=selectors.tickets_visible_to(actor).values("pk"))
            .order_by("number")
            .values_list("number", flat=True)
        )
        if unreadable:
            raise PermissionDenied(
                _("Tickets %(numbers)s hold child-safety content: ask Trust & Safety to export this requester.")
                % {"numbers": ", ".join(f"#{n}" for n in unreadable)}
            )
    tickets = list(
        requester.tickets.order_by("created_at")
        .select_related("csat")
        .prefetch_related("messages__attachments", "assist_outputs")
    )
    document: dict[str, Any] = {
        "exported_at": timezone.now(),
        "requester": {
            "id": requester.pk,
            "email": requester.email,
            "name": requester.name,
            "language": requester.language,
            "created_at": requester.created_at,
        },
        "tickets": [],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for ticket in tickets:
            messages = [m for m in ticket.messages.all() if m.direction != Message.Direction.NOTE]
            record = {
                "number": ticket.number,
                "subject": ticket.subject,
                "status": ticket.status,
                "language": ticket.language,
                "created_at": ticket.created_at,
                "solved_at": ticket.solved_at,
                "messages": [_message_record(m) for m in messages],
                "assistant": [_assist_record(o) for o in sorted(ticket.assist_outputs.all(), key=_by_time)],
            }
            survey = getattr(ticket, "csat", None)
            if survey is not None and survey.answered_at:
                record["satisfaction"] = {"rating": survey.rating, "comment": survey.comment}
            document["tickets"].append(record)
            for message in messages:
                for attachment in message.attachments.all():
                    if attachment.file:
                        with attachment.file.open("rb") as handle:
                            archive.writestr(_attachment_name(ticket, attachment), handle.read())
        archive.writestr(
            "requester.json", json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
        )
    audit.record(
        actor,
        AuditLog.Action.REQUESTER_EXPORTED,
        target=f"requester:{requester.pk}",
        request=request,
        tickets=len(tickets),
    )
    return buffer.getvalue()


def _by_time(output: AssistOutput):
    return (output.created_at, output.pk)


# Erasure and retention


def _delete_files(attachments: QuerySet[Attachment]) -> int:
    deleted = 0
    for attachment in attachments.exclude(file=""):
        attachment.file.delete(save=False)
        deleted += 1
    attachments.update(file="", filename=ERASED, content_id="", omitted_reason=ERASED)
    return deleted


def scrub_tickets(tickets: QuerySet[Ticket]) -> dict[str, int]:
    """Remove the personal content of these tickets, keeping rows, statuses, timestamps and events.
    Call inside a transaction. Tickets whose content is under legal hold are skipped here too, whatever
    the caller passed."""
    ids = list(_without_legal_hold(tickets).values_list("pk", flat=True))
    messages = Message.objects.filter(ticket_id__in=ids)
    files = _delete_files(Attachment.objects.filter(message__ticket_id__in=ids))
    message_count = messages.update(
        subject=ERASED,
        body_text=ERASED,
        search_excerpt=search_excerpt(ERASED),
        body_html="",
        quoted_text="",
        quoted_html="",
        from_name="",
        delivery_error="",
    )
    messages.exclude(direction=Message.Direction.OUT).update(from_address=ERASED, cc_addresses=[])
    messages.filter(direction=Message.Direction.OUT).update(to_addresses=[ERASED], cc_addresses=[])
    inbound = InboundEmail.objects.filter(Q(ticket_id__in=ids) | Q(message__ticket_id__in=ids))
    inbound.update(raw=b"", envelope_sender="", reason="")
    # Subject changes carry the old and new subject text. The event log refuses updates, and no metric
    # reads these events, so they go; every other event (what the metrics count) stays.
    TicketEvent.objects.filter(ticket_id__in=ids, kind=TicketEvent.Kind.SUBJECT_CHANGED).delete()
    # The assistant's answers carry the personal data put back into them; the rows stay (what was sent where).
    AssistOutput.objects.filter(ticket_id__in=ids).update(text=ERASED)
    # Apps built on tickets scrub what they keep about these tickets (metrics: CSAT comments).
    signals.tickets_scrubbed.send(sender=Ticket, ticket_ids=ids)
    # A new `updated_at` too: pages kept by version (the ticket page's short cache) are not served again.
    now = timezone.now()
    Ticket.objects.filter(pk__in=ids).update(subject=ERASED, personal_data_erased_at=now, updated_at=now)
    return {"tickets": len(ids), "messages": message_count, "files": files}


@transaction.atomic
def erase_requester(requester: Requester, *, actor: User | None, request=None) -> dict[str, int]:
    """Anonymise a requester and everything they wrote; refuse while any of their tickets is on legal hold."""
    requester = Requester.objects.select_for_update().get(pk=requester.pk)
    held_numbers = list(requester.tickets.filter(held()).order_by("number").values_list("number", flat=True))
    if held_numbers:
        raise ValidationError(
            _("Tickets %(numbers)s are on legal hold; the requester cannot be erased now.")
            % {"numbers": ", ".join(f"#{n}" for n in held_numbers)}
        )
    counts = scrub_tickets(requester.tickets.all())
    requester.email = f"erased-{requester.pk}@erased.invalid"
    requester.name = ""
    requester.save(update_fields=["email", "name"])
    audit.record(actor, AuditLog.Action.REQUESTER_ERASED, target=f"requester:{requester.pk}", request=request, **counts)
    return counts


def expired_tickets(now=None) -> QuerySet[Ticket]:
    """Closed tickets older than their queue's retention period, not yet scrubbed, not on legal hold."""
    now = now or timezone.now()
    scope = Q()
    for queue in Queue.objects.filter(retention_days__isnull=False).only("pk", "retention_days"):
        assert queue.retention_days is not None  # the filter
        scope |= Q(queue_id=queue.pk, closed_at__lt=now - timedelta(days=queue.retention_days))
    if not scope:
        return Ticket.objects.none()
    expired = Ticket.objects.filter(scope, status=Ticket.Status.CLOSED, personal_data_erased_at__isnull=True)
    return _without_legal_hold(expired)


def purge_expired_tickets(batch_size: int = 500) -> int:
    """Scrub expired tickets in batches; requesters left with nothing unscrubbed are anonymised too."""
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                expired_tickets().select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            requester_ids = set(Ticket.objects.filter(pk__in=batch).values_list("requester_id", flat=True))
            counts = scrub_tickets(Ticket.objects.filter(pk__in=batch))
            done = Requester.objects.filter(pk__in=requester_ids).exclude(tickets__personal_data_erased_at__isnull=True)
            for requester in done:
                requester.email = f"erased-{requester.pk}@erased.invalid"
                requester.name = ""
                requester.save(update_fields=["email", "name"])
            audit.record(None, AuditLog.Action.RETENTION_PURGED, target="tickets", **counts)
            total += counts["tickets"]
    return total
