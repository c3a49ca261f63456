"""The SLA sweep: every minute, find the clocks whose warning or due time has passed, record each warning
and breach once, log it on the ticket and hand it to the escalation rules.

Due tickets are found through the index on `SlaCheck.next_check_at` in batches locked with SKIP LOCKED, so
two overlapping sweeps share the work; the unique constraint on `SlaAlert` is the last word if they ever
meet. Everything at or before `now` is handled, so a missed minute is caught up by the next run. The sweep
moves the narrow check rows forward and never rewrites a ticket row itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tickets import db
from tickets.models import Escalation, EscalationRule, SlaAlert, SlaClock, Ticket, TicketEvent

logger = logging.getLogger(__name__)

TRIGGER: dict[str, EscalationRule.Trigger] = {
    SlaAlert.Kind.WARNING: EscalationRule.Trigger.SLA_WARNING,
    SlaAlert.Kind.BREACH: EscalationRule.Trigger.SLA_BREACH,
}


@dataclass
class SweepResult:
    tickets: int = 0
    warnings: int = 0
    breaches: int = 0

    @property
    def alerts(self) -> int:
        return self.warnings + self.breaches


def sweep(now: datetime | None = None, batch_size: int = 1000) -> SweepResult:
    """Record every warning and breach due by `now` that is not recorded yet. Safe to run concurrently."""
    from tickets.escalations import services as escalations

    now = now or timezone.now()
    result = SweepResult()
    rules = escalations.active_rules()
    while True:
        with transaction.atomic():
            claimed, warnings, breaches, alerts = _sweep_batch(now, batch_size, rules)
            _escalate(alerts, rules)
        result.tickets += claimed
        result.warnings += warnings
        result.breaches += breaches
        if claimed < batch_size:
            break
    result.breaches += _sweep_escalations(now, batch_size, rules)
    return result


def _sweep_batch(now: datetime, batch_size: int, rules: list) -> tuple[int, int, int, list[SlaAlert]]:
    """One batch (`db.sweep_batch`): the tickets claimed, the warnings and breaches recorded, and the new
    alerts some rule listens for, with their tickets loaded."""
    # Only the (kind, clock) pairs some rule listens for come back to Python; an empty clock is any clock.
    listened = sorted(
        {
            f"{kind}:{clock}"
            for rule in rules
            for kind, trigger in TRIGGER.items()
            if rule.trigger == trigger
            for clock in ([rule.clock] if rule.clock else SlaClock.values)
        }
    )
    claimed, warnings, breaches, alerts = db.sweep_batch(now, batch_size, listened)
    if alerts:
        # Full rows, one instance per ticket: rules read any field and may change the ticket, and a later
        # alert of the same ticket must see those changes.
        tickets = Ticket.objects.in_bulk({alert.ticket_id for alert in alerts})
        for alert in alerts:
            alert.ticket = tickets[alert.ticket_id]
    return claimed, warnings, breaches, alerts


def _log(alerts: list[SlaAlert]) -> None:
    """Log alerts recorded from Python (escalation breaches, a handful per run) on their tickets, in the
    same form as the clock alerts the batch statement logs."""
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=alert.ticket_id,
            kind=db.EVENT_KIND[alert.kind],
            new_value={"clock": alert.clock, "cycle": alert.cycle, "due_at": alert.due_at.isoformat()},
            created_at=alert.recorded_at,
        )
        for alert in alerts
    )


def _escalate(alerts: list[SlaAlert], rules: list) -> None:
    """Hand each alert to the rules. Only alerts that some rule could apply to pay for a savepoint: the
    check runs just before each alert, on the ticket as earlier rules left it."""
    from tickets.escalations import services as escalations

    for alert in alerts:
        trigger = TRIGGER[alert.kind]
        if not any(
            rule.trigger == trigger
            and (not rule.clock or rule.clock == alert.clock)
            and escalations.may_match(rule, alert.ticket)
            for rule in rules
        ):
            continue
        try:
            # A rule that fails must not undo the record: it is logged and the sweep goes on.
            with transaction.atomic():
                escalations.on_sla_alert(alert, rules=rules)
        except Exception:
            logger.exception("escalation rules failed for SLA alert %s on ticket %s", alert.pk, alert.ticket_id)


def _sweep_escalations(now: datetime, batch_size: int, rules: list) -> int:
    """Escalations past their own target: one breach each, told to the specialist team's lead."""
    with transaction.atomic():
        overdue = list(
            Escalation.objects.filter(status=Escalation.Status.OPEN, breached_at=None, due_at__lte=now)
            .select_related("ticket")
            .select_for_update(skip_locked=True, of=("self",))[:batch_size]
        )
        if not overdue:
            return 0
        # One instance per ticket, as for the clocks: rules may change it between two of its escalations.
        tickets = {escalation.ticket_id: escalation.ticket for escalation in overdue}
        due = []
        for escalation in overdue:
            escalation.breached_at = now
            ticket = tickets[escalation.ticket_id]
            due.append((ticket, SlaClock.ESCALATION, escalation.pk, SlaAlert.Kind.BREACH, escalation.due_at))
        alerts = db.insert_alerts(due, now)
        _log(alerts)
        _escalate(alerts, rules)
        Escalation.objects.bulk_update(overdue, ["breached_at"])
    return len(alerts)
