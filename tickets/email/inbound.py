"""Mail in: store the raw mail first, then parse, guard, thread and route it onto a ticket.

`store_inbound` runs on the webhook's request path and does no parsing. `process_inbound` runs in a
worker; it is idempotent (a processed row is left alone) and safe to run twice or out of order.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tickets import services, sla
from tickets.email import guards
from tickets.email.parsing import (
    ParsedEmail,
    message_ids,
    normalise_subject,
    parse_bytes,
    parse_email,
    raw_sha256,
    sanitise_html,
    subject_ticket_number,
)
from tickets.language import detect_language
from tickets.models import Attachment, InboundEmail, Language, Message, Queue, Ticket, TicketEvent
from tickets.wellbeing.services import scan_message

logger = logging.getLogger(__name__)
Kind = TicketEvent.Kind
# How far back a reply without headers or tag may match an open ticket by its subject.
SUBJECT_MATCH_WINDOW = timedelta(days=30)


def store_inbound(
    raw: bytes,
    *,
    esp: str,
    envelope_recipient: str = "",
    envelope_sender: str = "",
    spam_detected: bool | None = None,
    spam_score: float | None = None,
    enqueue: bool = True,
) -> tuple[InboundEmail, bool]:
    """Keep the raw mail and (unless `enqueue` is false) queue its processing on commit.
    Returns (row, created); a second delivery of the same mail is a no-op."""
    digest = raw_sha256(raw)
    try:
        header_ids = message_ids(
            str(parse_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]).get("Message-ID", ""))
        )
    except Exception:
        header_ids = []
    message_id = header_ids[0][:998] if header_ids else ""
    dedupe_key = message_id or f"sha256:{digest}"
    inbound = InboundEmail(
        esp=esp[:30],
        raw=raw,
        raw_sha256=digest,
        dedupe_key=dedupe_key,
        message_id=message_id,
        envelope_recipient=(envelope_recipient or "")[:254],
        envelope_sender=(envelope_sender or "")[:254],
        spam_detected=spam_detected,
        spam_score=spam_score,
        received_at=timezone.now(),
    )
    # One statement, on the request path: a retry (or a racing duplicate) inserts nothing.
    fields = [f for f in InboundEmail._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboundEmail._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            [f.get_db_prep_save(f.pre_save(inbound, add=True), connection) for f in fields],
        )
        row = cursor.fetchone()
    created = row is not None
    if not created:
        return InboundEmail.objects.get(dedupe_key=dedupe_key), False
    inbound.pk = row[0]
    inbound._state.adding = False
    if created and enqueue:
        from tickets.tasks import process_inbound_email

        # Robust: with the broker down the mail is still stored and acknowledged; the inbound sweep queues it.
        transaction.on_commit(lambda: process_inbound_email.delay(inbound.pk), robust=True)
    return inbound, created


def process_inbound(inbound_id: int, *, not_spam: bool = False) -> InboundEmail:
    """Parse one stored mail and apply it; a failure is recorded on the row and re-raised.
    `not_spam` routes mail that an admin released from the spam view."""
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.select_for_update().get(pk=inbound_id)
            _process_locked(inbound, depth=0, not_spam=not_spam)
            return inbound
    except Exception as exc:
        InboundEmail.objects.filter(pk=inbound_id).exclude(
            status__in=[InboundEmail.Status.PROCESSED, InboundEmail.Status.IGNORED, InboundEmail.Status.SPAM]
        ).update(status=InboundEmail.Status.FAILED, reason=f"{type(exc).__name__}: {exc}".replace("\x00", "")[:5000])
        raise


def _finish(inbound: InboundEmail, status: str, reason: str = "", ticket: Ticket | None = None) -> None:
    inbound.status = status
    inbound.reason = reason
    inbound.ticket = ticket
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "reason", "ticket", "processed_at", "attempts"])


def _process_locked(inbound: InboundEmail, depth: int, not_spam: bool = False) -> None:
    if inbound.status in {
        InboundEmail.Status.PROCESSED,
        InboundEmail.Status.IGNORED,
        InboundEmail.Status.SPAM,
    }:
        return
    inbound.attempts += 1
    parsed = parse_email(bytes(inbound.raw))
    if not not_spam and (inbound.spam_detected or _spam_header(parsed)):
        _finish(inbound, InboundEmail.Status.SPAM, f"spam verdict (score {inbound.spam_score})")
        return
    verdict = guards.classify(parsed)
    if verdict is not None:
        if verdict.kind == "bounce":
            bounced = _mark_bounced(verdict.bounced_message_ids, verdict.reason)
            reason = f"{verdict.reason}; marked {bounced} outbound message(s) bounced"
        else:
            reason = verdict.reason
        _finish(inbound, InboundEmail.Status.IGNORED, reason)
        return
    if not parsed.from_address:
        _finish(inbound, InboundEmail.Status.FAILED, "no sender address in From, Sender or Return-Path")
        return
    if parsed.message_id and Message.objects.filter(message_id=parsed.message_id).exists():
        existing = Message.objects.filter(message_id=parsed.message_id).select_related("ticket").first()
        _finish(inbound, InboundEmail.Status.PROCESSED, "duplicate of a stored message", existing.ticket)
        return
    if depth == 0:
        _process_parents_first(parsed)
    ticket, _message = _apply(inbound, parsed)
    _finish(inbound, InboundEmail.Status.PROCESSED, ticket=ticket)


def _spam_header(parsed: ParsedEmail) -> bool:
    flag = str(parsed.headers.get("X-Spam-Flag", "") if parsed.headers else "").strip().lower()
    return flag == "yes"


def _process_parents_first(parsed: ParsedEmail) -> None:
    """A reply processed before its parent (out-of-order delivery) waits for the parent to be applied."""
    referenced = [parsed.in_reply_to, *parsed.references] if parsed.in_reply_to else parsed.references
    referenced = [mid for mid in dict.fromkeys(referenced) if mid and mid != parsed.message_id]
    if not referenced:
        return
    pending = (
        InboundEmail.objects.select_for_update()
        .filter(dedupe_key__in=referenced)
        .exclude(status__in=[InboundEmail.Status.PROCESSED, InboundEmail.Status.IGNORED, InboundEmail.Status.SPAM])
        .order_by("received_at")
    )
    for parent in pending:
        try:
            with transaction.atomic():
                _process_locked(parent, depth=1)
        except Exception:
            logger.exception("parent mail %s failed while threading a reply", parent.pk)


def _mark_bounced(bounced_ids: tuple[str, ...], reason: str) -> int:
    count = 0
    for message in Message.objects.filter(message_id__in=bounced_ids, direction=Message.Direction.OUT):
        old = message.delivery_status
        message.delivery_status = Message.Delivery.BOUNCED
        message.delivery_error = reason[:2000]
        message.save(update_fields=["delivery_status", "delivery_error"])
        services.record_event(message.ticket, Kind.DELIVERY_CHANGED, old=old, new="bounced", message=message)
        count += 1
    return count


def _find_thread(parsed: ParsedEmail, requester_email: str) -> Ticket | None:
    """The ticket this mail continues: by Message-ID headers, then the subject tag, then a prior reply
    that references this mail, then the same subject from the same requester."""
    referenced = [m for m in [parsed.in_reply_to, *reversed(parsed.references)] if m]
    if referenced:
        parent = (
            Message.objects.filter(message_id__in=referenced).select_related("ticket").order_by("-created_at").first()
        )
        if parent is not None:
            return parent.ticket
    number = subject_ticket_number(parsed.subject)
    if number is not None:
        ticket = Ticket.objects.filter(number=number).first()
        # The tag alone is trusted only when the sender is that ticket's requester: tags are guessable.
        if ticket is not None and ticket.requester.email.lower() == requester_email:
            return ticket
    if parsed.message_id:
        child = (
            Message.objects.filter(Q(in_reply_to=parsed.message_id) | Q(references__contains=[parsed.message_id]))
            .select_related("ticket")
            .first()
        )
        if child is not None:
            return child.ticket
    if normalise_subject(parsed.subject) != " ".join(parsed.subject.split()).casefold():
        # Only a subject that carried a reply prefix is matched by subject.
        wanted = normalise_subject(parsed.subject)
        if wanted:
            recent = Ticket.objects.filter(
                requester__email__iexact=requester_email,
                status__in=Ticket.ACTIVE_STATUSES,
                created_at__gte=timezone.now() - SUBJECT_MATCH_WINDOW,
            ).order_by("-created_at")[:20]
            for ticket in recent:
                if normalise_subject(ticket.subject) == wanted:
                    return ticket
    return None


def _follow_merges(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def choose_queue(addresses: list[str], language: str | None) -> Queue:
    """The queue for the support address the mail was sent to, then for its language, else the default."""
    candidates = list(Queue.objects.filter(addresses__overlap=addresses)) if addresses else []
    if candidates:
        by_language = [q for q in candidates if language and language in q.languages]
        return (by_language or candidates)[0]
    default = Queue.objects.filter(is_default=True).first()
    if default is None:
        default = Queue.objects.filter(kind=Queue.Kind.FRONT_LINE).order_by("pk").first()
    if default is None:
        default, _ = Queue.objects.get_or_create(slug="default", defaults={"name": "Default", "is_default": True})
    return default


def _apply(inbound: InboundEmail, parsed: ParsedEmail) -> tuple[Ticket, Message]:
    visible_text = parsed.text or ""
    language = detect_language(f"{parsed.subject}\n{visible_text}") if visible_text or parsed.subject else None
    requester = services.upsert_requester(parsed.from_address, parsed.from_name, language or "")
    # Serialise mail from one requester: routing and the auto-acknowledgement limit depend on it.
    type(requester).objects.select_for_update().filter(pk=requester.pk).first()
    language = language or requester.language or Language.PT

    ticket = _find_thread(parsed, requester.email.lower())
    new_ticket = False
    if ticket is not None:
        ticket = _follow_merges(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            ticket = _open(parsed, inbound, requester, language, follow_up_of=ticket)
            new_ticket = True
    else:
        ticket = _open(parsed, inbound, requester, language)
        new_ticket = True

    message = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.IN,
        from_address=parsed.from_address[:254],
        from_name=parsed.from_name[:200],
        to_addresses=[a[:254] for a in parsed.to],
        cc_addresses=[a[:254] for a in parsed.cc],
        subject=parsed.subject,
        body_text=visible_text,
        quoted_text=parsed.quoted_text,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        inbound_email=inbound,
        language=language,
    )
    _store_attachments(message, parsed)
    # Sensitive content: lists compiled once per process; a clean mail costs no query.
    scan_message(message, parsed.attachments)
    now = timezone.now()
    ticket.last_message_at = now
    update = ["last_message_at", "updated_at"]
    if not new_ticket:
        if ticket.status == Ticket.Status.SOLVED:
            services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
            services.record_event(ticket, Kind.REOPENED, old="solved", new="open", message=message)
        elif ticket.status == Ticket.Status.PENDING:
            services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
    ticket.save(update_fields=update)
    sla.on_requester_message(ticket)
    services.record_event(ticket, Kind.MESSAGE_RECEIVED, message=message, new={"from": parsed.from_address})
    if new_ticket and ticket.queue.auto_acknowledge and not guards.suppresses_auto_responses(parsed.headers):
        from tickets.email.outbound import queue_auto_acknowledgement

        queue_auto_acknowledgement(ticket, requester)
    return ticket, message


def _open(parsed, inbound, requester, language, follow_up_of=None) -> Ticket:
    addresses = [inbound.envelope_recipient.lower(), *parsed.delivered_to, *parsed.to, *parsed.cc]
    queue = choose_queue([a for a in dict.fromkeys(addresses) if a], language)
    subject = parsed.subject or (parsed.text[:80].split("\n")[0] if parsed.text else "")
    return services.open_ticket(
        requester=requester, queue=queue, subject=subject, language=language, follow_up_of=follow_up_of
    )


def _store_attachments(message: Message, parsed: ParsedEmail) -> None:
    limit = settings.ACOLHE_MAX_ATTACHMENT_BYTES
    cid_urls = {}
    for part in parsed.attachments:
        attachment = Attachment(
            message=message,
            filename=part.filename,
            content_type=part.content_type[:255],
            size=len(part.content),
            sha256=raw_sha256(part.content),
            content_id=part.content_id[:255],
            is_inline=part.is_inline,
        )
        if len(part.content) > limit:
            attachment.omitted_reason = (
                f"The file was larger than the {limit // (1024 * 1024)} MB limit and was not kept; "
                "the original mail is stored whole."
            )
            attachment.save()
        else:
            attachment.file.save(attachment.sha256, ContentFile(part.content), save=True)
        if attachment.content_id:
            cid_urls[attachment.content_id] = attachment
    html = parsed.html_unsafe
    for cid, attachment in cid_urls.items():
        html = html.replace(f"cid:{cid}", reverse("attachment", args=[attachment.pk]))
    if html or parsed.quoted_html_unsafe:
        message.body_html = sanitise_html(html)
        message.quoted_html = sanitise_html(parsed.quoted_html_unsafe)
        message.save(update_fields=["body_html", "quoted_html"])


def reprocess(inbound_ids) -> dict[str, int]:
    """Run failed, ignored or spam mail through the pipeline again (after a fix, or to release mail an
    admin judged not to be spam). Processed mail is left alone."""
    counts: dict[str, int] = {}
    for pk in inbound_ids:
        previous = InboundEmail.objects.filter(pk=pk).values_list("status", flat=True).first()
        if previous in (None, InboundEmail.Status.PROCESSED):
            continue
        InboundEmail.objects.filter(pk=pk).update(status=InboundEmail.Status.RECEIVED, reason="")
        try:
            status = process_inbound(pk, not_spam=previous == InboundEmail.Status.SPAM).status
        except Exception:
            status = InboundEmail.Status.FAILED
        counts[status] = counts.get(status, 0) + 1
    return counts
