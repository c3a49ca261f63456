"""The ticket's timeline in sentences, in the reader's language: "Ana Souza changed the status from Open to
Pending", "The scanner flagged: self-harm or suicide", "Escalated to Trust & Safety by the rule
“Child content”".

Each sentence is built from the typed event (its kind and old/new values) with the display labels of the
values; nothing of the stored JSON is shown as it is. An event whose values have a shape this module does
not know (an older version wrote it) falls back to its kind's label, never to the raw value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tickets import system_texts
from tickets.models import EscalationRule, Language, Message, SlaClock, Ticket, TicketEvent
from tickets.wellbeing.detection import CATEGORIES

Kind = TicketEvent.Kind


def sentence(event: TicketEvent) -> SafeString:
    """One event as a sentence of escaped HTML (names in <strong>)."""
    build = _BUILDERS.get(event.kind)
    actor = _actor(event)
    try:
        text = build(event, actor) if build else None
    except (AttributeError, KeyError, TypeError, ValueError):  # a value of an unexpected shape
        text = None
    if text is None:
        text = format_html("{}", event.get_kind_display())
        if actor is not None:
            text = format_html("{}: {}", actor, text)
    return text


def _actor(event: TicketEvent) -> str | None:
    user = event.actor
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _say(template: str, **values: Any) -> SafeString:
    """`template` is a translated string with %(name)s placeholders; every value is escaped and shown in
    <strong>."""
    return mark_safe(
        escape(template) % {key: format_html("<strong>{}</strong>", value) for key, value in values.items()}
    )


def _choice(choices: type, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _named(value: Any) -> str | None:
    """A foreign key as the events log it: {"id": 3, "name": "Ana"} (or None)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id"))
    return str(value)


def _status(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = _choice(Ticket.Status, event.old_value), _choice(Ticket.Status, event.new_value)
    if event.old_value is None:
        if actor:
            return _say(_("%(actor)s set the status to %(new)s"), actor=actor, new=new)
        return _say(_("The status was set to %(new)s"), new=new)
    if actor:
        return _say(_("%(actor)s changed the status from %(old)s to %(new)s"), actor=actor, old=old, new=new)
    return _say(_("The status changed from %(old)s to %(new)s"), old=old, new=new)


def _priority(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = _choice(Ticket.Priority, event.old_value), _choice(Ticket.Priority, event.new_value)
    if actor:
        return _say(_("%(actor)s changed the priority from %(old)s to %(new)s"), actor=actor, old=old, new=new)
    return _say(_("The priority changed from %(old)s to %(new)s"), old=old, new=new)


def _language(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = _choice(Language, event.old_value), _choice(Language, event.new_value)
    if actor:
        return _say(_("%(actor)s changed the language from %(old)s to %(new)s"), actor=actor, old=old, new=new)
    return _say(_("The language changed from %(old)s to %(new)s"), old=old, new=new)


def _assigned(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = _named(event.old_value), _named(event.new_value)
    if new is None:
        if actor:
            return _say(_("%(actor)s unassigned the ticket from %(old)s"), actor=actor, old=old or "—")
        return _say(_("The ticket was unassigned from %(old)s"), old=old or "—")
    if actor and actor == new:
        return _say(_("%(actor)s took the ticket"), actor=actor)
    if actor:
        return _say(_("%(actor)s assigned the ticket to %(new)s"), actor=actor, new=new)
    return _say(_("The ticket was assigned to %(new)s"), new=new)


def _queue(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = _named(event.old_value) or "—", _named(event.new_value) or "—"
    if actor:
        return _say(_("%(actor)s moved the ticket from %(old)s to %(new)s"), actor=actor, old=old, new=new)
    return _say(_("The ticket moved from %(old)s to %(new)s"), old=old, new=new)


def _tags(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = list(event.old_value or []), list(event.new_value or [])
    added = ", ".join(tag for tag in new if tag not in old)
    removed = ", ".join(tag for tag in old if tag not in new)
    who = actor or _("The system")
    if added and removed:
        return _say(
            _("%(actor)s added the tags %(added)s and removed %(removed)s"), actor=who, added=added, removed=removed
        )
    if added:
        return _say(_("%(actor)s added the tags %(added)s"), actor=who, added=added)
    if removed:
        return _say(_("%(actor)s removed the tags %(removed)s"), actor=who, removed=removed)
    return _say(_("%(actor)s changed the tags"), actor=who)


def _subject(event: TicketEvent, actor: str | None) -> SafeString:
    old, new = str(event.old_value or ""), str(event.new_value or "")
    if actor:
        return _say(_("%(actor)s changed the subject from “%(old)s” to “%(new)s”"), actor=actor, old=old, new=new)
    return _say(_("The subject changed from “%(old)s” to “%(new)s”"), old=old, new=new)


def _created(event: TicketEvent, actor: str | None) -> SafeString:
    if actor:
        return _say(_("%(actor)s opened the ticket"), actor=actor)
    return format_html("{}", _("The ticket was opened"))


# Lazy: put into words when a reader's page is rendered, in the reader's language.
_DATE_FALLBACKS = {
    "future": gettext_lazy("its Date header was in the future, so it is shown at the time it arrived"),
    "unparseable": gettext_lazy("its Date header could not be read, so it is shown at the time it arrived"),
    "missing": gettext_lazy("it had no Date header, so it is shown at the time it arrived"),
}


def _received(event: TicketEvent, actor: str | None) -> SafeString:
    value = event.new_value if isinstance(event.new_value, dict) else {}
    sender = value.get("from")
    if sender:
        text = _say(_("A message arrived from %(sender)s"), sender=sender)
    else:
        text = format_html("{}", _("A message arrived from the requester"))
    fallback = _DATE_FALLBACKS.get(value.get("date_fallback") or "")
    if fallback:
        return format_html('{}: <span class="muted date-fallback">{}</span>', text, fallback)
    return text


def _message_id_reused(event: TicketEvent, actor: str | None) -> SafeString:
    return format_html("{}", _("This mail reused the Message-ID of another mail; it was kept as its own mail"))


def _reply(event: TicketEvent, actor: str | None) -> SafeString:
    if actor:
        return _say(_("%(actor)s replied to the requester"), actor=actor)
    return format_html("{}", _("A reply was sent to the requester"))


def _note(event: TicketEvent, actor: str | None) -> SafeString:
    if actor:
        return _say(_("%(actor)s added an internal note"), actor=actor)
    return format_html("{}", _("An internal note was added"))


def _reopened(event: TicketEvent, actor: str | None) -> SafeString:
    if actor:
        return _say(_("%(actor)s reopened the ticket"), actor=actor)
    return format_html("{}", _("The requester wrote again and the ticket reopened"))


def _merged(event: TicketEvent, actor: str | None) -> SafeString | None:
    value = event.new_value or {}
    who = actor or _("The system")
    if "into" in value:
        return _say(_("%(actor)s merged this ticket into #%(number)s"), actor=who, number=value["into"])
    if "from" in value:
        count = int(value.get("messages") or 0)
        template = ngettext(
            "%(actor)s merged ticket #%(number)s into this one (%(count)s message)",
            "%(actor)s merged ticket #%(number)s into this one (%(count)s messages)",
            count,
        )
        return _say(template, actor=who, number=value["from"], count=count)
    return None


def _follow_up(event: TicketEvent, actor: str | None) -> SafeString:
    return _say(_("Follow-up ticket #%(number)s was opened"), number=(event.new_value or {})["ticket"])


def _delivery(event: TicketEvent, actor: str | None) -> SafeString:
    new = _choice(Message.Delivery, event.new_value)
    if event.old_value:
        old = _choice(Message.Delivery, event.old_value)
        return _say(_("Delivery of a reply: %(old)s, now %(new)s"), old=old, new=new)
    return _say(_("Delivery of a reply: %(new)s"), new=new)


def _auto_ack(event: TicketEvent, actor: str | None) -> SafeString:
    return format_html("{}", _("The requester got the automatic acknowledgement"))


def _clock(value: Any) -> str:
    return _choice(SlaClock, value["clock"])


def _sla_warning(event: TicketEvent, actor: str | None) -> SafeString:
    return _say(_("SLA warning: %(clock)s is close to its target"), clock=_clock(event.new_value))


def _sla_breach(event: TicketEvent, actor: str | None) -> SafeString:
    return _say(_("SLA breached: %(clock)s missed its target"), clock=_clock(event.new_value))


def _escalated(event: TicketEvent, actor: str | None) -> SafeString:
    value = event.new_value or {}
    queue = _named(value.get("queue")) or "—"
    rule = value.get("rule")
    reason_text = value.get("reason_text")
    if rule:
        rule_name = system_texts.rule_name(_named(rule))
        return _say(_("Escalated to %(queue)s by the rule “%(rule)s”"), queue=queue, rule=rule_name)
    if reason_text:
        reason = system_texts.render(reason_text["code"], reason_text.get("params"), fallback=value.get("reason", ""))
        return _say(_("Escalated to %(queue)s: %(reason)s"), queue=queue, reason=reason)
    if actor:
        return _say(
            _("%(actor)s escalated the ticket to %(queue)s: “%(reason)s”"),
            actor=actor,
            queue=queue,
            reason=value.get("reason", ""),
        )
    return _say(_("Escalated to %(queue)s: %(reason)s"), queue=queue, reason=value.get("reason", ""))


def _handed_back(event: TicketEvent, actor: str | None) -> SafeString:
    queue = _named((event.new_value or {}).get("queue")) or "—"
    if actor:
        return _say(_("%(actor)s (%(queue)s) handed the ticket back"), actor=actor, queue=queue)
    return _say(_("%(queue)s handed the ticket back"), queue=queue)


def _claimed(event: TicketEvent, actor: str | None) -> SafeString:
    queue = _named((event.new_value or {}).get("queue")) or "—"
    return _say(_("%(actor)s (%(queue)s) took the escalation"), actor=actor or _("The system"), queue=queue)


def _rule_fired(event: TicketEvent, actor: str | None) -> SafeString:
    value = event.new_value or {}
    trigger = _choice(EscalationRule.Trigger, value.get("trigger")) if value.get("trigger") else ""
    rule = system_texts.rule_name(value["name"])
    if trigger:
        return _say(_("The rule “%(rule)s” applied (%(trigger)s)"), rule=rule, trigger=trigger)
    return _say(_("The rule “%(rule)s” applied"), rule=rule)


def _sop_step(checked: bool) -> Callable[[TicketEvent, str | None], SafeString]:
    def build(event: TicketEvent, actor: str | None) -> SafeString:
        value = (event.new_value if checked else event.old_value) or {}
        step = value["text"]
        who = actor or _("The system")
        if checked:
            return _say(_("%(actor)s ticked the step “%(step)s”"), actor=who, step=step)
        return _say(_("%(actor)s unticked the step “%(step)s”"), actor=who, step=step)

    return build


def _macro(event: TicketEvent, actor: str | None) -> SafeString:
    return _say(
        _("%(actor)s applied the macro “%(macro)s”"),
        actor=actor or _("The system"),
        macro=cast(dict, event.new_value)["name"],
    )


def _categories(value: Any) -> str:
    codes = (value or {}).get("categories") or []
    return ", ".join(str(CATEGORIES.get(code, code)) for code in codes)


def _flagged(event: TicketEvent, actor: str | None) -> SafeString:
    return _say(_("The scanner flagged: %(categories)s"), categories=_categories(event.new_value))


def _cleared(event: TicketEvent, actor: str | None) -> SafeString:
    return _say(
        _("%(actor)s cleared the flag: %(categories)s"),
        actor=actor or _("The system"),
        categories=_categories(event.old_value),
    )


_BUILDERS: dict[str, Callable[[TicketEvent, str | None], SafeString | None]] = {
    Kind.CREATED: _created,
    Kind.MESSAGE_RECEIVED: _received,
    Kind.REPLY_SENT: _reply,
    Kind.NOTE_ADDED: _note,
    Kind.STATUS_CHANGED: _status,
    Kind.PRIORITY_CHANGED: _priority,
    Kind.ASSIGNED: _assigned,
    Kind.QUEUE_CHANGED: _queue,
    Kind.TAGS_CHANGED: _tags,
    Kind.LANGUAGE_CHANGED: _language,
    Kind.SUBJECT_CHANGED: _subject,
    Kind.REOPENED: _reopened,
    Kind.MERGED: _merged,
    Kind.FOLLOW_UP_OPENED: _follow_up,
    Kind.DELIVERY_CHANGED: _delivery,
    Kind.AUTO_ACK_SENT: _auto_ack,
    Kind.SLA_WARNING: _sla_warning,
    Kind.SLA_BREACH: _sla_breach,
    Kind.ESCALATED: _escalated,
    Kind.HANDED_BACK: _handed_back,
    Kind.RULE_FIRED: _rule_fired,
    Kind.SOP_STEP_CHECKED: _sop_step(True),
    Kind.SOP_STEP_UNCHECKED: _sop_step(False),
    Kind.MACRO_APPLIED: _macro,
    Kind.SENSITIVITY_FLAGGED: _flagged,
    Kind.SENSITIVITY_CLEARED: _cleared,
    Kind.MESSAGE_ID_REUSED: _message_id_reused,
    Kind.ESCALATION_CLAIMED: _claimed,
}
