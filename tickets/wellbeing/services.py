"""Writes for associate wellbeing: flag a message and its ticket, clear a false flag, log reveals and
access to sensitive content, record exposure, pause intake.

Names: a function that takes a ticket number and the acting user (`actor`, keyword-only: `clear_flag`,
`log_reveal`) checks that the actor may see the ticket, and locks it when it writes it; one that takes a
ticket or message instance (`flag_ticket`, `store_verdict`, `inherit_restrictions`, `log_access`) trusts
its caller to have done so. The associate's own intake (`set_intake_paused`, `skip_category`) takes them as
`actor`. Exposure accounting (`budget_for`, `record_intake`, `record_ticket_view`, `record_screen_time`,
`log_child_safety_access`, `notify_leads`) takes `user`: the associate whose exposure is counted, on a
ticket the caller already read through their access rules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tickets import db, selectors, services, sla, system_texts
from tickets.email.parsing import html_to_text
from tickets.escalations import services as escalations
from tickets.models import (
    Attachment,
    Escalation,
    EscalationRule,
    ExposureBudget,
    ExposureEntry,
    FlagClearance,
    Message,
    Notification,
    Profile,
    Queue,
    Role,
    SensitiveAccessLog,
    Ticket,
    TicketEvent,
)
from tickets.wellbeing import selectors as wellbeing_selectors
from tickets.wellbeing.detection import CATEGORIES, Category, Finding, Verdict, get_classifier, normalise

logger = logging.getLogger(__name__)

# The tags that make the self-harm and child-safety SOPs (and any other procedure tagged so) apply.
SELF_HARM_TAG = "self-harm"
CHILD_SAFETY_TAG = "child-safety"
# Categories that make a ticket urgent and bring their SOP, by the tag that SOP is found by.
URGENT_CATEGORIES = {Category.SELF_HARM: SELF_HARM_TAG, Category.CHILD_SAFETY: CHILD_SAFETY_TAG}
# The built-in escalation rule's name: stored in English, shown in the reader's language.
CHILD_SAFETY_RULE_NAME = gettext_noop("Child-safety content → Trust & Safety")
# Only text attachments are read, and only their head: the scan is on the inbound hot path.
TEXT_ATTACHMENT_BYTES = 20_000
# Every field of a message that the ticket page (`templates/tickets/_message.html`) shows an associate.
# Each is scanned; a test fails when the page shows a field that is not listed here.
SHOWN_TEXT_FIELDS = ("from_name", "from_address", "subject", "body_text", "quoted_text")
# Of those, the ones read only with the rest (`shown_parts`); the others are also read alone (`read_alone`).
SHOWN_HEADER_FIELDS = ("from_name", "from_address", "subject")
SHOWN_HTML_FIELDS = ("body_html", "quoted_html")
# Attachments an associate can read as text: any text/* type, and the usual text files sent as
# application/octet-stream by clients that do not know better.
TEXT_ATTACHMENT_EXTENSIONS = (".txt", ".text", ".csv", ".log", ".md", ".htm", ".html", ".eml", ".ics", ".vcf")


def classify_message(message: Message, attachments: Iterable = ()) -> Verdict:
    """The verdict on everything an associate can be shown of a message (see `shown_text`), without writing
    it: the caller has writes of its own to make first when the message is flagged; `store_verdict` then
    writes it.

    The whole is read. So is each piece written apart from the rest (`read_alone`): the paragraphs of a part
    (the new text, the quoted history, an HTML rendering, an attachment), or the part itself when it is one
    paragraph among several parts or the only one beside the headers. A statement in a paragraph of its own,
    below a support question or a quote, or a line below a sender's name and a subject, is then read as it was
    written, not averaged with the text around it. A piece read alone adds a category only on stronger evidence
    than the whole needs (`counts_alone`). A category any reading flags is flagged, with its highest confidence
    and every phrase found."""
    classifier = get_classifier()
    headers, written = shown_parts(message, attachments)
    verdicts = [classifier.classify("\n".join(headers + written))]
    # A short piece counts only through a phrase of the term lists (`counts_alone`): when the classifier has
    # term lists, they alone decide whether a short piece is worth the model's reading (most are a greeting or
    # a signature). So they do for a message's only part read without its headers: the whole read it already,
    # and the headers weigh only on a statement the lists can name.
    terms = getattr(classifier, "terms", None)
    pieces = read_alone(written, beside_headers=bool(headers))
    sole = len(written) == 1 and pieces == written
    for piece in pieces:
        short = len(_WORD.findall(piece)) < PIECE_MIN_WORDS
        if (short or sole) and terms is not None and not terms.scores(normalise(piece)):
            continue
        verdict = classifier.classify(piece)
        kept = tuple(finding for finding in verdict.findings if counts_alone(finding, short=short))
        verdicts.append(Verdict(kept, verdict.classifier))
    return merged(verdicts)


# What a piece read alone needs to add a category (`counts_alone`).
PIECE_CONFIDENCE = 0.95
PIECE_MIN_WORDS = 5
_WORD = re.compile(r"\w+")


def counts_alone(finding: Finding, *, short: bool) -> bool:
    """A finding on a piece read alone counts when the term lists found one of the category's phrases in it,
    or when the model is sure (`PIECE_CONFIDENCE`) of a piece that is not `short` (under `PIECE_MIN_WORDS`
    words). The model reads short everyday text as harm too often to be trusted at its threshold on every
    paragraph: at the threshold, interleaved answers ("Não troquei, é o mesmo aparelho de sempre.") read as
    self-harm, and a signature's "-Me" as bullying at 0.997. docs/wellbeing.md has the figures of each rule
    tried."""
    return bool(finding.phrases) or (not short and finding.confidence >= PIECE_CONFIDENCE)


# Paragraphs are cut at blank lines, a quoted blank line ("> ") included.
PARAGRAPH_BREAK = re.compile(r"\n[ \t>]*\n")
QUOTE_MARKERS = re.compile(r"(?m)^[ \t>]+")
# Bounds on the pieces read alone, so that a mail of ten thousand one-line paragraphs costs no more than a
# few dozen readings (the whole is always read, up to the model's own bound).
PIECES_READ_ALONE = 40
PIECE_CHARS_READ_ALONE = 20_000


def read_alone(written: list[str], *, beside_headers: bool = False) -> list[str]:
    """The pieces of a message's written parts (`shown_parts`) read on their own besides the whole: the
    paragraphs of a part that has more than one, else the part itself when there is more than one part, or
    when it is the only one and `beside_headers` (the sender's name and address and a subject such as "Re:
    Conta bloqueada" weigh on a one-line message read whole: v14 gives "Não aguento mais, eu quero me matar."
    0.656 for self-harm below them, against a threshold of 0.767, and 0.999 alone). In
    order, each once: the same words with other spacing or quote markers count as one (an HTML part's
    rendering repeats the text part's). At most `PIECES_READ_ALONE` of them and `PIECE_CHARS_READ_ALONE`
    characters in all; a piece longer than what is left is passed over for the shorter ones after it."""
    pieces: dict[str, str] = {}  # the same words once (an HTML part's rendering repeats the text part's)
    alone = len(written) > 1 or beside_headers  # a part of one paragraph is read as itself
    for part in written:
        paragraphs = [p for p in PARAGRAPH_BREAK.split(part) if p.strip()]
        for piece in paragraphs if len(paragraphs) > 1 else ([part] if alone else []):
            pieces.setdefault(" ".join(QUOTE_MARKERS.sub("", piece).split()), piece)
    chosen: list[str] = []
    chars = 0
    for piece in pieces.values():
        if len(chosen) == PIECES_READ_ALONE:
            break
        if chars + len(piece) <= PIECE_CHARS_READ_ALONE:  # a piece too long for what is left is passed over
            chosen.append(piece)
            chars += len(piece)
    return chosen


def merged(verdicts: list[Verdict]) -> Verdict:
    """One verdict flagging every category any of `verdicts` flags: its highest confidence, and the phrases
    of all of them, in the order found."""
    best: dict[str, Finding] = {}
    phrases: dict[str, dict[str, None]] = {}
    for verdict in verdicts:
        for finding in verdict.findings:
            if finding.category not in best or finding.confidence > best[finding.category].confidence:
                best[finding.category] = finding
            phrases.setdefault(finding.category, {}).update(dict.fromkeys(finding.phrases))
    findings = tuple(
        Finding(category, finding.confidence, tuple(phrases[category])) for category, finding in best.items()
    )
    return Verdict(findings=findings, classifier=verdicts[0].classifier if verdicts else "")


def shown_text(message: Message, attachments: Iterable = ()) -> str:
    """All the text an associate can be shown of a message, as one text (`shown_parts`)."""
    headers, written = shown_parts(message, attachments)
    return "\n".join(headers + written)


def shown_parts(message: Message, attachments: Iterable = ()) -> tuple[list[str], list[str]]:
    """All the text an associate can be shown of a message, as the headers (sender name and address, subject)
    and the parts written apart: the visible text and the quoted history, the HTML of both rendered as text
    (it may differ from the text part), and each attachment's name and, for a text attachment, the head of
    its content. `attachments` are the parsed parts (with `content`) or stored `Attachment` rows (their file
    is read). Empty parts are left out."""
    headers = [getattr(message, name) or "" for name in SHOWN_HEADER_FIELDS]
    written = [getattr(message, name) or "" for name in SHOWN_TEXT_FIELDS if name not in SHOWN_HEADER_FIELDS]
    # The HTML rendered as text is read when it says something the text fields do not: an HTML-only mail's
    # text part is that very rendering, and reading it twice doubles the scan's cost for nothing.
    said = {" ".join(part.split()) for part in headers + written}
    for name in SHOWN_HTML_FIELDS:
        if html := getattr(message, name):
            rendered = html_to_text(html)
            if " ".join(rendered.split()) not in said:
                written.append(rendered)
    for attachment in attachments:
        filename = getattr(attachment, "filename", "") or ""
        head = ""
        if is_text_attachment(filename, getattr(attachment, "content_type", "") or ""):
            head = _attachment_head(attachment)
            head = html_to_text(head) if filename.lower().endswith((".htm", ".html")) else head
        written.append("\n".join(p for p in (filename, head) if p))
    return [p for p in headers if p], [p for p in written if p]


def is_text_attachment(filename: str, content_type: str) -> bool:
    return content_type.lower().startswith("text/") or filename.lower().endswith(TEXT_ATTACHMENT_EXTENSIONS)


def _attachment_head(attachment) -> str:
    content = getattr(attachment, "content", None)
    if content is None:
        stored = getattr(attachment, "file", None)
        if not stored:
            return ""
        with stored.open("rb") as handle:
            content = handle.read(TEXT_ATTACHMENT_BYTES)
    head = bytes(content[:TEXT_ATTACHMENT_BYTES])
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a letter cut in two at the end of the head
            return head[: exc.start].decode("utf-8", errors="replace")
        return head.decode("windows-1252", errors="replace")


def store_verdict(
    message: Message,
    verdict: Verdict,
    *,
    log: services.EventLog | None = None,
    rules: list[EscalationRule] | None = None,
) -> None:
    """Keep a flagged verdict on the message and roll it up on its ticket (events to `log` when given;
    `rules` as for `flag_ticket`)."""
    message.sensitivity = verdict.as_json()
    message.save(update_fields=["sensitivity"])
    flag_ticket(message.ticket, verdict.categories, log=log, rules=rules)


@transaction.atomic
def flag_ticket(
    ticket: Ticket,
    categories: Iterable[str],
    *,
    log: services.EventLog | None = None,
    rules: list[EscalationRule] | None = None,
) -> list[str]:
    """Add categories to the ticket's sensitivity and act on the new ones: self-harm and child safety make
    the ticket urgent and bring their SOP (by tag); child safety also puts it under legal hold and
    escalates it to Trust & Safety through the built-in rule that names it. The `sensitive_content`
    escalation rules run too: `rules`, when the caller read the active ones already (a mail drain reads them
    once), else read now. Returns the categories that were new. Events go to `log` when given."""
    new = [c for c in categories if c in CATEGORIES and c not in ticket.sensitivity]
    if not new:
        return []
    ticket.sensitivity = sorted({*ticket.sensitivity, *new})
    update = ["sensitivity", "updated_at"]
    if Category.CHILD_SAFETY in new and not ticket.legal_hold:
        ticket.legal_hold = True
        update.append("legal_hold")
    ticket.save(update_fields=update)
    # The timeline says "The scanner flagged: self-harm or suicide" (categories as codes, named when read).
    services.record_event(ticket, TicketEvent.Kind.SENSITIVITY_FLAGGED, new={"categories": new}, log=log)
    tags = [URGENT_CATEGORIES[c] for c in new if c in URGENT_CATEGORIES and URGENT_CATEGORIES[c] not in ticket.tags]
    if tags or any(c in URGENT_CATEGORIES for c in new):
        changes: dict = {"tags": [*ticket.tags, *tags]} if tags else {}
        raise_priority = ticket.priority < Ticket.Priority.URGENT
        if raise_priority:
            changes["priority"] = Ticket.Priority.URGENT
        if changes:
            services.update_ticket(ticket, actor=None, log=log, **changes)
        if raise_priority and ticket.first_responded_at is None:
            # Still unanswered: its clocks follow the urgent policy, counted from when it was opened.
            sla.start_clocks(ticket, now=ticket.created_at)
    if Category.CHILD_SAFETY in new:
        child_safety_rule()
        rules = None  # that rule may have been created just now: the active ones are read afresh
    escalations.run_rules(ticket, EscalationRule.Trigger.SENSITIVE_CONTENT, log=log, rules=rules)
    if Category.CHILD_SAFETY in new:
        _escalate_to_trust_and_safety(ticket, log=log)
        if ticket.assignee is not None and not selectors.can_open(ticket.assignee, ticket):
            # The associate who had it may no longer open it: the ticket waits for a specialist.
            services.update_ticket(ticket, actor=None, assignee=None, log=log)
    return new


# Categories whose content only some people may read (see `selectors.tickets_visible_to`): moving such content
# onto a ticket that lacks them would widen who reads it.
RESTRICTED_CATEGORIES = frozenset({Category.CHILD_SAFETY})


def is_restricted(ticket: Ticket) -> bool:
    return bool(RESTRICTED_CATEGORIES & set(ticket.sensitivity))


def widens_restriction(source: Ticket, target: Ticket) -> bool:
    """Moving the source's content onto the target would show it to people the source hides it from."""
    return bool((RESTRICTED_CATEGORIES & set(source.sensitivity)) - set(target.sensitivity))


@transaction.atomic
def inherit_restrictions(
    ticket: Ticket, origins: Iterable[Ticket], *, move_escalations: bool, log: services.EventLog | None = None
) -> list[str]:
    """Make the ticket at least as restricted as each origin: their sensitivity (acted on as a new flag:
    child safety puts it under legal hold and escalates it to Trust & Safety), their legal hold, and their
    open escalations, moved (a merge: the source closes) or opened again on the ticket (a follow-up or a
    split: the origin keeps its own). Returns the categories the ticket gained. Events go to `log` when given."""
    origins = [o for o in origins if o.pk != ticket.pk]
    categories = sorted({c for o in origins for c in o.sensitivity})
    if any(o.legal_hold for o in origins) and not ticket.legal_hold:
        ticket.legal_hold = True
        ticket.save(update_fields=["legal_hold", "updated_at"])
    for origin in origins:
        for escalation in origin.escalations.filter(status=Escalation.Status.OPEN).select_related("target_queue"):
            duplicate = ticket.escalations.filter(
                status=Escalation.Status.OPEN, target_queue=escalation.target_queue_id
            ).exists()
            if not move_escalations:
                if not duplicate:
                    escalations.escalate(
                        ticket,
                        target_queue=escalation.target_queue,
                        reason=escalation.reason,
                        rule=escalation.rule,
                        log=log,
                    )
                continue
            if duplicate:
                # The ticket is already with that team: the source's request is answered by the target's.
                escalation.status = Escalation.Status.HANDED_BACK
                escalation.handed_back_at = timezone.now()
                escalation.resolution_note = _("Merged into #%(number)s.") % {"number": ticket.number}
                escalation.save(update_fields=["status", "handed_back_at", "resolution_note"])
            else:
                escalation.ticket = ticket
                escalation.save(update_fields=["ticket"])
    return flag_ticket(ticket, categories, log=log) if categories else []


def trust_and_safety_queue() -> Queue | None:
    return Queue.objects.filter(slug=settings.ACOLHE_TRUST_SAFETY_QUEUE).first()


def child_safety_rule() -> EscalationRule:
    """The rule child-safety content escalates by: the first `sensitive_content` rule for that category
    (an admin may rename or extend it), created the first time it is needed, so the escalation always
    names a rule and an admin finds it with the others."""
    rule = (
        EscalationRule.objects.filter(
            trigger=EscalationRule.Trigger.SENSITIVE_CONTENT, sensitivity__contains=[Category.CHILD_SAFETY]
        )
        .order_by("position", "pk")
        .first()
    )
    if rule is None:
        rule = EscalationRule.objects.create(
            name=CHILD_SAFETY_RULE_NAME,
            trigger=EscalationRule.Trigger.SENSITIVE_CONTENT,
            sensitivity=[Category.CHILD_SAFETY],
            raise_priority_to=Ticket.Priority.URGENT,
            escalate_to_queue=trust_and_safety_queue(),
        )
    return rule


def _escalate_to_trust_and_safety(ticket: Ticket, *, log: services.EventLog | None = None) -> None:
    """Child safety always reaches Trust & Safety, even when its rule was switched off or points nowhere."""
    queue = trust_and_safety_queue()
    if queue is None:
        logger.error("child-safety ticket #%s: no queue %r", ticket.number, settings.ACOLHE_TRUST_SAFETY_QUEUE)
        return
    if ticket.escalations.filter(status=Escalation.Status.OPEN, target_queue=queue).exists():
        return
    if queue.kind != Queue.Kind.CROSS_FUNCTIONAL:
        logger.error("child-safety ticket #%s: %s is not a cross-functional queue", ticket.number, queue.slug)
        return
    rule = child_safety_rule()
    escalations.escalate(
        ticket,
        target_queue=queue,
        reason="",
        reason_text=system_texts.text("scanner_child_safety"),
        rule=rule,
        log=log,
    )


def can_clear(user: User, ticket: Ticket, category: str) -> bool:
    if category == Category.CHILD_SAFETY:
        # Specialists only (docs/wellbeing.md): an admin outside Trust & Safety cannot read the content.
        return selectors.has_role(user, Role.SPECIALIST)
    return True


@transaction.atomic
def clear_flag(number: int, category: str, note: str = "", *, actor: User) -> FlagClearance:
    """An associate judges a category a false flag: it leaves the ticket and the clearance is recorded
    (leads read the scanner's precision from these). A legal hold stays until an admin lifts it."""
    ticket = selectors.tickets_visible_to(actor).select_for_update(of=("self",)).filter(number=number).first()
    if ticket is None:
        raise PermissionDenied(_("You cannot see this ticket."))
    if category not in ticket.sensitivity:
        raise ValidationError(_("This ticket is not flagged for that category."))
    if not can_clear(actor, ticket, category):
        raise PermissionDenied(_("Only the specialist team can clear a child-safety flag."))
    ticket.sensitivity = [c for c in ticket.sensitivity if c != category]
    ticket.save(update_fields=["sensitivity", "updated_at"])
    services.record_event(ticket, TicketEvent.Kind.SENSITIVITY_CLEARED, actor=actor, old={"categories": [category]})
    return FlagClearance.objects.create(ticket=ticket, category=category, cleared_by=actor, note=note.strip()[:500])


def log_access(
    user: User, ticket: Ticket, kind: str, *, attachment: Attachment | None = None, detail: str = ""
) -> SensitiveAccessLog:
    return SensitiveAccessLog.objects.create(
        user=user, ticket=ticket, kind=kind, attachment=attachment, detail=detail[:300]
    )


def log_reveal(number: int, *, actor: User, attachment_id: int | None, source: str = "") -> SensitiveAccessLog:
    """An associate chose to see one blurred image or video: logged with the attachment when it is ours."""
    ticket = selectors.tickets_visible_to(actor).filter(number=number).first()
    if ticket is None:
        raise PermissionDenied(_("You cannot see this ticket."))
    attachment = None
    if attachment_id is not None:
        attachment = Attachment.objects.filter(pk=attachment_id, message__ticket=ticket).first()
    return log_access(actor, ticket, SensitiveAccessLog.Kind.REVEAL, attachment=attachment, detail=source)


def budget_for(user: User, *, lock: bool = False) -> ExposureBudget:
    if lock:
        # Most associates have their row already: lock it in one query, create it only the first time.
        budget = db.locked_budget(user.pk)
        if budget is not None:
            return budget
    budget, _ = ExposureBudget.objects.get_or_create(user=user)
    if lock:
        budget = ExposureBudget.objects.select_for_update().get(pk=budget.pk)
    return budget


def set_intake_paused(paused: bool, *, actor: User) -> ExposureBudget:
    """Pause or resume intake: while paused, Next ticket gives the associate nothing. A pause is a break:
    the hourly break prompt counts its hour from here."""
    with transaction.atomic():
        budget = budget_for(actor, lock=True)
        budget.intake_paused_at = (budget.intake_paused_at or timezone.now()) if paused else None
        update = ["intake_paused_at"]
        if paused:
            budget.seconds_at_last_break = wellbeing_selectors.exposure(actor, budget).seconds
            update.append("seconds_at_last_break")
        budget.save(update_fields=update)
    return budget


def skip_category(category: str, *, actor: User, now=None) -> ExposureBudget:
    """The associate asks Next ticket not to give them this category for the rest of their shift."""
    if category not in CATEGORIES:
        raise ValidationError(_("Unknown category."))
    now = now or timezone.now()
    with transaction.atomic():
        budget = budget_for(actor, lock=True)
        if budget.skip_until is None or budget.skip_until <= now:
            budget.skipped_categories = []
        budget.skipped_categories = sorted({*budget.skipped_categories, category})
        budget.skip_until = now + timedelta(hours=settings.ACOLHE_SHIFT_HOURS)
        budget.save(update_fields=["skipped_categories", "skip_until"])
    return budget


def record_ticket_view(user: User, ticket: Ticket, *, now=None) -> ExposureEntry | None:
    """A ticket page was rendered for the user, whatever page led there (a list, search, a notification,
    a link): child-safety access is logged, and a sensitive ticket counts towards the shift's exposure."""
    log_child_safety_access(user, ticket)
    if not ticket.sensitivity:
        return None
    return _count_exposure(user, ticket, now=now or timezone.now(), views=1)


def record_api_read(user: User, tickets: Iterable[Ticket], *, now=None) -> list[ExposureEntry]:
    """The API gave the user a ticket or messages of tickets (a detail, a page of a list): each ticket read
    counts once for this response, as a page view does; child-safety access is logged."""
    now = now or timezone.now()
    distinct = {ticket.pk: ticket for ticket in tickets}
    entries = [record_ticket_view(user, ticket, now=now) for ticket in distinct.values()]
    return [entry for entry in entries if entry is not None]


def record_screen_time(user: User, ticket: Ticket, *, slot: int, seconds: int, now=None):
    """The page of a sensitive ticket was on screen for one heartbeat slot: its seconds count towards the
    shift's exposure, once per slot however many beats arrive in it."""
    if not ticket.sensitivity:
        return None
    return _count_exposure(user, ticket, now=now or timezone.now(), slot=slot, seconds=seconds)


def _count_exposure(
    user: User, ticket: Ticket, *, now, views: int = 0, slot: int = 0, seconds: int = 0
) -> ExposureEntry:
    since = wellbeing_selectors.shift_start(now)
    with transaction.atomic():
        # The budget row is locked as routing locks it: a view or a beat and a press of Next ticket by the
        # same associate are counted one after the other, and a lead is told of a limit once.
        budget = budget_for(user, lock=True)
        before = wellbeing_selectors.exposure(user, budget, now)
        entry, created = ExposureEntry.objects.get_or_create(
            user=user,
            ticket=ticket,
            defaults={"sensitive": True, "categories": list(ticket.sensitivity), "taken_at": now},
        )
        first_in_shift = created or entry.taken_at < since
        if first_in_shift and not created:
            # Seen in an earlier shift: this shift counts it afresh.
            entry.taken_at, entry.views, entry.seconds, entry.last_slot = now, 0, 0, 0
        # The first look at it this shift (a ticket given by Next ticket has an entry with no view yet).
        first_view = views > 0 and entry.views == 0
        entry.sensitive, entry.categories = True, list(ticket.sensitivity)
        entry.views += views
        if slot and slot > entry.last_slot:
            entry.seconds += seconds
            entry.last_slot = slot
        entry.save()
        after = wellbeing_selectors.exposure(user, budget, now)
        _tell_leads(user, ticket, budget, before, after, first_view, now)
    return entry


def _tell_leads(user, ticket: Ticket, budget: ExposureBudget, before, after, first_view: bool, now) -> None:
    """A private notice to the associate's leads when they first reach a limit in a shift, or first handle
    a child-safety or self-harm ticket in it: no ticket content, a name and a suggestion only."""
    name = user.get_full_name() or user.get_username()
    reached = after.over_budget and not before.over_budget
    heavy = first_view and {Category.CHILD_SAFETY, Category.SELF_HARM} & set(ticket.sensitivity)
    if reached and (budget.limit_notice_at is None or budget.limit_notice_at < wellbeing_selectors.shift_start(now)):
        budget.limit_notice_at = now
        budget.save(update_fields=["limit_notice_at"])
        notify_leads(
            user,
            lambda: _("%(name)s reached a limit of sensitive content for this shift. A word from you may help.")
            % {"name": name},
        )
    elif heavy:
        notify_leads(
            user,
            lambda: _("%(name)s is handling a child-safety or self-harm ticket. A word from you may help.")
            % {"name": name},
        )


def notify_leads(user: User, text) -> int:
    """An in-app notice, in each lead's language, to the leads of the associate's team (else the team
    leads of their queues); it links to the team's wellbeing page, never to a ticket."""
    leads = wellbeing_selectors.leads_of(user)
    if not leads:
        return 0
    languages = dict(Profile.objects.filter(user__in=leads).values_list("user_id", "ui_language"))
    url = reverse("wellbeing_team")
    for lead in leads:
        with translation.override(languages.get(lead.pk) or settings.LANGUAGE_CODE):
            body = str(text())[:500]
        Notification.objects.create(user=lead, kind=Notification.Kind.WELLBEING, text=body, url=url)
    return len(leads)


def record_intake(user: User, ticket: Ticket) -> ExposureEntry:
    """Count a ticket taken with Next ticket towards the associate's shift (call inside the routing
    transaction, with the budget row locked). A ticket they took before stays counted once, as then."""
    # One statement instead of get_or_create's read, savepoint, insert and release: this runs on every press.
    entry = db.add_intake(user, ticket, timezone.now())
    if entry is None:
        # The entry that stood in the way was committed after this statement began: read it afresh.
        return ExposureEntry.objects.get(user=user, ticket=ticket)
    return entry


def log_child_safety_access(user: User, ticket: Ticket, *, attachment: Attachment | None = None) -> None:
    """Every access to child-safety content is logged: ticket page views and attachment downloads."""
    if Category.CHILD_SAFETY not in ticket.sensitivity:
        return
    kind = SensitiveAccessLog.Kind.ATTACHMENT if attachment is not None else SensitiveAccessLog.Kind.VIEW
    log_access(user, ticket, kind, attachment=attachment)
