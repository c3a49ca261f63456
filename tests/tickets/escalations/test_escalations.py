"""Escalations by hand and by rule, hand back, who sees what, and who is told."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import (
    EscalationRuleFactory,
    QueueFactory,
    RequesterFactory,
    SlaPolicyFactory,
    TeamFactory,
    UserFactory,
)
from tickets import selectors, services, sla
from tickets.escalations import services as escalations
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

pytestmark = pytest.mark.django_db


SP = ZoneInfo("America/Sao_Paulo")
START = datetime(2025, 3, 10, 9, 0, tzinfo=SP)


@pytest.fixture
def front_line():
    return QueueFactory(slug="suporte", name="Suporte")


@pytest.fixture
def trust_and_safety():
    team = TeamFactory(name="Trust & Safety")
    queue = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL, team=team)
    lead = UserFactory(username="tslead", role=Role.TEAM_LEAD, email="tslead@acolhe.example")
    team.leads.add(lead)
    Profile.objects.create(user=lead, ui_language="en")
    return queue


@pytest.fixture
def agent(front_line):
    return UserFactory(username="ana", role=Role.ASSOCIATE, queues=[front_line])


@pytest.fixture
def specialist(trust_and_safety):
    return UserFactory(username="sam", role=Role.SPECIALIST, queues=[trust_and_safety])


def open_ticket(queue, **kwargs) -> Ticket:
    return services.open_ticket(
        requester=RequesterFactory(), queue=queue, subject="Vídeo ofensivo", language="pt", **kwargs
    )


def test_escalate_work_and_hand_back_returns_the_ticket_to_the_associate(
    front_line, trust_and_safety, agent, specialist, django_capture_on_commit_callbacks
):
    ticket = open_ticket(front_line)
    assert not selectors.tickets_visible_to(specialist).filter(pk=ticket.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        escalation = escalations.escalate(
            ticket, target_queue=trust_and_safety, reason="Possível conteúdo de abuso", actor=agent
        )
    assert escalation.return_to == agent
    assert escalation.due_at is not None
    assert selectors.tickets_visible_to(specialist).filter(pk=ticket.pk).exists()
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).count() == 1
    lead_notice = Notification.objects.get(user__username="tslead")
    assert str(ticket.number) in lead_notice.text and "Possível conteúdo de abuso" in lead_notice.text
    assert [m.to for m in mail.outbox] == [["tslead@acolhe.example"]]

    ticket.assignee = UserFactory(username="someone-else", queues=[front_line])
    ticket.save()
    with django_capture_on_commit_callbacks(execute=True):
        escalations.hand_back(escalation.pk, actor=specialist, note="Conteúdo removido e conta suspensa.")
    escalation.refresh_from_db()
    ticket.refresh_from_db()
    assert escalation.status == Escalation.Status.HANDED_BACK
    assert escalation.handed_back_by == specialist
    assert ticket.assignee == agent
    note = ticket.messages.get(direction=Message.Direction.NOTE)
    assert note.body_text == "Conteúdo removido e conta suspensa." and note.author == specialist
    assert Notification.objects.filter(user=agent, kind=Notification.Kind.HANDED_BACK).count() == 1
    assert not selectors.tickets_visible_to(specialist).filter(pk=ticket.pk).exists()


def test_a_ticket_can_be_escalated_again_and_keeps_its_history(front_line, trust_and_safety, agent, specialist):
    ticket = open_ticket(front_line)
    first = escalations.escalate(ticket, target_queue=trust_and_safety, reason="Primeira vez", actor=agent)
    with pytest.raises(ValidationError):
        escalations.escalate(ticket, target_queue=trust_and_safety, reason="De novo", actor=agent)
    escalations.hand_back(first.pk, actor=specialist, note="Feito.")
    escalations.escalate(ticket, target_queue=trust_and_safety, reason="Voltou a acontecer", actor=agent)
    assert list(ticket.escalations.values_list("reason", flat=True)) == ["Voltou a acontecer", "Primeira vez"]


def test_only_cross_functional_queues_and_visible_tickets_can_be_escalated(front_line, trust_and_safety, agent):
    ticket = open_ticket(front_line)
    with pytest.raises(ValidationError):
        escalations.escalate(ticket, target_queue=QueueFactory(), reason="?", actor=agent)
    with pytest.raises(ValidationError):
        escalations.escalate(ticket, target_queue=trust_and_safety, reason="  ", actor=agent)
    outsider = UserFactory(username="outsider", role=Role.ASSOCIATE, queues=[QueueFactory()])
    with pytest.raises(PermissionDenied):
        escalations.escalate(ticket, target_queue=trust_and_safety, reason="Abuso", actor=outsider)


def test_only_the_specialist_team_hands_back_and_only_once(front_line, trust_and_safety, agent, specialist):
    ticket = open_ticket(front_line)
    escalation = escalations.escalate(ticket, target_queue=trust_and_safety, reason="Abuso", actor=agent)
    with pytest.raises(PermissionDenied):
        escalations.hand_back(escalation.pk, actor=agent, note="Eu mesma resolvo")
    with pytest.raises(ValidationError):
        escalations.hand_back(escalation.pk, actor=specialist, note="")
    escalations.hand_back(escalation.pk, actor=specialist, note="Feito.")
    with pytest.raises(ValidationError):
        escalations.hand_back(escalation.pk, actor=specialist, note="Feito de novo.")


def test_a_breach_rule_raises_priority_tags_escalates_and_notifies_once(
    front_line, trust_and_safety, django_capture_on_commit_callbacks
):
    team = TeamFactory(name="Suporte PT")
    front_line.team = team
    front_line.save()
    lead = UserFactory(username="lead", role=Role.TEAM_LEAD, email="lead@acolhe.example")
    team.leads.add(lead)
    SlaPolicyFactory(queue=front_line, first_response_minutes=60, resolution_minutes=None)
    rule = EscalationRuleFactory(
        trigger=EscalationRule.Trigger.SLA_BREACH,
        clock="first_response",
        priorities=[Ticket.Priority.NORMAL, Ticket.Priority.HIGH],
        raise_priority_to=Ticket.Priority.URGENT,
        add_tags=["sla-breached"],
        escalate_to_queue=trust_and_safety,
        notify_team_lead=True,
    )
    rule.queues.add(front_line)
    other_queue_rule = EscalationRuleFactory(trigger=EscalationRule.Trigger.SLA_BREACH, add_tags=["nunca"])
    other_queue_rule.queues.add(QueueFactory())
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(front_line)
        low = open_ticket(front_line, priority=Ticket.Priority.LOW)
    with django_capture_on_commit_callbacks(execute=True):
        sla.sweep(now=START + timedelta(hours=2))
        sla.sweep(now=START + timedelta(hours=3))
    ticket.refresh_from_db()
    low.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert ticket.tags == ["sla-breached"]
    assert low.priority == Ticket.Priority.LOW and low.tags == []
    assert EscalationRuleFiring.objects.filter(rule=rule).count() == 1
    escalation = ticket.escalations.get()
    assert escalation.rule == rule and escalation.requested_by is None
    assert Notification.objects.filter(user=lead, ticket=ticket).count() == 1
    assert "lead@acolhe.example" in [address for m in mail.outbox for address in m.to]


def test_rules_run_in_order_and_can_stop_the_rest(front_line):
    SlaPolicyFactory(queue=front_line, first_response_minutes=60, resolution_minutes=None)
    EscalationRuleFactory(position=2, add_tags=["second"])
    EscalationRuleFactory(position=1, add_tags=["first"], stop_processing=True)
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(front_line)
    sla.sweep(now=START + timedelta(hours=2))
    ticket.refresh_from_db()
    assert ticket.tags == ["first"]


def test_warning_rules_match_language_tags_and_no_reply_time(front_line):
    SlaPolicyFactory(queue=front_line, first_response_minutes=None, resolution_minutes=8 * 60)
    EscalationRuleFactory(
        trigger=EscalationRule.Trigger.SLA_WARNING,
        languages=["pt"],
        tags=["vip"],
        no_reply_hours=4,
        raise_priority_to=Ticket.Priority.HIGH,
    )
    with time_machine.travel(START, tick=False):
        vip = open_ticket(front_line)
        services.update_ticket(vip, actor=None, tags=["vip"])
        plain = open_ticket(front_line)
    sla.sweep(now=START + timedelta(hours=6))
    vip.refresh_from_db()
    plain.refresh_from_db()
    assert SlaAlert.objects.filter(kind=SlaAlert.Kind.WARNING).count() == 2
    assert (vip.priority, plain.priority) == (Ticket.Priority.HIGH, Ticket.Priority.NORMAL)


def test_sensitive_content_rule_escalates_to_trust_and_safety(front_line, trust_and_safety):
    EscalationRuleFactory(
        trigger=EscalationRule.Trigger.SENSITIVE_CONTENT,
        sensitivity=["child_safety"],
        escalate_to_queue=trust_and_safety,
        raise_priority_to=Ticket.Priority.URGENT,
    )
    ticket = open_ticket(front_line)
    ticket.sensitivity = ["child_safety"]
    ticket.save()
    assert len(escalations.run_rules(ticket, EscalationRule.Trigger.SENSITIVE_CONTENT)) == 1
    assert escalations.run_rules(ticket, EscalationRule.Trigger.SENSITIVE_CONTENT) == []
    assert ticket.escalations.get().target_queue == trust_and_safety
    assert Ticket.objects.get(pk=ticket.pk).priority == Ticket.Priority.URGENT


def test_an_escalation_past_its_own_target_is_breached_once(front_line, trust_and_safety, agent):
    SlaPolicyFactory(queue=trust_and_safety, first_response_minutes=None, resolution_minutes=120)
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(front_line)
        escalation = escalations.escalate(ticket, target_queue=trust_and_safety, reason="Abuso", actor=agent)
    assert escalation.due_at == START + timedelta(hours=2)
    assert sla.sweep(now=START + timedelta(hours=1)).breaches == 0
    assert sla.sweep(now=START + timedelta(hours=3)).breaches == 1
    assert sla.sweep(now=START + timedelta(hours=4)).breaches == 0
    alert = SlaAlert.objects.get(clock="escalation")
    assert alert.cycle == escalation.pk
