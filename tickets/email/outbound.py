"""Mail out: replies and acknowledgements leave as queued `Message` rows; a worker sends them through
Anymail with the threading headers a real mail client needs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tickets import services, sla
from tickets.email.parsing import format_address
from tickets.models import Message, Requester, Ticket, TicketEvent

logger = logging.getLogger(__name__)
Kind = TicketEvent.Kind
UI_LANGUAGE = {"pt": "pt-br", "en": "en"}


def render_text_mail(template_name: str, context: dict) -> str:
    """Render a plain-text mail template. Plain text is never HTML-escaped (the "text" template engine has
    autoescape off): what a requester's name or a procedure's title holds goes out as written."""
    return render_to_string(template_name, context, using="text")


def new_message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "acolhe.local"
    return make_msgid(idstring="acolhe", domain=domain)


def thread_headers(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail on this ticket: it answers the latest public message."""
    ids = list(
        ticket.messages.exclude(direction=Message.Direction.NOTE)
        .exclude(message_id="")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    return (ids[-1] if ids else ""), ids[-20:]


def queue_outbound(
    ticket: Ticket,
    *,
    body_text: str,
    author: AbstractBaseUser | None,
    subject: str | None = None,
    thread: tuple[str, list[str]] | None = None,
) -> Message:
    """Save an outbound reply as queued and send it once the transaction commits. `thread` is its
    (In-Reply-To, References) when the caller knows them already; by default `thread_headers` reads them."""
    in_reply_to, references = thread if thread is not None else thread_headers(ticket)
    message = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.OUT,
        author=author,
        from_address=ticket.queue.reply_address,
        from_name=ticket.queue.name,
        to_addresses=[ticket.requester.email],
        subject=subject or reply_subject(ticket),
        body_text=body_text,
        message_id=new_message_id(),
        in_reply_to=in_reply_to,
        references=references,
        delivery_status=Message.Delivery.QUEUED,
        language=ticket.language,
    )
    if author is not None:
        sla.on_public_reply(ticket)
    from tickets.tasks import send_message

    transaction.on_commit(lambda: send_message.delay(message.pk))
    return message


def reply_subject(ticket: Ticket) -> str:
    subject = ticket.subject or ""
    return subject if ticket.tag in subject else f"{ticket.tag} {subject}".strip()


def queue_auto_acknowledgement(
    ticket: Ticket,
    requester: Requester,
    *,
    answering: Message | None = None,
    first_contact: bool = False,
    limit_checked: bool = False,
) -> Message | None:
    """Tell the requester we have their mail, in their language, at most once per hour per requester.
    The caller holds a lock on the requester row, so two workers cannot both send one. `answering` is the
    ticket's only public message, when the caller just created both: the reply threads under it without
    reading the ticket's messages back. `first_contact` says the caller created the requester in this
    transaction: they had no ticket before this one, so no acknowledgement either. `limit_checked` says the
    caller found no acknowledgement within the interval itself (see `last_auto_acknowledgement`)."""
    if not first_contact and not limit_checked:
        last = last_auto_acknowledgement(requester, since=auto_acknowledgement_since())
        if last is not None:
            return None
    with translation.override(UI_LANGUAGE.get(ticket.language, "pt-br")):
        body = render_text_mail("tickets/email/auto_ack.txt", {"ticket": ticket, "requester": requester})
    thread = None
    if answering is not None:
        # What `thread_headers` reads for a ticket whose one public message is `answering`.
        thread = (answering.message_id, [answering.message_id]) if answering.message_id else ("", [])
    message = queue_outbound(ticket, body_text=body.strip(), author=None, thread=thread)
    services.record_event(ticket, Kind.AUTO_ACK_SENT, message=message)
    return message


def auto_acknowledgement_since() -> datetime:
    """The start of the interval in which a requester gets at most one acknowledgement."""
    return timezone.now() - timedelta(seconds=settings.ACOLHE_AUTO_ACK_INTERVAL_SECONDS)


def last_auto_acknowledgement(requester: Requester, *, since: datetime) -> datetime | None:
    """When the requester's latest acknowledgement since `since` was recorded, or None."""
    return (
        TicketEvent.objects.filter(kind=Kind.AUTO_ACK_SENT, ticket__requester=requester, created_at__gte=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def build_email(message: Message) -> EmailMultiAlternatives:
    ticket = message.ticket
    headers = (
        {"Message-ID": message.message_id, "Auto-Submitted": "auto-replied"}
        if message.author_id is None
        else {"Message-ID": message.message_id}
    )
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = " ".join(message.references)
    sender = format_address(message.from_name, message.from_address)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=sender,
        to=message.to_addresses,
        cc=message.cc_addresses,
        reply_to=[ticket.queue.reply_address],
        headers=headers,
    )
    for attachment in message.attachments.all():
        if attachment.file:
            with attachment.file.open("rb") as handle:
                mail.attach(attachment.filename, handle.read(), attachment.content_type)
    return mail


# A claim older than this belongs to a worker that died mid-send; a queued message this old lost its task.
STALE_SENDING = timedelta(minutes=10)
STALE_QUEUED = timedelta(minutes=20)


def _claim(message_pk: int) -> bool:
    """Move a queued message (or one whose sender died) to `sending`. One worker wins; the others see 0 rows."""
    now = timezone.now()
    claimable = Q(delivery_status=Message.Delivery.QUEUED) | Q(
        delivery_status=Message.Delivery.SENDING, send_claimed_at__lt=now - STALE_SENDING
    )
    return bool(
        Message.objects.filter(claimable, pk=message_pk).update(
            delivery_status=Message.Delivery.SENDING, send_claimed_at=now, send_attempts=F("send_attempts") + 1
        )
    )


def deliver(message_pk: int) -> Message | None:
    """Send a queued message once. The row is claimed as `sending` in its own short transaction, the ESP is
    called with no lock or transaction held, and the result is saved after. Re-running for a message already
    sent, or being sent by another worker, does nothing. A failed attempt puts it back to `queued` and
    raises, so the task retries."""
    if not _claim(message_pk):
        return Message.objects.filter(pk=message_pk).first()
    message = Message.objects.select_related("ticket__queue", "ticket__requester").get(pk=message_pk)
    try:
        mail = build_email(message)
        mail.send()
    except Exception as exc:
        Message.objects.filter(pk=message_pk, delivery_status=Message.Delivery.SENDING).update(
            delivery_status=Message.Delivery.QUEUED,
            send_claimed_at=timezone.now(),
            delivery_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    status = getattr(mail, "anymail_status", None)
    esp_message_id = str(status.message_id)[:255] if status is not None and status.message_id else ""
    message.delivery_status = Message.Delivery.SENT
    message.sent_at = timezone.now()
    message.esp_message_id = esp_message_id
    message.delivery_error = ""
    # Only from `sending`: a tracking webhook may already have moved it on (delivered, bounced).
    Message.objects.filter(pk=message_pk, delivery_status=Message.Delivery.SENDING).update(
        delivery_status=Message.Delivery.SENT, sent_at=message.sent_at, esp_message_id=esp_message_id, delivery_error=""
    )
    return message


def mark_failed(message_pk: int, error: str) -> None:
    """Give up on a message after its last retry: it shows as failed on the ticket, ready to resend."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_pk).first()
        if message is None or message.delivery_status not in (Message.Delivery.QUEUED, Message.Delivery.SENDING):
            return
        old = message.delivery_status
        message.delivery_status = Message.Delivery.FAILED
        message.delivery_error = error[:2000]
        message.save(update_fields=["delivery_status", "delivery_error"])
        services.record_event(message.ticket, Kind.DELIVERY_CHANGED, old=old, new="failed", message=message)


def stale_outbox() -> list[int]:
    """Outbound messages whose task was lost (queued too long) or whose worker died mid-send (sending too
    long). Re-sending one that the ESP had in fact accepted repeats its Message-ID, which mail clients
    treat as the same mail."""
    now = timezone.now()
    queued = Message.objects.filter(delivery_status=Message.Delivery.QUEUED).filter(
        Q(send_claimed_at__lt=now - STALE_QUEUED) | Q(send_claimed_at=None, created_at__lt=now - STALE_QUEUED)
    )
    sending = Message.objects.filter(delivery_status=Message.Delivery.SENDING, send_claimed_at__lt=now - STALE_SENDING)
    return list(queued.values_list("pk", flat=True)[:500]) + list(sending.values_list("pk", flat=True)[:500])
