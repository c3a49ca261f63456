"""Generative help on one ticket: a summary of the thread, a reply draft, a translation of a message and a
second opinion on sensitivity, through the configured provider (`assist.provider`).

Names: `check_*` take a ticket number and the acting user and apply the access and privacy rules (the
ticket must be one the actor may open, on a queue that opted in, and not restricted); the `ask_*`
functions take the ticket `check_ticket` returned and trust it. Each call is audited, answered or not.
Nothing is sent to the requester: a draft goes into the associate's composer, to edit and send. Each answer
is kept (`AssistOutput`: who, which ticket, when, which provider and model) for the requester's LGPD export,
and is erased with the ticket's other personal content (`tickets.privacy`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from assist import provider
from assist.selectors import suggestions_for
from sop.selectors import macros_for, ticket_sop_panel
from sop.services import render_macro
from tickets import audit, selectors
from tickets.language import reader_language
from tickets.models import AssistOutput, AuditLog, Message, Ticket
from tickets.privacy import services as privacy
from tickets.wellbeing.detection import CATEGORIES

# What one prompt may carry: the most recent messages first, each cut to its opening.
THREAD_CHARS = 12_000
MESSAGE_CHARS = 3_000
SOP_CHARS = 4_000
LANGUAGE_NAMES = {"pt": "Brazilian Portuguese", "en": "English"}
KEEP_PLACEHOLDERS = (
    "Text in square brackets such as [EMAIL_1], [PHONE_1] or [CPF_1] stands for personal data: copy those "
    "placeholders exactly where they are needed and never guess what they hide."
)


KINDS = {
    "summary": AssistOutput.Kind.SUMMARY,
    "draft": AssistOutput.Kind.DRAFT,
    "translation": AssistOutput.Kind.TRANSLATION,
    "second_opinion": AssistOutput.Kind.SECOND_OPINION,
}


class AssistUnavailable(Exception):
    """The assistant may not be used on this ticket; `message` says why, in the reader's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class AssistAnswer:
    kind: str
    text: str = ""
    error: str = ""
    language: str = ""


def is_restricted(ticket: Ticket) -> bool:
    """Child-safety content and anything under legal hold (the ticket's own or merged in) never leaves."""
    return bool(set(ticket.sensitivity or ()) & set(selectors.RESTRICTED_CATEGORIES)) or privacy.on_legal_hold(ticket)


def availability(ticket: Ticket) -> str:
    """Why the assistant is off for this ticket (translated), or "" when it may be used."""
    if not provider.is_configured():
        return _("No assistant is configured for this helpdesk.")
    if not ticket.queue.assist_enabled:
        return _("The assistant is not turned on for this queue.")
    if is_restricted(ticket):
        return _("This ticket's content is restricted: it is never sent to the assistant.")
    return ""


def check_ticket(actor: User, number: int) -> Ticket:
    """The ticket `number` if `actor` may open it and the assistant may read it; 404 or AssistUnavailable."""
    ticket = selectors.ticket_or_404(actor, number)
    reason = availability(ticket)
    if reason:
        raise AssistUnavailable(reason)
    return ticket


def _readable_messages(ticket: Ticket, *, notes: bool) -> list[Message]:
    """The thread, without any message the scanner found restricted content in (belt and braces: such a
    message makes its ticket restricted, and the ticket is refused before this runs)."""
    messages = [
        message
        for message in selectors.thread(ticket)
        if not set((message.sensitivity or {}).get("categories") or ()) & set(selectors.RESTRICTED_CATEGORIES)
        and (notes or message.direction != Message.Direction.NOTE)
    ]
    return messages


def _thread_text(messages: list[Message]) -> str:
    labels: dict[str, str] = {
        Message.Direction.IN: "Requester",
        Message.Direction.OUT: "Associate",
        Message.Direction.NOTE: "Internal note",
    }
    parts: list[str] = []
    size = 0
    for message in reversed(messages):
        part = (
            f"[{labels[message.direction]}, {message.created_at:%Y-%m-%d %H:%M}]\n{message.body_text[:MESSAGE_CHARS]}"
        )
        if size + len(part) > THREAD_CHARS and parts:
            break
        parts.append(part)
        size += len(part)
    return "\n\n".join(reversed(parts))


def _ask(
    actor: User, ticket: Ticket, kind: str, system: str, user: str, *, request=None,
    language: str = "", present: Callable[[str], str] | None = None,
) -> AssistAnswer:  # fmt: skip
    """Mask, send, restore, audit and keep the answer (shaped by `present`, as the associate sees it).
    Provider failures come back as a translated error, never an exception."""
    masker = provider.Masker()
    messages = [
        {"role": "system", "content": f"{system}\n{KEEP_PLACEHOLDERS}"},
        {"role": "user", "content": masker.mask(user)},
    ]
    sent = sum(len(message["content"]) for message in messages)
    try:
        text = provider.complete(messages)
    except provider.ProviderError as error:
        audit.record(
            actor, AuditLog.Action.ASSIST_REQUESTED, target=f"ticket:{ticket.number}", request=request,
            kind=kind, provider=provider.provider_label(), characters_sent=sent, characters_received=0,
            outcome=error.reason,
        )  # fmt: skip
        if error.reason == "timeout":
            message = _("The assistant did not answer in time. Try again, or go on without it.")
        else:
            message = _("The assistant could not answer right now. The ticket works as usual; try again later.")
        return AssistAnswer(kind, error=message)
    answer = AssistAnswer(kind, text=masker.restore(text), language=language)
    if present is not None:
        answer.text = present(answer.text)
    # The provider call stays outside: no transaction is held open while a model thinks.
    with transaction.atomic():
        audit.record(
            actor, AuditLog.Action.ASSIST_REQUESTED, target=f"ticket:{ticket.number}", request=request,
            kind=kind, provider=provider.provider_label(), characters_sent=sent, characters_received=len(text),
            outcome="answered",
        )  # fmt: skip
        AssistOutput.objects.create(
            ticket=ticket, actor=actor, kind=KINDS[kind],
            provider=provider.host(), model=settings.ACOLHE_ASSIST_MODEL, language=language, text=answer.text,
        )  # fmt: skip
    return answer


def ask_summary(actor: User, ticket: Ticket, *, request=None) -> AssistAnswer:
    """A hand-off summary of the thread, internal notes included, in the associate's language."""
    language = LANGUAGE_NAMES[reader_language()]
    system = (
        "You summarise a customer support ticket for a colleague who takes it over. In "
        f"{language}, in at most eight short lines: what the requester wants, what has been done, what is "
        "still open, and how the requester feels. Use only what the thread says."
    )
    user = f"Subject: {ticket.subject}\n\n{_thread_text(_readable_messages(ticket, notes=True))}"
    return _ask(actor, ticket, "summary", system, user, request=request, language=reader_language())


def _sop_text(actor: User, ticket: Ticket) -> str:
    parts = []
    for entry in ticket_sop_panel(ticket, actor, visible=True)["sops"]:
        steps = "\n".join(f"- {item.step.text}" for item in entry.steps)
        parts.append(f"{entry.version.title}\n{entry.version.body}\n{steps}".strip())
    return "\n\n".join(parts)[:SOP_CHARS]


def best_macro_text(actor: User, ticket: Ticket) -> tuple[str, str]:
    """(name, text rendered for this ticket) of the macro the similar solved tickets suggest, if any."""
    votes = suggestions_for(actor, ticket).macros
    macro = macros_for(actor).filter(pk=votes[0].value).first() if votes else None
    if macro is None:
        return "", ""
    return macro.name, render_macro(macro, ticket, actor=actor).text


def ask_draft(actor: User, ticket: Ticket, *, request=None) -> AssistAnswer:
    """A reply draft in the requester's language, grounded in the ticket's SOP and best macro. Returned to
    the associate's composer with the personal data put back; never sent by itself."""
    language = ticket.requester.language or ticket.language
    sop = _sop_text(actor, ticket)
    macro_name, macro = best_macro_text(actor, ticket)
    system = (
        f"You draft the next reply of a support associate to the requester, in {LANGUAGE_NAMES[language]}. "
        "Follow the procedure and build on the macro when they are given; do not promise anything they do "
        "not allow and do not invent facts. Write only the reply's text: the associate will edit it."
    )
    user = (
        f"Procedure (SOP):\n{sop or '(none)'}\n\n"
        f"Suggested macro{f' ({macro_name})' if macro_name else ''}:\n{macro or '(none)'}\n\n"
        f"Subject: {ticket.subject}\n\nThread:\n{_thread_text(_readable_messages(ticket, notes=False))}"
    )
    answer = _ask(actor, ticket, "draft", system, user, request=request, language=language)
    answer.language = language
    return answer


def ask_translation(actor: User, ticket: Ticket, message_id: int | None, *, request=None) -> AssistAnswer:
    """The message (by default the requester's latest) translated into the associate's language."""
    messages = [m for m in _readable_messages(ticket, notes=True) if message_id is None or m.pk == message_id]
    if message_id is None:
        messages = [m for m in messages if m.direction == Message.Direction.IN] or messages
    if not messages:
        return AssistAnswer("translation", error=_("There is no message to translate."))
    language = LANGUAGE_NAMES[reader_language()]
    system = f"Translate the support message you are given into {language}. Answer with the translation only."
    answer = _ask(
        actor, ticket, "translation", system, messages[-1].body_text[:MESSAGE_CHARS], request=request,
        language=reader_language(),
    )  # fmt: skip
    answer.language = reader_language()
    return answer


# The scanner flags a category from a confidence of 0.5 (`tickets.wellbeing.detection.THRESHOLD`); a single
# weak phrase lands between that and this, where a second opinion is worth asking for.
UNSURE_BELOW = 0.8


def scanner_is_unsure(ticket: Ticket) -> bool:
    """The scanner flagged the requester's latest message, but only weakly."""
    latest = (
        ticket.messages.filter(direction=Message.Direction.IN)
        .order_by("-created_at", "-id")
        .values_list("sensitivity", flat=True)
        .first()
    )
    confidence = (latest or {}).get("confidence") or {}
    return any(isinstance(value, int | float) and value < UNSURE_BELOW for value in confidence.values())


def ask_second_opinion(actor: User, ticket: Ticket, *, request=None) -> AssistAnswer:
    """A second opinion on whether the requester's latest message is sensitive, for an associate unsure of
    the scanner's verdict. Advisory only: it changes no flag."""
    incoming = [m for m in _readable_messages(ticket, notes=False) if m.direction == Message.Direction.IN]
    if not incoming:
        return AssistAnswer("second_opinion", error=_("There is no message from the requester to assess."))
    categories = ", ".join(CATEGORIES)
    system = (
        "You help a trust and safety team. Say whether the message contains sensitive content of these "
        f"categories: {categories}. Answer as JSON: "
        '{"categories": [...], "confidence": 0.0-1.0, "reason": "one sentence"}, '
        f"the reason in {LANGUAGE_NAMES[reader_language()]}."
    )
    return _ask(
        actor, ticket, "second_opinion", system, incoming[-1].body_text[:MESSAGE_CHARS], request=request,
        present=_describe_opinion,
    )  # fmt: skip


def _describe_opinion(text: str) -> str:
    """The model's JSON verdict in the reader's words; its raw text when it did not answer in JSON."""
    start, end = text.find("{"), text.rfind("}")
    try:
        verdict = json.loads(text[start : end + 1]) if start >= 0 else None
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict):
        return text
    found = [str(CATEGORIES[c]) for c in verdict.get("categories") or () if c in CATEGORIES]
    reason = str(verdict.get("reason") or "")
    if not found:
        return _("Nothing sensitive found. %(reason)s") % {"reason": reason}
    return _("Possibly sensitive: %(categories)s. %(reason)s") % {"categories": ", ".join(found), "reason": reason}
