"""Writes on SOPs, acknowledgements, checklists and macros. Ticket changes go through `tickets.services`.

Names: the acting user is `actor`, keyword-only. A function that takes a ticket number or a macro id and the
actor checks access and locks (`reply_with_macro` through `tickets.workspace.services.reply`,
`macro_for_reply` refuses a macro the actor may not use); one that takes an instance (`render_macro`,
`set_step_checked`, `acknowledge`, `publish_version`, `save_macro`) trusts its caller to have read it
through the actor's access rules (`sop.selectors`). `check_macro_actions` checks a macro's actions against
whoever applies it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import markdown
import nh3
from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q, TextField, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import generations
from sop.models import SOP, Acknowledgement, ChecklistStep, ChecklistTick, Macro, SOPVersion
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.models import Language, Queue, Ticket, TicketEvent
from tickets.workspace import services as workspace_services

# The generation of the must-read banners every page shows (`selectors.acknowledgements_to_show`).
ACKNOWLEDGEMENTS = "acknowledgements"

SEARCH_CONFIGS: dict[str, str] = {Language.PT: "portuguese", Language.EN: "english"}


class SOPError(ValueError):
    """A write that the SOP rules refuse (editing a published version, publishing twice, ...)."""


# --- rendering -------------------------------------------------------------------------------------------


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to show: nh3 strips script, styles, event handlers and unsafe links."""
    html = markdown.markdown(text, extensions=["sane_lists", "tables"], output_format="html")
    return nh3.clean(html, link_rel="noopener noreferrer")


# --- versions --------------------------------------------------------------------------------------------


def _parse_steps(steps: Iterable[tuple[str, bool] | str]) -> list[tuple[str, bool]]:
    parsed = []
    for step in steps:
        text, required = (step, False) if isinstance(step, str) else step
        text = text.strip()
        if text:
            parsed.append((text[:500], bool(required)))
    return parsed


def steps_from_text(text: str) -> list[tuple[str, bool]]:
    """One step per line; a line starting with `!` is a required step."""
    steps = []
    for line in text.splitlines():
        line = line.strip()
        required = line.startswith("!")
        line = line.lstrip("!").strip()
        if line:
            steps.append((line, required))
    return steps


def steps_to_text(version: SOPVersion) -> str:
    return "\n".join(f"{'! ' if step.required else ''}{step.text}" for step in version.steps.all())


def _save_text(version: SOPVersion, steps: Sequence[tuple[str, bool]]) -> None:
    version.body_html = render_markdown(version.body)
    version.save()
    version.steps.all().delete()
    ChecklistStep.objects.bulk_create(
        ChecklistStep(version=version, position=index, text=text, required=required)
        for index, (text, required) in enumerate(steps, start=1)
    )
    config = SEARCH_CONFIGS.get(version.language, "simple")
    SOPVersion.objects.filter(pk=version.pk).update(
        search_vector=SearchVector("title", weight="A", config=config)
        + SearchVector("body", weight="B", config=config)
        + SearchVector(Value(" ".join(text for text, _ in steps), output_field=TextField()), weight="C", config=config)
    )


@transaction.atomic
def create_version(
    sop: SOP,
    *,
    language: str,
    title: str,
    body: str,
    steps: Iterable[tuple[str, bool] | str] = (),
    change_summary: str = "",
    actor: User | None = None,
    must_read: bool = False,
    counterpart: SOPVersion | None = None,
) -> SOPVersion:
    """Add a draft version, written by `actor`, with the next number for its language. It links to the
    other language's current version unless another counterpart is given."""
    if language not in Language.values:
        raise SOPError(f"unknown language {language!r}")
    SOP.objects.select_for_update().filter(pk=sop.pk).first()  # numbers are handed out one at a time
    last = sop.versions.filter(language=language).aggregate(last=Max("number"))["last"] or 0
    if counterpart is None:
        counterpart = sop.versions.filter(is_current=True).exclude(language=language).first()
    version = SOPVersion(
        sop=sop,
        language=language,
        number=last + 1,
        title=title.strip()[:200],
        body=body,
        change_summary=change_summary.strip()[:500],
        author=actor,
        must_read=must_read,
        counterpart=counterpart,
    )
    _save_text(version, _parse_steps(steps))
    return version


@transaction.atomic
def update_draft(
    version: SOPVersion,
    *,
    title: str,
    body: str,
    steps: Iterable[tuple[str, bool] | str],
    change_summary: str = "",
    must_read: bool = False,
) -> SOPVersion:
    """Change a draft. A published version is the record of what associates were told: it never changes."""
    version = SOPVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise SOPError("a published version cannot be edited; create a new version")
    version.title = title.strip()[:200]
    version.body = body
    version.change_summary = change_summary.strip()[:500]
    version.must_read = must_read
    _save_text(version, _parse_steps(steps))
    return version


def affected_associates(version: SOPVersion):
    """Active members of the SOP's queues that take tickets in the version's language (any queue with that
    language when the SOP is tied to tags only)."""
    from django.contrib.auth import get_user_model

    queues = Queue.objects.filter(Q(languages__contains=[version.language]) | Q(languages=[]))
    sop_queues = version.sop.queues.all()
    if sop_queues.exists():
        queues = queues.filter(pk__in=sop_queues.values("pk"))
    return get_user_model().objects.filter(is_active=True, support_queues__in=queues).distinct()


@transaction.atomic
def publish_version(version: SOPVersion, *, actor: User | None = None) -> SOPVersion:
    """Make a draft the current version for its language; a must-read version asks every affected associate
    to acknowledge it."""
    version = SOPVersion.objects.select_for_update().select_related("sop").get(pk=version.pk)
    if not version.is_draft:
        raise SOPError("this version is already published")
    SOPVersion.objects.filter(sop=version.sop, language=version.language, is_current=True).update(is_current=False)
    version.status = SOPVersion.Status.PUBLISHED
    version.is_current = True
    version.published_at = timezone.now()
    version.save(update_fields=["status", "is_current", "published_at"])
    if version.must_read:
        now = timezone.now()
        Acknowledgement.objects.bulk_create(
            [Acknowledgement(version=version, user=user, requested_at=now) for user in affected_associates(version)],
            ignore_conflicts=True,
        )
        # Created in bulk, without a signal: the banners kept before are stale.
        generations.replace(ACKNOWLEDGEMENTS)
    return version


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed", "gap"
    text: str


def _version_lines(version: SOPVersion) -> list[str]:
    lines = [f"# {version.title}", "", *version.body.splitlines()]
    steps = list(version.steps.all())
    if steps:
        lines += ["", "## Checklist"]
        lines += [f"- [{'!' if step.required else ' '}] {step.text}" for step in steps]
    return lines


def version_diff(old: SOPVersion, new: SOPVersion, *, context: int = 3) -> list[DiffLine]:
    """Line diff of title, body and checklist from `old` to `new` (any two versions, either language)."""
    diff: list[DiffLine] = []
    a, b = _version_lines(old), _version_lines(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if diff:
            diff.append(DiffLine("gap", "…"))
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                diff += [DiffLine("same", line) for line in a[a1:a2]]
                continue
            diff += [DiffLine("removed", line) for line in a[a1:a2]]
            diff += [DiffLine("added", line) for line in b[b1:b2]]
    return diff


# --- acknowledgements ------------------------------------------------------------------------------------


def acknowledge(version: SOPVersion, *, actor: User) -> Acknowledgement:
    """Record that the actor has read the version. Reading one that nobody asked for is recorded too."""
    ack, created = Acknowledgement.objects.get_or_create(
        version=version, user=actor, defaults={"acknowledged_at": timezone.now()}
    )
    if not created and ack.acknowledged_at is None:
        ack.acknowledged_at = timezone.now()
        ack.save(update_fields=["acknowledged_at"])
    return ack


def remind_pending(version: SOPVersion, *, users: Iterable[User] | None = None) -> int:
    """Remind everyone (or the given users) who has not acknowledged the version; mail goes out on commit."""
    from sop.tasks import send_acknowledgement_reminders

    pending = Acknowledgement.objects.filter(version=version, acknowledged_at__isnull=True)
    if users is not None:
        pending = pending.filter(user__in=[user.pk for user in users])
    ids = list(pending.values_list("pk", flat=True))
    if ids:
        Acknowledgement.objects.filter(pk__in=ids).update(
            reminded_at=timezone.now(), reminder_count=F("reminder_count") + 1
        )
        transaction.on_commit(lambda: send_acknowledgement_reminders.delay(ids))
    return len(ids)


def send_reminder_mails(acknowledgement_ids: Iterable[int]) -> int:
    """Mail each still-pending associate a link to the version to read, in their interface language."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import translation

    from tickets.email.outbound import render_text_mail

    sent = 0
    pending = Acknowledgement.objects.filter(pk__in=list(acknowledgement_ids), acknowledged_at__isnull=True)
    for ack in pending.select_related("user__profile", "version__sop"):
        if not ack.user.email:
            continue
        profile = getattr(ack.user, "profile", None)
        language = (profile.ui_language if profile else "") or settings.LANGUAGE_CODE
        url = settings.SITE_URL.rstrip("/") + reverse("sop:version", args=[ack.version.sop.slug, ack.version.pk])
        with translation.override(language):
            subject = render_text_mail("sop/email/reminder_subject.txt", {"ack": ack}).strip()
            body = render_text_mail("sop/email/reminder.txt", {"ack": ack, "url": url})
        send_mail(subject, body, None, [ack.user.email])
        sent += 1
    return sent


# --- checklists on tickets -------------------------------------------------------------------------------


def set_step_checked(ticket: Ticket, step: ChecklistStep, *, checked: bool, actor: User | None) -> TicketEvent | None:
    """Tick or untick a step on a ticket and log it; no event when nothing changes."""
    version = step.version
    value = {
        "sop": version.sop.slug,
        "version": version.pk,
        "version_number": version.number,
        "language": version.language,
        "step": step.pk,
        "position": step.position,
        "text": step.text,
        "required": step.required,
    }
    with transaction.atomic():
        if checked:
            _t, created = ChecklistTick.objects.get_or_create(ticket=ticket, step=step, defaults={"checked_by": actor})
            if not created:
                return None
            return ticket_services.record_event(ticket, TicketEvent.Kind.SOP_STEP_CHECKED, actor=actor, new=value)
        deleted, _count = ChecklistTick.objects.filter(ticket=ticket, step=step).delete()
        if not deleted:
            return None
        return ticket_services.record_event(ticket, TicketEvent.Kind.SOP_STEP_UNCHECKED, actor=actor, old=value)


# --- macros ----------------------------------------------------------------------------------------------

VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")
# The only names a macro can use: a macro is text written by staff, not a template that can reach the ORM.
VARIABLES = {
    "requester.first_name": lambda t, a: t.requester.first_name,
    "requester.name": lambda t, a: t.requester.name,
    "requester.email": lambda t, a: t.requester.email,
    "ticket.number": lambda t, a: str(t.number),
    "ticket.subject": lambda t, a: t.subject,
    "queue.name": lambda t, a: t.queue.name,
    "agent.first_name": lambda t, a: (a.first_name or a.get_username()) if a else "",
    "agent.name": lambda t, a: (a.get_full_name() or a.get_username()) if a else "",
}


@dataclass
class RenderedMacro:
    text: str
    language: str
    fell_back: bool = False  # no body in the ticket's language: the other language's body was used
    missing: list[str] = field(default_factory=list)  # variables without a value, left in place to fill in
    unknown: list[str] = field(default_factory=list)  # names that are not variables, left as written


def render_macro(macro: Macro, ticket: Ticket, *, actor: User | None) -> RenderedMacro:
    """The macro's body in the ticket's language (else the other one) with its variables filled. Plain text:
    escaping is the job of whoever shows it as HTML."""
    language = ticket.language
    body = macro.body_for(language)
    fell_back = False
    if not body.strip():
        for other in Language.values:
            if other != language and macro.body_for(other).strip():
                language, body, fell_back = other, macro.body_for(other), True
                break
    missing: list[str] = []
    unknown: list[str] = []

    def fill(match: re.Match) -> str:
        name = match.group(1)
        getter = VARIABLES.get(name)
        if getter is None:
            unknown.append(name)
            return match.group(0)
        value = getter(ticket, actor)
        if not value:
            missing.append(name)
            return match.group(0)
        return str(value)

    text = VARIABLE.sub(fill, body)
    return RenderedMacro(text=text, language=language, fell_back=fell_back, missing=missing, unknown=unknown)


def _parse_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def macro_for_reply(macro_id: int | str | None, *, actor: User) -> Macro | None:
    """The macro a reply is written with: none when no id is given; one of the actor's shared or own active
    macros, else a `ValidationError` (a macro removed meanwhile, someone else's, a crafted id)."""
    from sop.selectors import macros_for

    if macro_id in (None, ""):
        return None
    pk = _parse_id(macro_id)
    macro = macros_for(actor).filter(pk=pk).select_related("set_queue").first() if pk else None
    if macro is None:
        raise ValidationError(_("This macro is not available any more; choose another one."))
    return macro


def macro_actions(macro: Macro) -> workspace_services.ReplyActions:
    return workspace_services.ReplyActions(
        status=macro.set_status, priority=macro.set_priority, add_tags=macro.add_tags, queue=macro.set_queue
    )


@transaction.atomic
def reply_with_macro(
    number: int, body: str, *, actor: User, macro_id: int | str | None, **options: Any
) -> workspace_services.ReplyResult:
    """`tickets.workspace.services.reply`, with the actions of the macro the reply was written with (status,
    priority, tags, queue) applied in the same transaction and with the same checks as by hand: a queue the
    actor cannot move tickets to refuses the whole reply. The macro's use is counted and logged."""
    macro = macro_for_reply(macro_id, actor=actor)
    if macro is not None:
        check_macro_actions(macro, actor=actor)
    actions = macro_actions(macro) if macro is not None else None
    result = workspace_services.reply(number, body, actor=actor, actions=actions, **options)
    if macro is not None and not result.repeated:
        Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
        applied = ticket_services.record_event(
            result.ticket, TicketEvent.Kind.MACRO_APPLIED, actor=actor, new={"macro": macro.pk, "name": macro.name}
        )
        result.events.insert(0, applied)
    return result


def check_macro_actions(macro: Macro, *, actor: User) -> None:
    """A macro may only do what its author may do by hand: move tickets to queues the author works in, set
    a known status. Checked again, against whoever applies it, when it is applied."""
    if macro.set_status and macro.set_status not in Ticket.Status.values:
        raise ValidationError(_("Unknown status."))
    if macro.set_queue_id and not ticket_selectors.queues_visible_to(actor).filter(pk=macro.set_queue_id).exists():
        queue = macro.set_queue
        raise ValidationError(_("You cannot move tickets to the queue %(queue)s.") % {"queue": queue and queue.name})


def save_macro(
    macro: Macro | None,
    *,
    actor: User,
    shared: bool,
    **fields: Any,
) -> Macro:
    """Create or change a macro. Only SOP managers keep shared macros; everyone else's are personal."""
    from sop.selectors import can_manage_sops

    macro = macro or Macro()
    for name, value in fields.items():
        setattr(macro, name, value)
    if "add_tags" in fields:
        macro.add_tags = ticket_services.normalise_tags(fields["add_tags"])
    macro.owner = None if shared and can_manage_sops(actor) else (macro.owner or actor)
    check_macro_actions(macro, actor=actor)
    macro.save()
    return macro
