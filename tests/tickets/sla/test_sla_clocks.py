"""SLA clocks started and moved by the ticket services, with a frozen clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import QueueFactory, RequesterFactory, SlaPolicyFactory, UserFactory
from tickets import services, sla
from tickets.email.outbound import queue_outbound
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


SP = ZoneInfo("America/Sao_Paulo")
WEEKDAYS_9_TO_18 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def sp(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


def open_ticket(queue, priority=Ticket.Priority.NORMAL) -> Ticket:
    return services.open_ticket(
        requester=RequesterFactory(), queue=queue, subject="Não consigo entrar", language="pt", priority=priority
    )


def test_a_new_ticket_gets_due_times_from_the_most_specific_policy():
    queue = QueueFactory()
    SlaPolicyFactory(queue=None, priority=None, first_response_minutes=600)
    SlaPolicyFactory(queue=queue, priority=None, first_response_minutes=120)
    SlaPolicyFactory(queue=queue, priority=Ticket.Priority.URGENT, first_response_minutes=30, resolution_minutes=240)
    with time_machine.travel(sp(2025, 3, 10, 10, 0), tick=False):
        urgent = open_ticket(queue, Ticket.Priority.URGENT)
        normal = open_ticket(queue)
        elsewhere = open_ticket(QueueFactory())
    assert urgent.first_response_due_at == sp(2025, 3, 10, 10, 30)
    assert urgent.first_response_warn_at == sp(2025, 3, 10, 10, 22, 30)
    assert urgent.resolution_due_at == sp(2025, 3, 10, 14, 0)
    assert normal.first_response_due_at == sp(2025, 3, 10, 12, 0)
    assert elsewhere.first_response_due_at == sp(2025, 3, 10, 20, 0)
    stored = Ticket.objects.get(pk=urgent.pk)
    assert stored.sla_next_check_at == sp(2025, 3, 10, 10, 22, 30)


def test_a_new_tickets_due_times_go_in_with_its_insert():
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, priority=None, first_response_minutes=60, resolution_minutes=480)
    requester = RequesterFactory()
    with time_machine.travel(sp(2025, 3, 10, 10, 0), tick=False), CaptureQueriesContext(connection) as queries:
        ticket = services.open_ticket(requester=requester, queue=queue, subject="Conta bloqueada", language="pt")
    writes = re.compile(rf'^(INSERT INTO|UPDATE) "?{Ticket._meta.db_table}"? ')
    ticket_writes = [q["sql"] for q in queries if writes.match(q["sql"])]
    assert len(ticket_writes) == 1 and ticket_writes[0].startswith("INSERT INTO")
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.first_response_due_at == sp(2025, 3, 10, 11, 0)
    assert stored.resolution_due_at == sp(2025, 3, 10, 18, 0)
    assert stored.sla_policy_id == queue.sla_policies.get().pk
    assert stored.sla_next_check_at == sp(2025, 3, 10, 10, 45)


def test_without_a_policy_no_clock_runs():
    ticket = open_ticket(QueueFactory())
    ticket.refresh_from_db()
    assert ticket.first_response_due_at is None
    assert ticket.resolution_due_at is None
    assert ticket.sla_next_check_at is None


def test_business_hours_policy_counts_only_open_hours():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=4 * 60, business_hours=WEEKDAYS_9_TO_18)
    with time_machine.travel(sp(2025, 3, 7, 16, 0), tick=False):  # Friday
        ticket = open_ticket(queue)
    assert ticket.first_response_due_at == sp(2025, 3, 10, 11, 0)


def test_pending_pauses_the_resolution_clock_and_open_resumes_it_with_the_time_left():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, resolution_minutes=8 * 60)
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False) as traveller:
        ticket = open_ticket(queue)
        traveller.move_to(sp(2025, 3, 10, 12, 0))
        services.update_ticket(ticket, actor=None, status=Ticket.Status.PENDING)
        ticket.refresh_from_db()
        assert ticket.resolution_paused_at == sp(2025, 3, 10, 12, 0)
        assert ticket.resolution_remaining_seconds == 5 * 3600
        assert sla.clock_views(ticket)[-1].state == "paused"
        traveller.move_to(sp(2025, 3, 12, 8, 0))  # two days waiting for the requester cost nothing
        services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == sp(2025, 3, 12, 13, 0)
    assert ticket.resolution_paused_at is None


def test_on_hold_pause_across_a_weekend_resumes_in_business_time():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, resolution_minutes=9 * 60, business_hours=WEEKDAYS_9_TO_18)
    with time_machine.travel(sp(2025, 3, 7, 9, 0), tick=False) as traveller:  # Friday
        ticket = open_ticket(queue)
        assert ticket.resolution_due_at == sp(2025, 3, 7, 18, 0)
        traveller.move_to(sp(2025, 3, 7, 15, 0))
        services.update_ticket(ticket, actor=None, status=Ticket.Status.ON_HOLD)
        traveller.move_to(sp(2025, 3, 8, 11, 0))  # resumed on Saturday: the 3 h left start on Monday
        services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == sp(2025, 3, 10, 12, 0)


def test_solving_stops_the_clock_and_a_reopen_resumes_with_the_time_left():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, resolution_minutes=24 * 60)
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False) as traveller:
        ticket = open_ticket(queue)
        traveller.move_to(sp(2025, 3, 10, 19, 0))
        services.update_ticket(ticket, actor=None, status=Ticket.Status.SOLVED)
        ticket.refresh_from_db()
        assert ticket.sla_next_check_at is None
        assert [v.state for v in sla.clock_views(ticket) if v.clock == "resolution"] == ["met"]
        traveller.move_to(sp(2025, 3, 20, 9, 0))
        services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == sp(2025, 3, 20, 23, 0)  # 14 h left


def test_a_breached_clock_stays_breached_after_pause_and_resume():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, resolution_minutes=60)
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False) as traveller:
        ticket = open_ticket(queue)
        traveller.move_to(sp(2025, 3, 10, 11, 0))
        services.update_ticket(ticket, actor=None, status=Ticket.Status.PENDING)
        traveller.move_to(sp(2025, 3, 11, 11, 0))
        services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
        ticket.refresh_from_db()
        assert ticket.resolution_due_at == sp(2025, 3, 10, 10, 0)
        assert [v.state for v in sla.clock_views(ticket) if v.clock == "resolution"] == ["breached"]


def test_a_policy_change_applies_to_new_clocks_only():
    queue = QueueFactory()
    policy = SlaPolicyFactory(queue=queue, first_response_minutes=60)
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False):
        before = open_ticket(queue)
        policy.first_response_minutes = 15
        policy.save()
        after = open_ticket(queue)
    before.refresh_from_db()
    assert before.first_response_due_at == sp(2025, 3, 10, 10, 0)
    assert after.first_response_due_at == sp(2025, 3, 10, 9, 15)


def test_a_reply_stops_the_first_response_clock_and_a_requester_message_starts_the_next_one():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, next_response_minutes=120)
    agent = UserFactory(queues=[queue])
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False) as traveller:
        ticket = open_ticket(queue)
        traveller.move_to(sp(2025, 3, 10, 9, 40))
        queue_outbound(ticket, body_text="Olá! Vamos verificar.", author=agent)
        ticket.refresh_from_db()
        assert ticket.first_responded_at == sp(2025, 3, 10, 9, 40)
        assert sla.clock_views(ticket)[0].state == "met"
        traveller.move_to(sp(2025, 3, 10, 10, 0))
        sla.on_requester_message(ticket)
        traveller.move_to(sp(2025, 3, 10, 10, 30))
        sla.on_requester_message(ticket)  # a second message keeps the clock the first one started
        ticket.refresh_from_db()
        assert ticket.next_response_due_at == sp(2025, 3, 10, 12, 0)
        assert ticket.next_response_cycle == 1
        traveller.move_to(sp(2025, 3, 10, 11, 0))
        queue_outbound(ticket, body_text="Resolvido.", author=agent)
    ticket.refresh_from_db()
    assert ticket.next_response_due_at is None


def test_an_automatic_acknowledgement_is_not_a_first_response():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue)
    ticket = open_ticket(queue)
    queue_outbound(ticket, body_text="Recebemos sua mensagem.", author=None)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_clock_view_colours_follow_the_warning_and_due_times():
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False) as traveller:
        ticket = open_ticket(queue)
        assert [v.state for v in sla.clock_views(ticket)] == ["ok"]
        traveller.move_to(sp(2025, 3, 10, 9, 50))
        assert [v.state for v in sla.clock_views(ticket)] == ["warning"]
        traveller.move_to(sp(2025, 3, 10, 10, 1))
        assert [v.state for v in sla.clock_views(ticket)] == ["breached"]


def test_mail_in_starts_clocks_and_a_reply_by_mail_starts_the_next_response():
    from tickets.email.inbound import process_inbound, store_inbound

    queue = QueueFactory(addresses=["suporte@acolhe.example"], languages=["pt"])
    SlaPolicyFactory(queue=queue, first_response_minutes=60, next_response_minutes=30)
    agent = UserFactory(queues=[queue])
    raw = (
        b"From: Renata <renata@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Senha\r\n"
        b"Message-ID: <sla-1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Ol\xc3\xa1, n\xc3\xa3o consigo entrar na minha conta desde ontem, podem ajudar?\r\n"
    )
    with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False) as traveller:
        inbound, _ = store_inbound(raw, esp="test")
        process_inbound(inbound.pk)
        inbound.refresh_from_db()
        ticket = Ticket.objects.get(pk=inbound.ticket_id)
        assert ticket.first_response_due_at == sp(2025, 3, 10, 10, 0)
        traveller.move_to(sp(2025, 3, 10, 9, 10))
        reply = queue_outbound(ticket, body_text="Olá Renata, vamos ajudar.", author=agent)
        traveller.move_to(sp(2025, 3, 10, 9, 20))
        answer = (
            b"From: Renata <renata@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Re: Senha\r\n"
            b"Message-ID: <sla-2@example.com>\r\nIn-Reply-To: " + reply.message_id.encode() + b"\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nAinda n\xc3\xa3o funciona.\r\n"
        )
        second, _ = store_inbound(answer, esp="test")
        process_inbound(second.pk)
    ticket.refresh_from_db()
    assert ticket.first_responded_at == sp(2025, 3, 10, 9, 10)
    assert ticket.next_response_due_at == sp(2025, 3, 10, 9, 50)
