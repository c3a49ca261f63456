"""Texts the system writes (escalation reasons, notices) are stored as a code and parameters, and put into
words when someone reads them, in the reader's language. A row written before codes existed has no code
and shows its stored text as it is.

A parameter may itself be a system text (`{"code": ..., "params": ...}`), rendered the same way; any other
parameter is shown as stored (names of queues and people are not translated; a rule's name, in any text, goes
through `rule_name`, which puts a built-in rule's into the reader's language).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

TEXTS = {
    # Escalation reasons
    "scanner_child_safety": _("Child-safety content found by the scanner."),
    "rule": _("Escalation rule “%(rule)s”"),
    # Notices
    "notice_escalated": _("Ticket #%(number)s was escalated to %(queue)s: %(reason)s"),
    "notice_handed_back": _("%(queue)s handed ticket #%(number)s back: %(note)s"),
    # Restricted (child-safety) tickets: the reason and the note stay on the ticket, never in a notice or mail.
    "notice_escalated_restricted": _("Ticket #%(number)s was escalated to %(queue)s."),
    "notice_handed_back_restricted": _("%(queue)s handed ticket #%(number)s back. Open the ticket to read the note."),
    "notice_rule_applied": _("Rule “%(rule)s” applied to ticket #%(number)s"),
    "notice_sla_breach": _("SLA breached: %(clock)s on ticket #%(number)s"),
    "notice_sla_warning": _("SLA warning: %(clock)s on ticket #%(number)s is close to its target"),
    # SLA clocks, as parameters of the notices (the same words as `SlaClock`'s labels)
    "clock_first_response": _("First response"),
    "clock_next_response": _("Next response"),
    "clock_resolution": _("Resolution"),
    "clock_escalation": _("Escalation"),
    # Attachments
    "attachment_too_large": _(
        "The file was larger than the %(limit)s MB limit and was not kept; the original mail is stored whole."
    ),
}


def text(code: str, **params: Any) -> dict[str, Any]:
    """A system text as stored: `text("rule", rule="Conteúdo infantil")`."""
    if code not in TEXTS:
        raise KeyError(f"unknown system text {code!r}")
    return {"code": code, "params": params}


def render(code: str, params: dict[str, Any] | None = None, *, fallback: str = "") -> str:
    """The text in the active language; `fallback` (the stored text) when the code is empty or unknown."""
    template = TEXTS.get(code or "")
    if template is None:
        return fallback
    values = {key: _render_param(value) for key, value in (params or {}).items()}
    if isinstance(values.get("rule"), str):
        values["rule"] = rule_name(values["rule"])
    try:
        return str(template) % values if values else str(template)
    except (KeyError, TypeError, ValueError):  # a row written by another version of the text
        return fallback or str(template)


def rule_name(name: str | None) -> str | None:
    """An escalation rule's name for the reader: a built-in rule's is stored in English and has a translation,
    in the active language; a team's own has none and shows as written."""
    return gettext(name) if name else name


def _render_param(value: Any) -> Any:
    if isinstance(value, dict) and "code" in value:
        return render(value["code"], value.get("params"), fallback=str(value.get("text", "")))
    return value
