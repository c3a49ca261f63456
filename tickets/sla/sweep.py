"""The SLA sweep: every minute, find the clocks whose warning or due time has passed, record each warning
and breach once, log it on the ticket and hand it to the escalation rules.

Due tickets are found through the index on `SlaCheck.next_check_at` in batches locked with SKIP LOCKED, so
two overlapping sweeps share the work; the unique constraint on `SlaAlert` is the last word if they ever
meet. Everything at or before `now` is handled, so a missed minute is caught up by the next run. The sweep
moves the narrow check rows forward and never rewrites a ticket row itself.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from tickets.models import Escalation, EscalationRule, SlaAlert, SlaCheck, SlaClock, Ticket, TicketEvent
from tickets.sla.clocks import next_check_sql, running_clocks_sql

logger = logging.getLogger(__name__)

EVENT_KIND: dict[str, TicketEvent.Kind] = {
    SlaAlert.Kind.WARNING: TicketEvent.Kind.SLA_WARNING,
    SlaAlert.Kind.BREACH: TicketEvent.Kind.SLA_BREACH,
}
TRIGGER: dict[str, EscalationRule.Trigger] = {
    SlaAlert.Kind.WARNING: EscalationRule.Trigger.SLA_WARNING,
    SlaAlert.Kind.BREACH: EscalationRule.Trigger.SLA_BREACH,
}
ALERT_COLUMNS = ["ticket_id", "clock", "cycle", "kind", "due_at", "recorded_at", "queue_id", "policy_id"]


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


# The ticket columns the batch statement judges the clocks by (see `running_clocks_sql`).
CLAIMED_COLUMNS = [
    "id",
    "status",
    "queue_id",
    "sla_policy_id",
    "first_responded_at",
    "first_response_warn_at",
    "first_response_due_at",
    "next_response_cycle",
    "next_response_warn_at",
    "next_response_due_at",
    "resolution_warn_at",
    "resolution_due_at",
    "resolution_paused_at",
]


def claim_sql(now: datetime, batch_size: int) -> tuple[str, list]:
    """The next due tickets, earliest check first through the index on `next_check_at`, with the columns
    their clocks are judged by, read from the locked rows; tickets and checks others hold are skipped.

    The ticket row is locked too (a row lock: no new row version, no index entry), before its check.
    Whoever changes a ticket locks its row and then stores its next check; holding a check while waiting
    for its ticket could deadlock with them, so the sweep never waits for either. The escalation rules and
    the foreign keys of the alerts then find the ticket already held, and a ticket edit waits for the
    batch as it would for any other writer."""
    check_table, ticket_table = SlaCheck._meta.db_table, Ticket._meta.db_table
    columns = ", ".join(f"t.{column}" for column in CLAIMED_COLUMNS)
    sql = (
        f"SELECT {columns} FROM {check_table} AS c JOIN {ticket_table} AS t ON t.id = c.ticket_id "
        "WHERE c.next_check_at <= %s ORDER BY c.next_check_at LIMIT %s "
        "FOR NO KEY UPDATE OF t SKIP LOCKED FOR UPDATE OF c SKIP LOCKED"
    )
    return sql, [now, batch_size]


def _sweep_batch(now: datetime, batch_size: int, rules: list) -> tuple[int, int, int, list[SlaAlert]]:
    """One statement for a batch: lock the next due tickets (SKIP LOCKED), move their next check past
    `now` (or drop it when no clock is left to watch), record their passed warnings and breaches (ON
    CONFLICT DO NOTHING: only new ones come back) and log each on its ticket. Returns the tickets claimed,
    the warnings and breaches recorded, and the new alerts some rule listens for, with their tickets
    loaded.

    Doing it in the database matters: the batch never travels to Python (a ticket row is wide, and
    thousands of model instances cost more than the writes themselves)."""
    claim, claim_params = claim_sql(now, batch_size)
    check_table = SlaCheck._meta.db_table
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
    warning, breach = SlaAlert.Kind.WARNING.value, SlaAlert.Kind.BREACH.value
    sql = (
        f"WITH claimed AS MATERIALIZED ({claim}), "
        "sweep AS (SELECT %s::timestamptz AS now), "
        "judged AS MATERIALIZED ("
        f"  SELECT m.id, {next_check_sql('m', after='sweep.now')} AS next_check_at FROM claimed AS m, sweep"
        "), "
        "moved AS ("
        f"  UPDATE {check_table} AS c SET next_check_at = j.next_check_at FROM judged AS j "
        "   WHERE c.ticket_id = j.id AND j.next_check_at IS NOT NULL"
        "), "
        "dropped AS ("
        f"  DELETE FROM {check_table} AS c USING judged AS j WHERE c.ticket_id = j.id AND j.next_check_at IS NULL"
        "), "
        "passed AS ("
        "  SELECT m.id AS ticket_id, rc.clock, rc.position, rc.cycle, k.kind, k.position AS kind_position, "
        "  rc.due_at, m.queue_id, m.sla_policy_id "
        f"  FROM sweep, claimed AS m CROSS JOIN LATERAL ({running_clocks_sql('m')}) AS rc "
        f"  CROSS JOIN LATERAL (VALUES ('{warning}', 1, rc.warn_at), ('{breach}', 2, rc.due_at)) "
        "  AS k(kind, position, at) "
        "  WHERE k.at <= sweep.now"
        "), "
        "recorded AS ("
        f"  INSERT INTO {SlaAlert._meta.db_table} ({', '.join(ALERT_COLUMNS)}) "
        "  SELECT ticket_id, clock, cycle, kind, due_at, sweep.now, queue_id, sla_policy_id FROM passed, sweep "
        "  ORDER BY ticket_id, position, kind_position "
        "  ON CONFLICT DO NOTHING RETURNING id, ticket_id, clock, cycle, kind, due_at, queue_id, policy_id"
        "), "
        "logged AS ("
        f"  INSERT INTO {TicketEvent._meta.db_table} (ticket_id, kind, new_value, created_at) "
        f"  SELECT ticket_id, CASE WHEN kind = '{warning}' THEN '{EVENT_KIND[SlaAlert.Kind.WARNING].value}' "
        f"  ELSE '{EVENT_KIND[SlaAlert.Kind.BREACH].value}' END, "
        f"  jsonb_build_object('clock', clock, 'cycle', cycle, 'due_at', {_isoformat_sql('due_at')}), sweep.now "
        "  FROM recorded, sweep ORDER BY id"
        ") "
        "SELECT (SELECT count(*) FROM claimed), "
        f"  (SELECT count(*) FROM recorded WHERE kind = '{warning}'), "
        f"  (SELECT count(*) FROM recorded WHERE kind = '{breach}'), "
        "  r.id, r.ticket_id, r.clock, r.cycle, r.kind, r.due_at, r.queue_id, r.policy_id "
        "FROM (SELECT 1) AS one LEFT JOIN recorded AS r ON r.kind || ':' || r.clock = ANY(%s::text[]) "
        "ORDER BY r.id"
    )
    params = [*claim_params, now, listened]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    claimed, warnings, breaches = rows[0][:3]
    alerts = [
        SlaAlert(
            pk=pk,
            ticket_id=ticket_id,
            clock=clock,
            cycle=cycle,
            kind=kind,
            due_at=due_at,
            recorded_at=now,
            queue_id=queue_id,
            policy_id=policy_id,
        )
        for *_counts, pk, ticket_id, clock, cycle, kind, due_at, queue_id, policy_id in rows
        if pk is not None
    ]
    if alerts:
        # Full rows, one instance per ticket: rules read any field and may change the ticket, and a later
        # alert of the same ticket must see those changes.
        tickets = Ticket.objects.in_bulk({alert.ticket_id for alert in alerts})
        for alert in alerts:
            alert.ticket = tickets[alert.ticket_id]
    return claimed, warnings, breaches, alerts


def _isoformat_sql(column: str) -> str:
    """`datetime.isoformat()` of a UTC time in SQL (microseconds only when there are some), so events
    logged here read like the ones logged from Python."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' ELSE to_char({utc}, '.US') END "
        "|| '+00:00'"
    )


def _insert_alerts(due: list[tuple], now: datetime) -> list[SlaAlert]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: only the alerts this run really recorded come back."""
    if not due:
        return []
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(ALERT_COLUMNS)) + ")"] * len(due))
    params = []
    tickets = {}
    for ticket, clock, cycle, kind, due_at in due:
        tickets[ticket.pk] = ticket
        params += [ticket.pk, clock, cycle, kind, due_at, now, ticket.queue_id, ticket.sla_policy_id]
    sql = (
        f"INSERT INTO {SlaAlert._meta.db_table} ({', '.join(ALERT_COLUMNS)}) VALUES {placeholders} "
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


def _log(alerts: list[SlaAlert]) -> None:
    """Log alerts recorded from Python (escalation breaches, a handful per run) on their tickets, in the
    same form as the clock alerts the batch statement logs."""
    if not alerts:
        return
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
        alerts = _insert_alerts(due, now)
        _log(alerts)
        _escalate(alerts, rules)
        Escalation.objects.bulk_update(overdue, ["breached_at"])
    return len(alerts)
