"""The ticket page's thread as HTML, joined from rendered messages kept in the cache.

Rendering thirty messages through the template was the largest part of a ticket page that is not served
from the page cache (a third of its time in the workspace bench). Each message is rendered once and kept
under a key that is a digest of everything its HTML is made of:

- what the message shows: every field `templates/tickets/_message.html` reads, its author's name and its
  attachments' rows (a test fails when the template reads a field this digest leaves out);
- how this reader is shown it: the language, the time zone, whether the ticket is protected (images blurred,
  `wb-media`), whether the reader may open the original source;
- the template's own source, so that a changed template never serves HTML of the old one.

So nothing has to be invalidated: an edit, a redaction, an LGPD erasure, a merge into a protected ticket, a
cleared flag, a removed attachment or a renamed author gives another key, and the old HTML is never served
again (it leaves the cache when it expires, `FRAGMENT_SECONDS`). Nor can a fragment reach a reader who could
not read the message: its key is made from the message's content, which the reader's own access-checked
query returned, and from the reader's own rights and language.

A message that offers to resend a failed reply carries a form with the reader's CSRF token: it is rendered
for each page and never kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from helpdesk import generations
from tickets.models import Attachment, Message, Ticket

TEMPLATE = "tickets/_message.html"
# Long enough that a busy thread is rendered about once a day per language; short enough that the HTML of a
# message that was since edited or erased, which nothing can reach any more, does not linger.
FRAGMENT_SECONDS = 6 * 3600
T = TypeVar("T")

# Every field of a message the template reads, in the digest (tests check the template against this list).
MESSAGE_FIELDS = (
    "pk",
    "direction",
    "from_name",
    "from_address",
    "created_at",
    "written_at",
    "delivery_status",
    "delivery_error",
    "inbound_email_id",
    "body_html",
    "body_text",
    "quoted_html",
    "quoted_text",
)
ATTACHMENT_FIELDS = ("pk", "filename", "content_type", "size", "is_inline", "omitted_reason", "omitted")
NEEDS_A_FORM = {Message.Delivery.FAILED, Message.Delivery.BOUNCED}


def _fragment_key(message: Message, reader: str) -> str:
    digest = hashlib.blake2b(reader.encode(), digest_size=20)
    for name in MESSAGE_FIELDS:
        digest.update(b"\x1f" + repr(getattr(message, name)).encode())
    author = message.author
    digest.update(b"\x1e" + repr(author.get_full_name() if author is not None else None).encode())
    for attachment in _attachments(message):
        digest.update(b"\x1d" + repr([getattr(attachment, name) for name in ATTACHMENT_FIELDS]).encode())
    return f"thread:message:{message.pk}:{digest.hexdigest()}"


def _attachments(message: Message) -> list[Attachment]:
    """The message's attachments, as `tickets.selectors.thread` read them (`attachment_list`), else read now."""
    kept: list[Attachment] | None = getattr(message, "attachment_list", None)
    if kept is None:
        kept = list(message.attachments.all())
        message.__dict__["attachment_list"] = kept
    return kept


def _reader(ticket: Ticket, can_see_source: bool) -> str:
    return "\x1f".join(
        [
            generations.template_digest(TEMPLATE),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            "protected" if ticket.sensitivity else "",
            "source" if can_see_source else "",
        ]
    )


def kept_or_built(items: list[T], key: Callable[[T], str | None], build: Callable[[T], str], seconds: int) -> list[str]:
    """Each item's HTML, in order: from the cache under `key(item)`, else `build(item)`, then kept for
    `seconds` (an item whose key is None is built every time and never kept). One MGET and at most one
    MSET, whatever the number of items. The thread's messages and the list's rows (`rows.py`) use it."""
    keys = [key(item) for item in items]
    kept = cache.get_many([k for k in keys if k]) if any(keys) else {}
    parts, new = [], {}
    for item, item_key in zip(items, keys, strict=True):
        html = kept.get(item_key) if item_key else None
        if html is None:
            html = build(item)
            if item_key:
                new[item_key] = html
        parts.append(html)
    if new:
        cache.set_many(new, seconds)
    return parts


def render_messages(
    request: HttpRequest, ticket: Ticket, messages: Iterable[Message], *, can_see_source: bool
) -> SafeString:
    """The messages' HTML in their order, each from the cache when this reader's version of it is there.
    `messages` come with their author and attachments (`tickets.selectors.thread`)."""
    reader = _reader(ticket, can_see_source)
    messages = list(messages)
    for message in messages:
        _attachments(message)  # the template reads them as `attachment_list`

    def key(message: Message) -> str | None:
        return None if message.delivery_status in NEEDS_A_FORM else _fragment_key(message, reader)

    def render(message: Message) -> str:
        context = {"message": message, "ticket": ticket, "can_see_source": can_see_source}
        # Only the uncached kind needs the request (its form's CSRF token); the rest renders without the
        # context processors.
        return render_to_string(TEMPLATE, context, request=request if message.delivery_status in NEEDS_A_FORM else None)

    parts = kept_or_built(messages, key, render, FRAGMENT_SECONDS)
    # Each part is the template's output, escaped by it.
    return mark_safe("".join(parts))
