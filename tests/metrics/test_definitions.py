"""Each metric against hand-built ticket histories with known answers, through the real services."""

from datetime import date, timedelta

import pytest
import time_machine

from metrics import selectors, services
from metrics.definitions import Summary, review_score
from metrics.models import DailyStats
from tests.factories import QueueFactory, RequesterFactory
from tests.metrics.conftest import sp
from tickets import services as ticket_services
from tickets import sla
from tickets.escalations import services as escalations
from tickets.models import Queue, Ticket
from tickets.workspace import services as workspace

pytestmark = pytest.mark.django_db
DAY = date(2025, 3, 10)


def open_ticket(queue, at, language="pt"):
    with time_machine.travel(at, tick=False):
        return ticket_services.open_ticket(
            requester=RequesterFactory(), queue=queue, subject="Não consigo entrar", language=language
        )


def reply(user, ticket, at, status=None):
    with time_machine.travel(at, tick=False):
        return workspace.reply(ticket.number, "Resolvido!", set_status=status, actor=user)


def set_fields(user, ticket, at, **changes):
    with time_machine.travel(at, tick=False):
        ticket.refresh_from_db()
        return ticket_services.update_ticket(ticket, actor=user, **changes)


def stats(associate=None, day=DAY, **filters) -> Summary:
    rows = DailyStats.objects.filter(day=day, **filters)
    if associate is not None:
        rows = rows.filter(associate=associate)
    sums = {}
    for row in rows:
        for name in ("solved", "replies_sent", "first_responses", "first_response_seconds", "resolution_seconds",
                     "first_contact_resolved", "reopened", "escalated_solved", "sla_clocks", "sla_met",
                     "handle_seconds", "tickets_created"):  # fmt: skip
            sums[name] = sums.get(name, 0) + getattr(row, name)
    return Summary(sums)


def rollup(first=DAY, last=None):
    return services.rollup_days(first, last or first, now=sp(2025, 3, 20, 12, 0))


def test_a_ticket_solved_with_one_reply_is_a_first_contact_resolution_within_sla(queue, policy, ana):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, ticket, sp(2025, 3, 10, 9, 30), status=Ticket.Status.SOLVED)
    rollup()
    ana_day = stats(ana)
    assert ana_day.replies_sent == 1
    assert ana_day.first_response_minutes == 30
    assert ana_day.solved == 1
    assert ana_day.resolution_hours == 0.5
    assert ana_day.fcr_percent == 100
    assert ana_day.reopen_percent == 0
    assert (ana_day.sla_clocks, ana_day.sla_met) == (2, 2)
    assert stats(associate__isnull=True).tickets_created == 1


def test_a_reopen_within_seven_days_undoes_first_contact_resolution_and_is_picked_up_late(queue, ana):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, ticket, sp(2025, 3, 10, 9, 30), status=Ticket.Status.SOLVED)
    rollup()
    assert stats(ana).first_contact_resolved == 1
    # Three days later the requester writes back (as the inbound pipeline does: actor None, back to open).
    set_fields(None, ticket, sp(2025, 3, 13, 15, 0), status=Ticket.Status.OPEN)
    services.rollup_recent(date(2025, 3, 13), now=sp(2025, 3, 13, 16, 0))
    assert stats(ana).first_contact_resolved == 0
    assert stats(ana).reopened == 1
    assert stats(ana).reopen_percent == 100


def test_a_reopen_after_seven_days_keeps_the_first_contact_resolution(queue, ana):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, ticket, sp(2025, 3, 10, 9, 30), status=Ticket.Status.SOLVED)
    set_fields(None, ticket, sp(2025, 3, 18, 9, 0), status=Ticket.Status.OPEN)
    rollup()
    assert (stats(ana).first_contact_resolved, stats(ana).reopened) == (1, 0)


def test_two_replies_before_solving_is_not_first_contact_resolution(queue, ana):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, ticket, sp(2025, 3, 10, 9, 30))
    reply(ana, ticket, sp(2025, 3, 10, 10, 0), status=Ticket.Status.SOLVED)
    rollup()
    assert stats(ana).replies_sent == 2
    assert stats(ana).first_responses == 1
    assert stats(ana).fcr_percent == 0


def test_after_reassignment_the_solve_counts_for_the_assignee_and_the_first_response_for_who_gave_it(
    queue, ana, bia, lead
):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, ticket, sp(2025, 3, 10, 9, 15))
    set_fields(lead, ticket, sp(2025, 3, 10, 11, 0), assignee=bia)
    reply(bia, ticket, sp(2025, 3, 10, 12, 0))
    # The lead closes it on Bia's behalf: the solve is Bia's, who owns the ticket.
    set_fields(lead, ticket, sp(2025, 3, 10, 13, 0), status=Ticket.Status.SOLVED)
    rollup()
    assert (stats(ana).replies_sent, stats(ana).first_responses, stats(ana).solved) == (1, 1, 0)
    assert stats(ana).first_response_minutes == 15
    assert (stats(bia).replies_sent, stats(bia).first_responses, stats(bia).solved) == (1, 0, 1)
    assert stats(bia).resolution_hours == 4
    assert stats(lead).solved == 0


def test_a_merged_duplicate_is_neither_solved_nor_reopened(queue, ana):
    original = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    duplicate = open_ticket(queue, sp(2025, 3, 10, 9, 5))
    with time_machine.travel(sp(2025, 3, 10, 9, 20), tick=False):
        workspace.merge(duplicate.number, original.number, actor=ana)
    reply(ana, original, sp(2025, 3, 10, 9, 40), status=Ticket.Status.SOLVED)
    rollup()
    ana_day = stats(ana)
    assert ana_day.solved == 1
    # The merge notice is a public reply by Ana on the duplicate's own thread (its requester is not the
    # original's): the duplicate's first response at 9:20, the original's with the reply at 9:40.
    assert ana_day.replies_sent == 2
    assert (ana_day.first_responses, ana_day.first_response_seconds) == (2, 15 * 60 + 40 * 60)
    # The original's requester got one reply and the solve: first-contact resolution.
    assert ana_day.fcr_percent == 100
    assert stats(associate__isnull=True).tickets_created == 2


def test_escalation_rate_is_the_share_of_solves_escalated_before_solving(queue, ana):
    specialists = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    specialist = ana.__class__.objects.create(username="tessa")
    specialists.members.add(specialist)
    escalated = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    plain = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    with time_machine.travel(sp(2025, 3, 10, 9, 10), tick=False):
        escalation = escalations.escalate(escalated, target_queue=specialists, reason="Conteúdo sensível", actor=ana)
    with time_machine.travel(sp(2025, 3, 10, 10, 0), tick=False):
        escalations.hand_back(escalation.pk, actor=specialist, note="Removido.")
    reply(ana, escalated, sp(2025, 3, 10, 10, 30), status=Ticket.Status.SOLVED)
    reply(ana, plain, sp(2025, 3, 10, 10, 30), status=Ticket.Status.SOLVED)
    rollup()
    assert (stats(ana).solved, stats(ana).escalated_solved) == (2, 1)
    assert stats(ana).escalation_percent == 50


def test_pending_pauses_the_resolution_clock_but_not_full_resolution_time(queue, policy, ana):
    paused = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, paused, sp(2025, 3, 10, 9, 10), status=Ticket.Status.PENDING)
    sla.sweep(now=sp(2025, 3, 10, 10, 30))  # during the pause: nothing to record
    set_fields(None, paused, sp(2025, 3, 10, 11, 0), status=Ticket.Status.OPEN)
    set_fields(ana, paused, sp(2025, 3, 10, 11, 20), status=Ticket.Status.SOLVED)
    # The same work without the pause runs past the 60-minute resolution target.
    late = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, late, sp(2025, 3, 10, 9, 10))
    sla.sweep(now=sp(2025, 3, 10, 10, 30))
    set_fields(ana, late, sp(2025, 3, 10, 11, 20), status=Ticket.Status.SOLVED)
    rollup()
    ana_day = stats(ana)
    assert ana_day.solved == 2
    assert ana_day.resolution_seconds == 2 * (2 * 3600 + 20 * 60)  # wall clock, pause included
    # 2 first responses met, the paused ticket's resolution met, the other's breached.
    assert (ana_day.sla_clocks, ana_day.sla_met) == (4, 3)
    assert ana_day.sla_percent == 75


def test_a_late_first_reply_misses_the_first_response_clock(queue, policy, ana):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    sla.sweep(now=sp(2025, 3, 10, 10, 1))
    reply(ana, ticket, sp(2025, 3, 10, 10, 30))
    rollup()
    assert (stats(ana).sla_clocks, stats(ana).sla_met) == (1, 0)
    assert stats(ana).first_response_minutes == 90


def test_handle_time_counts_each_focused_half_minute_once(queue, ana, outsider):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    beats = [sp(2025, 3, 10, 9, 0, 0), sp(2025, 3, 10, 9, 0, 10), sp(2025, 3, 10, 9, 0, 31), sp(2025, 3, 10, 9, 1, 5)]
    beats += [sp(2025, 3, 10, 9, 20, 0)]  # the page was hidden in between: the gap is not counted
    for at in beats:
        assert services.record_heartbeat(ticket.number, now=at, actor=ana)
    assert not services.record_heartbeat(ticket.number, now=sp(2025, 3, 10, 9, 0), actor=outsider)
    set_fields(ana, ticket, sp(2025, 3, 10, 9, 21), assignee=ana, status=Ticket.Status.SOLVED)
    rollup()
    assert stats(ana).handle_seconds == 4 * 30
    assert stats(ana).solved_per_hour == 30  # 1 solve in 2 minutes


def test_days_follow_the_sao_paulo_calendar(queue, ana):
    ticket = open_ticket(queue, sp(2025, 3, 10, 23, 0))
    reply(ana, ticket, sp(2025, 3, 10, 23, 50))  # 02:50 UTC on the 11th
    rollup(DAY, DAY + timedelta(days=1))
    assert stats(ana).replies_sent == 1
    assert stats(ana, day=DAY + timedelta(days=1)).replies_sent == 0


def test_rerunning_a_rollup_changes_nothing(queue, ana, bia):
    for hour in (9, 10, 11):
        ticket = open_ticket(queue, sp(2025, 3, 10, hour, 0))
        reply(ana if hour % 2 else bia, ticket, sp(2025, 3, 10, hour, 30), status=Ticket.Status.SOLVED)
    rollup()
    first = sorted(
        DailyStats.objects.values_list("day", "associate_id", "queue_id", "language", "solved", "replies_sent"),
        key=repr,
    )
    rollup()
    rollup(DAY - timedelta(days=2), DAY + timedelta(days=2))
    again = sorted(
        DailyStats.objects.values_list("day", "associate_id", "queue_id", "language", "solved", "replies_sent"),
        key=repr,
    )
    assert first == again
    assert sum(row[4] for row in again) == 3


def test_qa_score_weights_the_criteria():
    # Weights 3, 2, 1, 1; ratings 5, 3, 5, 1 -> (3*1 + 2*.5 + 1*1 + 1*0) / 7 * 100
    assert review_score([(3, 5), (2, 3), (1, 5), (1, 1)]) == pytest.approx(71.43, abs=0.01)
    assert review_score([(1, 5)]) == 100
    assert review_score([(1, 1)]) == 0


def test_dashboard_shows_a_leads_team_only(queue, ana, lead, outsider):
    ticket = open_ticket(queue, sp(2025, 3, 10, 9, 0))
    reply(ana, ticket, sp(2025, 3, 10, 9, 30), status=Ticket.Status.SOLVED)
    other = open_ticket(outsider.support_queues.get(), sp(2025, 3, 10, 9, 0))
    reply(outsider, other, sp(2025, 3, 10, 9, 30), status=Ticket.Status.SOLVED)
    rollup()
    board = selectors.dashboard(lead, selectors.Filters(DAY, DAY))
    assert [row.name for row in board.associates] == ["Ana Souza"]
    assert board.totals.solved == 1
    assert [row.name for row in board.queues] == ["Suporte"]
    assert [row.associate_id for row in selectors.associate_rows(outsider, selectors.Filters(DAY, DAY))] == [
        outsider.pk
    ]
