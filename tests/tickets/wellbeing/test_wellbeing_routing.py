"""Exposure budgets in next-ticket routing: budgets hold under concurrency, breaks, paused intake, spread."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import QueueFactory, TicketFactory, UserFactory, associate
from tickets.models import ExposureBudget, ExposureEntry, Role, Ticket
from tickets.wellbeing import selectors as wellbeing
from tickets.wellbeing import services
from tickets.workspace.routing import assign_next


@pytest.fixture
def queue():
    return QueueFactory(slug="geral", languages=["pt"])


def sensitive(queue, n=1, categories=("violence",), **kwargs):
    return [TicketFactory(queue=queue, sensitivity=list(categories), **kwargs) for _ in range(n)]


@pytest.mark.django_db
def test_an_associate_over_budget_gets_only_plain_tickets(queue, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 2
    settings.ACOLHE_BREAK_AFTER = 0
    agent = associate([queue], username="bia")
    due = timezone.now()
    hot = sensitive(queue, 3, first_response_due_at=due)
    plain = TicketFactory(queue=queue, first_response_due_at=due + timedelta(hours=1))
    taken = [assign_next(agent) for _ in range(4)]
    assert taken[:2] == hot[:2]
    assert taken[2:] == [plain, None]
    assert wellbeing.exposure(agent).taken == 2


@pytest.mark.django_db
def test_a_personal_budget_overrides_the_team_default_and_the_shift_rolls_over(queue, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 5
    settings.ACOLHE_SHIFT_HOURS = 8
    agent = associate([queue], username="bia")
    ExposureBudget.objects.create(user=agent, per_shift=1)
    sensitive(queue, 3)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert assign_next(agent).sensitivity
        assert assign_next(agent) is None
    with time_machine.travel(start + timedelta(hours=9), tick=False):
        assert assign_next(agent).sensitivity  # a new shift, a new budget


@pytest.mark.django_db(transaction=True)
def test_concurrent_presses_never_exceed_anyones_budget(settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 2
    queue = QueueFactory(slug="concorrida", languages=["pt"])
    agents = [associate([queue], username=f"agent{i}") for i in range(4)]
    sensitive(queue, 12)
    TicketFactory.create_batch(12, queue=queue)
    presses = [agent for agent in agents for _ in range(5)]  # each associate presses five times at once
    barrier = threading.Barrier(len(presses))
    claimed, errors = [], []

    def press(agent):
        try:
            barrier.wait()
            ticket = assign_next(agent)
            if ticket is not None:
                claimed.append((agent.pk, ticket.pk))
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(agent,)) for agent in presses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({pk for _, pk in claimed}) == len(claimed) == 20
    for agent in agents:
        taken = Ticket.objects.filter(assignee=agent).exclude(sensitivity=[]).count()
        assert taken <= 2, agent.username
        assert ExposureEntry.objects.filter(user=agent, sensitive=True).count() == taken


@pytest.mark.django_db
def test_right_after_a_sensitive_ticket_a_plain_one_comes_first_unless_urgent(queue, settings):
    settings.ACOLHE_BREAK_AFTER = 5
    agent = associate([queue], username="bia")
    due = timezone.now()
    first = sensitive(queue, 1, first_response_due_at=due)[0]
    second = sensitive(queue, 1, first_response_due_at=due + timedelta(minutes=1))[0]
    plain = TicketFactory(queue=queue, first_response_due_at=due + timedelta(hours=2))
    assert assign_next(agent) == first
    assert assign_next(agent) == plain  # the next sensitive one waits for someone else
    assert assign_next(agent) == second
    urgent = sensitive(queue, 1, priority=Ticket.Priority.URGENT, first_response_due_at=due + timedelta(hours=3))[0]
    TicketFactory(queue=queue, first_response_due_at=due + timedelta(hours=4))
    assert assign_next(agent) == urgent


@pytest.mark.django_db
def test_child_safety_goes_only_to_specialists(queue):
    ticket = sensitive(queue, 1, categories=("child_safety",))[0]
    agent = associate([queue], username="bia")
    specialist = UserFactory(username="tessa", role=Role.SPECIALIST, queues=[queue])
    assert assign_next(agent) is None
    assert assign_next(specialist) == ticket


@pytest.mark.django_db
def test_after_n_sensitive_tickets_in_a_row_the_workspace_suggests_a_break(queue, settings, client):
    settings.ACOLHE_BREAK_AFTER = 2
    settings.ACOLHE_EXPOSURE_BUDGET = 10
    agent = associate([queue], username="bia")
    sensitive(queue, 3)
    client.force_login(agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    first = client.post(reverse("next_ticket"), follow=True)
    assert "break" not in first.content.decode()
    second = client.post(reverse("next_ticket"), follow=True)
    assert "2 sensitive tickets in a row" in second.content.decode()
    page = client.get(reverse("wellbeing")).content.decode()
    assert 'data-testid="break-suggestion"' in page and "2 of 10" in page


@pytest.mark.django_db
def test_paused_intake_gives_nothing_until_resumed(queue, client, settings):
    agent = associate([queue], username="bia")
    ticket = TicketFactory(queue=queue)
    client.force_login(agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(reverse("wellbeing_intake"), {"paused": "1"})
    assert ExposureBudget.objects.get(user=agent).intake_paused_at is not None
    response = client.post(reverse("next_ticket"), follow=True)
    assert "intake is paused" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    client.post(reverse("wellbeing_intake"), {"paused": "0"})
    assert assign_next(agent) == ticket


@pytest.mark.django_db
def test_team_exposure_counts_without_naming_anyone(queue, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 1
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[queue])
    agents = [associate([queue], username=f"a{i}") for i in range(3)]
    sensitive(queue, 2, categories=("bullying",))
    TicketFactory(queue=queue)
    for agent in agents:
        assign_next(agent)
    services.set_intake_paused(True, actor=agents[0])
    team = wellbeing.team_exposure(lead)
    assert (team.associates, team.sensitive_taken, team.over_budget, team.paused) == (3, 2, 2, 1)
    assert {code: n for code, _label, n in team.by_category}["bullying"] == 2
