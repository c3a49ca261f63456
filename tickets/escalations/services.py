"""Escalations to cross-functional queues, by hand or by rule, and the in-app and email notices they send.

An escalation keeps the ticket in its queue with its associate and opens it to the specialist team (see
`selectors.tickets_visible_to`); the specialists hand it back with a resolution note, which lands on the
ticket as an internal note and returns the ticket to the associate who asked.

Names: the acting user is `actor`, keyword-only. `claim` and `hand_back` take an escalation id and the
actor: they check that the actor belongs to the specialist team and lock the escalation. `escalate` takes
a ticket instance and trusts its caller to have read it through the actor's access rules (it checks again
only that the actor may see it); `actor=None` means a rule did it. Rule functions (`run_rules`,
`on_sla_alert`) act as the system.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tickets import selectors, services, sla, system_texts
from tickets.escalations import selectors as escalation_selectors
from tickets.models import (
    Escalation,
    EscalationRule,
    EscalationRuleFiring,
    Message,
    Notification,
    Profile,
    Queue,
    Role,
    SlaAlert,
    Ticket,
    TicketEvent,
)
from tickets.wellbeing.detection import Category

logger = logging.getLogger(__name__)
Kind = TicketEvent.Kind


# Notifications ---------------------------------------------------------------------------------------


def team_leads(queue: Queue) -> list[User]:
    """The leads of the queue's team, else the team leads among its members."""
    users = User.objects.filter(is_active=True)
    if queue.team_id is not None:
        leads = list(users.filter(led_teams=queue.team_id))
        if leads:
            return leads
    return list(users.filter(support_queues=queue, groups__name=Role.TEAM_LEAD).distinct())


def restricted(ticket: Ticket) -> bool:
    """Child-safety content: its notes and reasons never travel in notices or mail, only the ticket number."""
    return Category.CHILD_SAFETY in ticket.sensitivity


def notify(
    users: Iterable[User | None],
    *,
    ticket: Ticket,
    kind: str,
    text: Callable[[], str] | None = None,
    notice: dict | None = None,
) -> int:
    """One in-app notification per user who may open the ticket, written in their interface language, and
    the same by email once the transaction commits. A user who cannot open the ticket is not told about it
    at all. `notice` is a system text (`system_texts.text`), stored as its code so the page shows it in the
    reader's language of the moment; `text` is called under each user's language."""
    if notice is not None:
        text = lambda: system_texts.render(notice["code"], notice["params"])  # noqa: E731
    if text is None:
        raise TypeError("notify() needs a text or a notice")
    url = reverse("ticket", args=[ticket.number])
    recipients = {
        user.pk: user for user in users if user is not None and user.is_active and selectors.can_open(user, ticket)
    }
    languages = dict(Profile.objects.filter(user__in=recipients).values_list("user_id", "ui_language"))
    mails = []
    for user in recipients.values():
        with translation.override(languages.get(user.pk) or settings.LANGUAGE_CODE):
            body = text()[:500]
        Notification.objects.create(
            user=user,
            ticket=ticket,
            kind=kind,
            text=body,
            code=notice["code"] if notice else "",
            params=notice["params"] if notice else {},
            url=url,
        )
        if user.email:
            mails.append((body, f"{body}\n\n{settings.SITE_URL.rstrip('/')}{url}\n", user.email))

    def send() -> None:
        for subject, body, address in mails:
            try:
                send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, [address])
            except Exception:
                logger.exception("could not email a notification to %s", address)

    if mails:
        transaction.on_commit(send)
    return len(recipients)


# Escalate and hand back ------------------------------------------------------------------------------


@transaction.atomic
def escalate(
    ticket: Ticket,
    *,
    target_queue: Queue,
    reason: str,
    actor: User | None = None,
    rule: EscalationRule | None = None,
    now: datetime | None = None,
    reason_text: dict | None = None,
    log: services.EventLog | None = None,
) -> Escalation:
    """Send the ticket to a cross-functional queue with a reason and a target time of its own; the target
    queue's team lead is told. `actor` None means a rule did it. A reason the system writes comes as
    `reason_text` (`system_texts.text`) and is shown in each reader's language. Its event goes to `log`
    when given."""
    now = now or timezone.now()
    if reason_text is not None:
        with translation.override(settings.LANGUAGE_CODE):
            reason = system_texts.render(reason_text["code"], reason_text["params"])
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the ticket needs the specialists."))
    if target_queue.kind != Queue.Kind.CROSS_FUNCTIONAL:
        raise ValidationError(_("Tickets can only be escalated to a cross-functional queue."))
    if actor is not None and not selectors.tickets_visible_to(actor).filter(pk=ticket.pk).exists():
        raise PermissionDenied(_("You cannot see this ticket."))
    already = _("This ticket is already escalated to %(queue)s.") % {"queue": target_queue.name}
    if ticket.escalations.filter(status=Escalation.Status.OPEN, target_queue=target_queue).exists():
        raise ValidationError(already)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                ticket=ticket,
                from_queue=ticket.queue,
                target_queue=target_queue,
                reason=reason,
                reason_code=reason_text["code"] if reason_text else "",
                reason_params=reason_text["params"] if reason_text else {},
                requested_by=actor,
                rule=rule,
                return_to=_return_to(ticket, actor),
                due_at=sla.escalation_due_at(ticket, target_queue, now),
                created_at=now,
            )
    except IntegrityError as exc:  # the same escalation was made a moment ago
        raise ValidationError(already) from exc
    services.record_event(
        ticket,
        Kind.ESCALATED,
        actor=actor,
        new={
            "escalation": escalation.pk,
            "queue": {"id": target_queue.pk, "name": target_queue.name},
            "reason": reason,
            **({"reason_text": reason_text} if reason_text else {}),
            **({"rule": {"id": rule.pk, "name": rule.name}} if rule else {}),
        },
        log=log,
    )
    if restricted(ticket):
        notice = system_texts.text("notice_escalated_restricted", number=ticket.number, queue=target_queue.name)
    else:
        notice = system_texts.text(
            "notice_escalated", number=ticket.number, queue=target_queue.name, reason=reason_text or reason
        )
    notify(team_leads(target_queue), ticket=ticket, kind=Notification.Kind.ESCALATED, notice=notice)
    return escalation


def _return_to(ticket: Ticket, actor: User | None) -> User | None:
    """Who the ticket goes back to: the associate who escalated it, or (a rule did) its assignee; nobody
    when they cannot open the ticket (a scanner flag may have just closed it to them)."""
    candidate = actor if actor is not None else ticket.assignee
    return candidate if candidate is not None and selectors.can_open(candidate, ticket) else None


def _hand_back_assignee(ticket: Ticket, escalation: Escalation, actor: User) -> User | None:
    """Who takes the ticket after a hand-back: the associate it returns to, if they can open it; else a
    lead of its queue's team, the specialist handing it back, or another specialist of the team, whoever
    first can open it. None when nobody can."""
    candidates: list[User | None] = [escalation.return_to, *team_leads(ticket.queue)]
    candidates.append(actor)
    candidates += list(
        User.objects.filter(
            is_active=True, support_queues=escalation.target_queue, groups__name=Role.SPECIALIST
        ).order_by("pk")
    )
    for user in candidates:
        if user is not None and user.is_active and selectors.can_open(user, ticket):
            return user
    return None


@transaction.atomic
def claim(escalation_pk: int, *, actor: User) -> Escalation:
    """A specialist takes an open escalation of one of their teams (or takes it over from a colleague)."""
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("ticket", "target_queue")
        .filter(pk=escalation_pk)
        .first()
    )
    if escalation is None or not escalation_selectors.can_hand_back(actor, escalation):
        raise PermissionDenied(_("Only the specialist team can take this escalation."))
    if escalation.claimed_by_id == actor.pk:
        return escalation
    escalation.claimed_by = actor
    escalation.claimed_at = timezone.now()
    escalation.save(update_fields=["claimed_by", "claimed_at"])
    services.record_event(
        escalation.ticket,
        Kind.ESCALATION_CLAIMED,
        actor=actor,
        new={
            "escalation": escalation.pk,
            "queue": {"id": escalation.target_queue_id, "name": escalation.target_queue.name},
        },
    )
    return escalation


@transaction.atomic
def hand_back(escalation_pk: int, *, actor: User, note: str) -> Escalation:
    """The specialist team answers: the note goes on the ticket as an internal note, the ticket returns to
    the associate who escalated it if they can still open it (else to a lead or specialist who can, see
    `_hand_back_assignee`), and they are told (without the note when the ticket is restricted)."""
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("ticket__queue", "target_queue", "return_to")
        .filter(pk=escalation_pk)
        .first()
    )
    if escalation is None or not escalation_selectors.may_hand_back(actor, escalation):
        raise PermissionDenied(_("Only the specialist team can hand this ticket back."))
    if not escalation.is_open:
        raise ValidationError(_("This escalation was already handed back."))
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Write a resolution note for the associate."))
    ticket = escalation.ticket
    message, _event = services.add_note(ticket, actor=actor, body=note)
    escalation.status = Escalation.Status.HANDED_BACK
    escalation.handed_back_by = actor
    escalation.handed_back_at = timezone.now()
    escalation.resolution_note = note
    escalation.save(update_fields=["status", "handed_back_by", "handed_back_at", "resolution_note"])
    services.record_event(
        ticket,
        Kind.HANDED_BACK,
        actor=actor,
        message=message,
        new={
            "escalation": escalation.pk,
            "queue": {"id": escalation.target_queue_id, "name": escalation.target_queue.name},
        },
    )
    # The escalation is closed now: who can open the ticket is judged without it. A restricted ticket never
    # goes to someone who cannot open it.
    returning_to = escalation.return_to
    if returning_to is not None and not (returning_to.is_active and selectors.can_open(returning_to, ticket)):
        returning_to = _hand_back_assignee(ticket, escalation, actor)
    assignee = ticket.assignee
    if returning_to is None and assignee is not None and not selectors.can_open(assignee, ticket):
        returning_to = _hand_back_assignee(ticket, escalation, actor)
    if returning_to is not None and ticket.assignee_id != returning_to.pk:
        services.update_ticket(ticket, actor=actor, assignee=returning_to)
    elif assignee is not None and not selectors.can_open(assignee, ticket):
        services.update_ticket(ticket, actor=actor, assignee=None)
    if restricted(ticket):
        # The note stays on the ticket: notices and mail leave the building, and the note may name a report or
        # an account.
        notice = system_texts.text(
            "notice_handed_back_restricted", queue=escalation.target_queue.name, number=ticket.number
        )
    else:
        notice = system_texts.text(
            "notice_handed_back", queue=escalation.target_queue.name, number=ticket.number, note=note
        )
    notify(
        [returning_to] if returning_to is not None else team_leads(escalation.from_queue),
        ticket=ticket,
        kind=Notification.Kind.HANDED_BACK,
        notice=notice,
    )
    return escalation


# Rules -----------------------------------------------------------------------------------------------


def active_rules() -> list[EscalationRule]:
    return list(
        EscalationRule.objects.filter(is_active=True)
        .select_related("assign_to", "move_to_queue", "escalate_to_queue")
        .prefetch_related("queues")
        .order_by("position", "id")
    )


def on_sla_alert(alert: SlaAlert, rules: list[EscalationRule] | None = None) -> list[EscalationRuleFiring]:
    """Run the rules for a warning or breach the sweep just recorded."""
    trigger = (
        EscalationRule.Trigger.SLA_WARNING if alert.kind == SlaAlert.Kind.WARNING else EscalationRule.Trigger.SLA_BREACH
    )
    notice = None
    if alert.kind == SlaAlert.Kind.BREACH:
        notice = _sla_notice(alert)
    return run_rules(
        alert.ticket,
        trigger,
        clock=alert.clock,
        key=f"{trigger}:{alert.clock}:{alert.cycle}",
        rules=rules,
        notice=notice,
    )


def _sla_notice(alert: SlaAlert) -> dict:
    code = "notice_sla_breach" if alert.kind == SlaAlert.Kind.BREACH else "notice_sla_warning"
    return system_texts.text(code, clock=system_texts.text(f"clock_{alert.clock}"), number=alert.ticket.number)


def run_rules(
    ticket: Ticket,
    trigger: str,
    *,
    clock: str = "",
    key: str = "",
    rules: list[EscalationRule] | None = None,
    notice: dict | None = None,
    log: services.EventLog | None = None,
) -> list[EscalationRuleFiring]:
    """Apply, in order, every active rule for this trigger whose conditions hold; a rule fires at most
    once per ticket and `key` (the trigger and its clock cycle). Events go to `log` when given."""
    rules = active_rules() if rules is None else rules
    key = key or trigger
    fired = []
    for rule in rules:
        if rule.trigger != trigger or (rule.clock and rule.clock != clock) or not matches(rule, ticket):
            continue
        firing, created = EscalationRuleFiring.objects.get_or_create(rule=rule, ticket=ticket, trigger=key)
        if not created:
            continue
        _apply_actions(rule, ticket, trigger=trigger, clock=clock, notice=notice, log=log)
        fired.append(firing)
        if rule.stop_processing:
            break
    return fired


def matches(rule: EscalationRule, ticket: Ticket, now: datetime | None = None) -> bool:
    if not may_match(rule, ticket):
        return False
    if rule.no_reply_hours is not None:
        now = now or timezone.now()
        last_reply = (
            ticket.messages.filter(direction=Message.Direction.OUT, author__isnull=False)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if (last_reply or ticket.created_at) > now - timedelta(hours=rule.no_reply_hours):
            return False
    return True


def may_match(rule: EscalationRule, ticket: Ticket) -> bool:
    """The conditions `matches` can judge from the ticket row alone (everything but the time since the
    last reply): callers with many tickets use it to skip the ones no rule can apply to."""
    queue_ids = {queue.pk for queue in rule.queues.all()}
    if queue_ids and ticket.queue_id not in queue_ids:
        return False
    if rule.priorities and ticket.priority not in rule.priorities:
        return False
    if rule.tags and not set(rule.tags) & set(ticket.tags):
        return False
    if rule.sensitivity and not set(rule.sensitivity) & set(ticket.sensitivity):
        return False
    return not (rule.languages and ticket.language not in rule.languages)


def _apply_actions(
    rule: EscalationRule,
    ticket: Ticket,
    *,
    trigger: str,
    clock: str,
    notice: dict | None,
    log: services.EventLog | None = None,
) -> None:
    changes: dict = {}
    if rule.raise_priority_to and rule.raise_priority_to > ticket.priority:
        changes["priority"] = rule.raise_priority_to
    if rule.assign_to is not None and rule.assign_to.is_active:
        changes["assignee"] = rule.assign_to
    if rule.move_to_queue_id:
        changes["queue"] = rule.move_to_queue
    if rule.add_tags:
        changes["tags"] = [*ticket.tags, *rule.add_tags]
    services.record_event(
        ticket,
        Kind.RULE_FIRED,
        new={"rule": rule.pk, "name": rule.name, "trigger": trigger, "clock": clock},
        log=log,
    )
    if changes:
        services.update_ticket(ticket, actor=None, log=log, **changes)
    if (
        rule.escalate_to_queue is not None
        and not ticket.escalations.filter(
            status=Escalation.Status.OPEN, target_queue=rule.escalate_to_queue_id
        ).exists()
    ):
        escalate(
            ticket,
            target_queue=rule.escalate_to_queue,
            reason=rule.name,
            rule=rule,
            reason_text=system_texts.text("rule", rule=rule.name),
            log=log,
        )
    if rule.notify_team_lead:
        if notice is not None:
            notify(team_leads(ticket.queue), ticket=ticket, kind=Notification.Kind.SLA, notice=notice)
        else:
            notify(
                team_leads(ticket.queue),
                ticket=ticket,
                kind=Notification.Kind.SLA,
                notice=system_texts.text("notice_rule_applied", rule=rule.name, number=ticket.number),
            )
