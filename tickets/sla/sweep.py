"""The SLA sweep: every minute, find the clocks whose warning or due time has passed, record each warning
and breach once, log it on the ticket and hand it to the escalation rules.

Tickets are read through the partial index on `sla_next_check_at` in batches locked with SKIP LOCKED, so
two overlapping sweeps share the work; the unique constraint on `SlaAlert` is the last word if they ever
meet. Everything at or before `now` is handled, so a missed minute is caught up by the next run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from tickets.models import Escalation, EscalationRule, SlaAlert, SlaClock, Ticket, TicketEvent
from tickets.sla.clocks import next_check_at, running_clocks

logger = logging.getLogger(__name__)

EVENT_KIND = {SlaAlert.Kind.WARNING: TicketEvent.Kind.SLA_WARNING, SlaAlert.Kind.BREACH: TicketEvent.Kind.SLA_BREACH}


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
    from tickets import escalations

    now = now or timezone.now()
    result = SweepResult()
    rules = escalations.active_rules()
    while True:
        with transaction.atomic():
            batch = list(due_tickets(now).select_for_update(skip_locked=True)[:batch_size])
            if not batch:
                break
            due = []
            for ticket in batch:
                for clock in running_clocks(ticket):
                    if clock.warn_at is not None and clock.warn_at <= now:
                        due.append((ticket, clock.clock, clock.cycle, SlaAlert.Kind.WARNING, clock.due_at))
                    if clock.due_at <= now:
                        due.append((ticket, clock.clock, clock.cycle, SlaAlert.Kind.BREACH, clock.due_at))
                ticket.sla_next_check_at = next_check_at(ticket, after=now)
            created = _insert_alerts(due, now)
            _save_next_checks(batch)
            _log_and_escalate(created, rules)
        result.tickets += len(batch)
        for alert in created:
            if alert.kind == SlaAlert.Kind.WARNING:
                result.warnings += 1
            else:
                result.breaches += 1
        if len(batch) < batch_size:
            break
    result.breaches += _sweep_escalations(now, batch_size, rules)
    return result


def due_tickets(now: datetime):
    """Tickets with a warning or due time at or before `now` not yet behind the sweep (partial index)."""
    return Ticket.objects.filter(sla_next_check_at__lte=now).order_by("sla_next_check_at")


def _save_next_checks(batch: list[Ticket]) -> None:
    """One UPDATE for the whole batch (bulk_update's CASE over a thousand ids costs seconds)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Ticket._meta.db_table} AS t SET sla_next_check_at = v.at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE t.id = v.id",
            [[ticket.pk for ticket in batch], [ticket.sla_next_check_at for ticket in batch]],
        )


def _insert_alerts(due: list[tuple], now: datetime) -> list[SlaAlert]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: only the alerts this run really recorded come back."""
    if not due:
        return []
    columns = ["ticket_id", "clock", "cycle", "kind", "due_at", "recorded_at", "queue_id", "policy_id"]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(due))
    params = []
    tickets = {}
    for ticket, clock, cycle, kind, due_at in due:
        tickets[ticket.pk] = ticket
        params += [ticket.pk, clock, cycle, kind, due_at, now, ticket.queue_id, ticket.sla_policy_id]
    sql = (
        f"INSERT INTO {SlaAlert._meta.db_table} ({', '.join(columns)}) VALUES {placeholders} "
        "ON CONFLICT DO NOTHING RETURNING id, ticket_id, clock, cycle, kind, due_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    alerts = []
    for pk, ticket_id, clock, cycle, kind, due_at in rows:
        ticket = tickets[ticket_id]
        alert = SlaAlert(
            pk=pk,
            ticket=ticket,
            clock=clock,
            cycle=cycle,
            kind=kind,
            due_at=due_at,
            recorded_at=now,
            queue_id=ticket.queue_id,
            policy_id=ticket.sla_policy_id,
        )
        alerts.append(alert)
    return alerts


def _log_and_escalate(alerts: list[SlaAlert], rules: list) -> None:
    from tickets import escalations

    if alerts:
        # One INSERT from arrays: building thousands of model instances for bulk_create cost more than the
        # database's work.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TicketEvent._meta.db_table} (ticket_id, kind, new_value, created_at) "
                "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::jsonb[], %s::timestamptz[])",
                [
                    [alert.ticket_id for alert in alerts],
                    [EVENT_KIND[alert.kind] for alert in alerts],
                    [
                        json.dumps({"clock": alert.clock, "cycle": alert.cycle, "due_at": alert.due_at.isoformat()})
                        for alert in alerts
                    ],
                    [alert.recorded_at for alert in alerts],
                ],
            )
    # Only alerts that some rule listens for pay for a savepoint each.
    triggers = {rule.trigger for rule in rules}
    for alert in alerts:
        if _trigger(alert) not in triggers:
            continue
        try:
            # A rule that fails must not undo the record: it is logged and the sweep goes on.
            with transaction.atomic():
                escalations.on_sla_alert(alert, rules=rules)
        except Exception:
            logger.exception("escalation rules failed for SLA alert %s on ticket %s", alert.pk, alert.ticket_id)


def _trigger(alert: SlaAlert) -> str:
    if alert.kind == SlaAlert.Kind.WARNING:
        return EscalationRule.Trigger.SLA_WARNING
    return EscalationRule.Trigger.SLA_BREACH


def _sweep_escalations(now: datetime, batch_size: int, rules: list) -> int:
    """Escalations past their own target: one breach each, told to the specialist team's lead."""
    recorded = 0
    with transaction.atomic():
        overdue = list(
            Escalation.objects.filter(status=Escalation.Status.OPEN, breached_at=None, due_at__lte=now)
            .select_related("ticket")
            .select_for_update(skip_locked=True, of=("self",))[:batch_size]
        )
        for escalation in overdue:
            escalation.breached_at = now
            ticket = escalation.ticket
            due = [(ticket, SlaClock.ESCALATION, escalation.pk, SlaAlert.Kind.BREACH, escalation.due_at)]
            alerts = _insert_alerts(due, now)
            _log_and_escalate(alerts, rules)
            recorded += len(alerts)
        Escalation.objects.bulk_update(overdue, ["breached_at"])
    return recorded
