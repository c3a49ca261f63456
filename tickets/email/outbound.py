"""Mail out: replies and acknowledgements leave as queued `Message` rows; a worker sends them through
Anymail with the threading headers a real mail client needs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tickets import services, sla
from tickets.email.parsing import format_address
from tickets.language import interface_language
from tickets.models import Message, Requester, Ticket, TicketEvent

logger = logging.getLogger(__name__)
Kind = TicketEvent.Kind


def render_text_mail(template_name: str, context: dict) -> str:
    """Render a plain-text mail template. Plain text is never HTML-escaped (the "text" template engine has
    autoescape off): what a requester's name or a procedure's title holds goes out as written."""
    return render_to_string(template_name, context, using="text")


def new_message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "acolhe.local"
    return make_msgid(idstring="acolhe", domain=domain)


def draft_message_id(ticket: Ticket, author: User, draft: str) -> str:
    """The Message-ID of the reply or note written from one composer form (its random `draft` token): a
    second press of Send on the same form names the same message, which the unique Message-ID refuses."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "acolhe.local"
    return f"<acolhe.{ticket.number}.{author.pk}.{draft}@{domain}>"


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
    author: User | None,
    subject: str | None = None,
    thread: tuple[str, list[str]] | None = None,
    message_id: str = "",
) -> Message:
    """Save an outbound reply as queued and send it once the transaction commits. `thread` is its
    (In-Reply-To, References) when the caller knows them already; by default `thread_headers` reads them.
    `message_id` is given for a reply written in the workspace (`draft_message_id`), else a new one is made."""
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
        message_id=message_id or new_message_id(),
        in_reply_to=in_reply_to,
        references=references,
        delivery_status=Message.Delivery.QUEUED,
        language=ticket.language,
    )
    if author is not None:
        sla.on_public_reply(ticket)
    transaction.on_commit(lambda: enqueue_send(message.pk), robust=True)
    return message


def enqueue_send(message_pk: int) -> None:
    """Queue the send task for a committed message. Run on commit and robust: with the broker down the reply
    stays committed as `queued`, the associate sees it saved, and the outbox sweep sends it once the broker
    is back (`stale_outbox`)."""
    from tickets.tasks import send_message

    send_message.delay(message_pk)


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
    log: services.EventLog | None = None,
) -> Message | None:
    """Tell the requester we have their mail, in their language, at most once per hour per requester.
    The caller holds a lock on the requester row, so two workers cannot both send one. `answering` is the
    ticket's only public message, when the caller just created both: the reply threads under it without
    reading the ticket's messages back. `first_contact` says the caller created the requester in this
    transaction: they had no ticket before this one, so no acknowledgement either. `limit_checked` says the
    caller found no acknowledgement within the interval itself (see `last_auto_acknowledgement`). Its event goes
    to `log` when given."""
    if not first_contact and not limit_checked:
        last = last_auto_acknowledgement(requester, since=auto_acknowledgement_since())
        if last is not None:
            return None
    with translation.override(interface_language(ticket.language)):
        body = render_text_mail("tickets/email/auto_ack.txt", {"ticket": ticket, "requester": requester})
    thread = None
    if answering is not None:
        # What `thread_headers` reads for a ticket whose one public message is `answering`.
        thread = (answering.message_id, [answering.message_id]) if answering.message_id else ("", [])
    message = queue_outbound(ticket, body_text=body.strip(), author=None, thread=thread)
    services.record_event(ticket, Kind.AUTO_ACK_SENT, message=message, log=log)
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


# Deadlines after which the outbox sweep (`stale_outbox`, run by beat every ACOLHE_SWEEP_SECONDS) re-drives a
# message. `send_claimed_at` is the lease: for a `sending` message, when a worker claimed it (the send task's
# hard time limit is well inside SENDING_LEASE, so a claim older than that belongs to a dead worker); for a
# `queued` message that failed an attempt, when its retry is due. A queued message nobody took within
# QUEUED_GRACE of that (or of its creation) lost its task.
SENDING_LEASE = timedelta(seconds=35)
QUEUED_GRACE = timedelta(seconds=30)
# The first try and six retries, then the message shows as failed, ready to resend.
MAX_SEND_ATTEMPTS = 7


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: 10, 20, 40 ... at most 240, so a retry
    waiting in the broker never outlives its visibility timeout (settings: 420 s)."""
    return min(240, 10 * 2 ** max(attempts - 1, 0))


def _claim(message_pk: int) -> bool:
    """Move a queued message (or one whose sender died) to `sending`. One worker wins; the others see 0 rows."""
    now = timezone.now()
    claimable = Q(delivery_status=Message.Delivery.QUEUED) | Q(
        delivery_status=Message.Delivery.SENDING, send_claimed_at__lt=now - SENDING_LEASE
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
            # The lease: the retry is due then; past it (plus QUEUED_GRACE) the sweep re-drives the message.
            send_claimed_at=timezone.now() + timedelta(seconds=retry_delay(message.send_attempts)),
            delivery_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    # The ESP accepted the mail: record that first, before anything else that could fail. From here until
    # this UPDATE commits is the one window in which a crash sends the mail twice (docs/faults.md).
    status = getattr(mail, "anymail_status", None)
    esp_message_id = str(status.message_id)[:255] if status is not None and status.message_id else ""
    # Only from `sending`: a tracking webhook may already have moved it on (delivered, bounced).
    Message.objects.filter(pk=message_pk, delivery_status=Message.Delivery.SENDING).update(
        delivery_status=Message.Delivery.SENT, sent_at=timezone.now(), esp_message_id=esp_message_id, delivery_error=""
    )
    message.refresh_from_db()
    return message


def send_attempts(message_pk: int) -> int:
    return Message.objects.filter(pk=message_pk).values_list("send_attempts", flat=True).first() or 0


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
    """Outbound messages to send again: queued ones whose task was lost (QUEUED_GRACE past their creation or
    their due retry) and `sending` ones whose worker died (claimed more than SENDING_LEASE ago). A queued
    message taken here gets a fresh lease, so the next sweep leaves it to the task queued now; several beats
    or overlapping sweeps skip each other's rows. Re-sending a message the ESP had in fact accepted repeats
    its Message-ID, which mail clients thread as the same mail."""
    now = timezone.now()
    with transaction.atomic():
        queued = list(
            Message.objects.filter(delivery_status=Message.Delivery.QUEUED)
            .filter(
                Q(send_claimed_at__lt=now - QUEUED_GRACE) | Q(send_claimed_at=None, created_at__lt=now - QUEUED_GRACE)
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:500]
        )
        Message.objects.filter(pk__in=queued).update(send_claimed_at=now)
    sending = Message.objects.filter(delivery_status=Message.Delivery.SENDING, send_claimed_at__lt=now - SENDING_LEASE)
    return queued + list(sending.values_list("pk", flat=True)[:500])
