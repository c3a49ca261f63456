"""The sweep judges clocks in SQL: it must agree with the Python clocks, log events as Python would, and
still hand every alert to the escalation rules, one ticket state after another."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from tests.factories import (
    EscalationRuleFactory,
    QueueFactory,
    RequesterFactory,
    SlaPolicyFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import services, sla
from tickets.escalations import services as escalations
from tickets.models import EscalationRule, EscalationRuleFiring, Queue, Role, SlaAlert, Ticket, TicketEvent
from tickets.sla.clocks import next_check_at, next_check_sql, running_clocks, running_clocks_sql

pytestmark = pytest.mark.django_db

SP = ZoneInfo("America/Sao_Paulo")
START = datetime(2025, 3, 10, 9, 0, tzinfo=SP)
UTC = ZoneInfo("UTC")


def open_ticket(queue, **kwargs) -> Ticket:
    return services.open_ticket(requester=RequesterFactory(), queue=queue, subject="Conta", language="pt", **kwargs)


def test_the_sql_clocks_agree_with_the_python_clocks():
    now = START
    before, after = now - timedelta(minutes=5), now + timedelta(minutes=5)
    queue, requester = QueueFactory(), RequesterFactory()
    first_response = [  # first_responded_at, warn, due
        (None, None, None),
        (None, before, after),
        (None, None, before),
        (before, before, before),
    ]
    next_response = [(None, None), (before, after), (None, now), (after, after + timedelta(minutes=1))]
    resolution = [  # warn, due, paused_at
        (None, None, None),
        (after, after + timedelta(hours=1), None),
        (before, before, None),
        (before, after, before),
    ]
    tickets = []
    for status, fr, nr, res in itertools.product(Ticket.Status, first_response, next_response, resolution):
        tickets.append(
            TicketFactory(
                queue=queue,
                requester=requester,
                status=status,
                first_responded_at=fr[0],
                first_response_warn_at=fr[1],
                first_response_due_at=fr[2],
                next_response_cycle=3,
                next_response_warn_at=nr[0],
                next_response_due_at=nr[1],
                resolution_warn_at=res[0],
                resolution_due_at=res[1],
                resolution_paused_at=res[2],
            )
        )
    ids = [ticket.pk for ticket in tickets]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, {next_check_sql('t', after='sweep.now')} "
            "FROM tickets_ticket AS t, (SELECT %s::timestamptz AS now) AS sweep WHERE t.id = ANY(%s)",
            [now, ids],
        )
        next_checks = dict(cursor.fetchall())
        cursor.execute(
            f"SELECT t.id, rc.clock, rc.cycle, rc.warn_at, rc.due_at FROM tickets_ticket AS t "
            f"CROSS JOIN LATERAL ({running_clocks_sql('t')}) AS rc WHERE t.id = ANY(%s) ORDER BY t.id, rc.position",
            [ids],
        )
        clocks = {}
        for ticket_id, *clock in cursor.fetchall():
            clocks.setdefault(ticket_id, []).append(tuple(clock))
    for ticket in tickets:
        expected = [(c.clock, c.cycle, c.warn_at, c.due_at) for c in running_clocks(ticket)]
        assert clocks.get(ticket.pk, []) == expected, ticket.status
        assert next_checks[ticket.pk] == next_check_at(ticket, after=now), ticket.status


def test_logged_events_carry_the_due_time_as_python_writes_it():
    queue = QueueFactory()
    policy = SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    with time_machine.travel(START, tick=False):
        whole = open_ticket(queue)
        fraction = open_ticket(queue)
    due_with_fraction = START + timedelta(minutes=30, microseconds=500000)
    Ticket.objects.filter(pk=fraction.pk).update(first_response_due_at=due_with_fraction)
    result = sla.sweep(now=START + timedelta(hours=2))
    assert (result.tickets, result.warnings, result.breaches) == (2, 2, 2)
    for ticket, due in ((whole, START + timedelta(hours=1)), (fraction, due_with_fraction)):
        event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.SLA_BREACH)
        assert event.new_value == {"clock": "first_response", "cycle": 0, "due_at": due.astimezone(UTC).isoformat()}
        assert event.created_at == START + timedelta(hours=2)
        alert = SlaAlert.objects.get(ticket=ticket, kind=SlaAlert.Kind.BREACH)
        assert (alert.queue_id, alert.policy_id, alert.due_at) == (queue.pk, policy.pk, due)
    kinds = list(whole.events.filter(kind__startswith="sla_").order_by("id").values_list("kind", flat=True))
    assert kinds == [TicketEvent.Kind.SLA_WARNING, TicketEvent.Kind.SLA_BREACH]


def test_a_breach_rule_sees_what_the_warning_rule_changed_in_the_same_run():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    EscalationRuleFactory(trigger=EscalationRule.Trigger.SLA_WARNING, add_tags=["late"])
    EscalationRuleFactory(trigger=EscalationRule.Trigger.SLA_BREACH, tags=["late"], add_tags=["very-late"])
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(queue)
    sla.sweep(now=START + timedelta(hours=3))
    ticket.refresh_from_db()
    assert ticket.tags == ["late", "very-late"]


def test_rules_for_another_clock_or_queue_do_not_fire():
    queue, elsewhere = QueueFactory(), QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    EscalationRuleFactory(clock="resolution", add_tags=["resolution"])
    EscalationRuleFactory(add_tags=["elsewhere"]).queues.add(elsewhere)
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(queue)
    assert sla.sweep(now=START + timedelta(hours=3)).breaches == 1
    ticket.refresh_from_db()
    assert ticket.tags == []
    assert not EscalationRuleFiring.objects.exists()


def test_a_failing_rule_keeps_the_alert_and_spares_the_other_tickets():
    broken, fine = QueueFactory(), QueueFactory()
    for queue in (broken, fine):
        SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    # Escalating to a front-line queue is refused: the rule fails on every ticket of `broken`.
    failing = EscalationRuleFactory(add_tags=["half-done"], escalate_to_queue=fine)
    failing.queues.add(broken)
    EscalationRuleFactory(add_tags=["seen"]).queues.add(fine)
    with time_machine.travel(START, tick=False):
        stuck = open_ticket(broken)
        served = open_ticket(fine)
    result = sla.sweep(now=START + timedelta(hours=3))
    assert (result.warnings, result.breaches) == (2, 2)
    stuck.refresh_from_db()
    served.refresh_from_db()
    assert stuck.tags == [] and served.tags == ["seen"]
    assert not EscalationRuleFiring.objects.filter(ticket=stuck).exists()
    assert stuck.events.filter(kind=TicketEvent.Kind.SLA_BREACH).count() == 1
    assert SlaAlert.objects.filter(ticket=stuck).count() == 2


def test_overdue_escalations_are_breached_together_once_each():
    team = TeamFactory(name="Segurança")
    specialists = QueueFactory(slug="seguranca", name="Segurança", kind=Queue.Kind.CROSS_FUNCTIONAL, team=team)
    team.leads.add(UserFactory(username="seglead", role=Role.TEAM_LEAD))
    front_line = QueueFactory()
    with time_machine.travel(START, tick=False):
        tickets = [open_ticket(front_line) for _ in range(2)]
        made = [escalations.escalate(t, target_queue=specialists, reason="Conta invadida") for t in tickets]
    later = max(e.due_at for e in made) + timedelta(minutes=1)
    assert sla.sweep(now=later).breaches == 2
    assert sla.sweep(now=later + timedelta(minutes=1)).breaches == 0
    alerts = SlaAlert.objects.filter(clock="escalation")
    assert sorted(alerts.values_list("ticket_id", "cycle")) == sorted((e.ticket_id, e.pk) for e in made)
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH, ticket__in=tickets).count() == 2
    for escalation in made:
        escalation.refresh_from_db()
        assert escalation.breached_at == later
