"""Exposure counted from every path and in time: views from lists, search, notifications and links, seconds
from the page heartbeats, limits in minutes per team that Next ticket honours (also under concurrency), the
check-in, the lead's private notice and skipping a category for the rest of the shift."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import ProfileFactory, QueueFactory, TeamFactory, TicketFactory, UserFactory, associate
from tickets.models import (
    ExposureBudget,
    ExposureEntry,
    Notification,
    Role,
    TeamWellbeingPolicy,
    Ticket,
)
from tickets.wellbeing import selectors as wellbeing
from tickets.wellbeing import services
from tickets.workspace.routing import assign_next


@pytest.fixture
def queue():
    return QueueFactory(slug="geral", languages=["pt"])


def sensitive(queue, n=1, categories=("violence",), **kwargs):
    return [TicketFactory(queue=queue, sensitivity=list(categories), **kwargs) for _ in range(n)]


def entry(user, ticket) -> ExposureEntry:
    return ExposureEntry.objects.get(user=user, ticket=ticket)


def follow_link(client, page_url: str, number: int):
    """Open the ticket the way a person would: through the link the page shows."""
    html = client.get(page_url).content.decode()
    link = reverse("ticket", args=[number])
    assert re.search(rf'href="{re.escape(link)}(\?[^"]*)?"', html), page_url
    return client.get(link)


@pytest.mark.django_db
def test_a_sensitive_ticket_opened_from_a_list_search_a_notification_or_a_link_counts_every_time(queue, client):
    agent = associate([queue], username="bia")
    ticket = sensitive(queue, subject="Ameaça no perfil")[0]
    TicketFactory(queue=queue, subject="Senha")
    Notification.objects.create(
        user=agent,
        ticket=ticket,
        kind=Notification.Kind.ESCALATED,
        text="#",
        url=reverse("ticket", args=[ticket.number]),
    )
    client.force_login(agent)
    follow_link(client, reverse("workspace", args=["all"]), ticket.number)
    follow_link(client, reverse("search") + "?q=perfil", ticket.number)
    notice = Notification.objects.get(user=agent)
    assert client.get(notice.url).status_code == 200
    assert client.get(reverse("ticket", args=[ticket.number])).status_code == 200
    seen = entry(agent, ticket)
    assert (seen.views, seen.sensitive, seen.categories) == (4, True, ["violence"])
    assert wellbeing.exposure(agent).taken == 1


@pytest.mark.django_db
def test_a_plain_ticket_page_counts_no_exposure(queue, client):
    agent = associate([queue], username="bia")
    plain = TicketFactory(queue=queue)
    client.force_login(agent)
    client.get(reverse("ticket", args=[plain.number]))
    assert not ExposureEntry.objects.filter(user=agent).exists()


@pytest.mark.django_db
def test_heartbeats_on_a_sensitive_ticket_count_its_time_once_per_slot(queue, client):
    agent = associate([queue], username="bia")
    ticket = sensitive(queue)[0]
    plain = TicketFactory(queue=queue)
    client.force_login(agent)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(3):  # a page open in three tabs beats three times in the same slot
            assert client.post(reverse("metrics:heartbeat"), {"ticket": ticket.number}).status_code == 204
        client.post(reverse("metrics:heartbeat"), {"ticket": plain.number})
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.post(reverse("metrics:heartbeat"), {"ticket": ticket.number})
        assert entry(agent, ticket).seconds == 60
        assert wellbeing.exposure(agent).seconds == 60
    assert not ExposureEntry.objects.filter(user=agent, ticket=plain).exists()


@pytest.mark.django_db
def test_next_ticket_gives_plain_tickets_only_once_the_minutes_of_the_shift_are_spent(queue, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 50
    settings.ACOLHE_EXPOSURE_MINUTES = 10
    settings.ACOLHE_BREAK_AFTER = 0
    agent = associate([queue], username="bia")
    due = timezone.now()
    seen = sensitive(queue, first_response_due_at=due - timedelta(hours=2), assignee=agent)[0]
    hot = sensitive(queue, 2, first_response_due_at=due)
    plain = TicketFactory(queue=queue, first_response_due_at=due + timedelta(hours=1))
    for slot in range(1, 20):  # 19 beats of 30 s: 9.5 minutes on screen
        services.record_screen_time(agent, seen, slot=slot, seconds=30)
    assert assign_next(agent) == hot[0]
    services.record_screen_time(agent, seen, slot=20, seconds=30)
    status = wellbeing.exposure(agent)
    assert (status.minutes, status.over_minutes, status.over_tickets) == (10, True, False)
    assert assign_next(agent) == plain
    assert assign_next(agent) is None


@pytest.mark.django_db
def test_a_teams_policy_sets_its_limits_and_a_personal_setting_still_wins(queue, settings):
    settings.ACOLHE_EXPOSURE_MINUTES = 300
    team = TeamFactory(name="Moderação")
    agent = associate([queue], username="bia")
    ProfileFactory(user=agent, team=team)
    TeamWellbeingPolicy.objects.create(
        team=team, tickets_per_shift=4, minutes_per_shift=90, break_every_minutes=30, support_resources="PAE 0800"
    )
    status = wellbeing.exposure(agent)
    assert (status.budget, status.minutes_budget, status.break_every_minutes) == (4, 90, 30)
    assert status.support_resources == "PAE 0800"
    ExposureBudget.objects.update_or_create(user=agent, defaults={"minutes_per_shift": 45})
    assert wellbeing.exposure(agent).minutes_budget == 45


@pytest.mark.django_db
def test_the_defaults_follow_published_practice_an_hourly_break_and_five_hours_a_shift(queue, settings):
    agent = associate([queue], username="bia")
    status = wellbeing.exposure(agent)
    assert (status.minutes_budget, status.break_every_minutes) == (300, 60)


@pytest.mark.django_db
def test_an_hour_on_screen_prompts_a_break_and_a_pause_starts_the_next_hour(queue, settings):
    settings.ACOLHE_BREAK_AFTER = 0
    agent = associate([queue], username="bia")
    ticket = sensitive(queue)[0]
    for slot in range(1, 121):
        services.record_screen_time(agent, ticket, slot=slot, seconds=30)
    assert wellbeing.exposure(agent).break_due
    services.set_intake_paused(True, actor=agent)
    services.set_intake_paused(False, actor=agent)
    assert not wellbeing.exposure(agent).break_due
    assert wellbeing.exposure(agent).minutes == 60


@pytest.mark.django_db(transaction=True)
def test_concurrent_presses_and_heartbeats_never_give_a_sensitive_ticket_past_the_minutes_limit(settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 50
    settings.ACOLHE_EXPOSURE_MINUTES = 5
    settings.ACOLHE_BREAK_AFTER = 0
    queue = QueueFactory(slug="concorrida", languages=["pt"])
    spent, fresh = associate([queue], username="gasta"), associate([queue], username="nova")
    watched = sensitive(queue, assignee=spent)[0]
    for slot in range(1, 10):  # 4.5 minutes: one more beat reaches the limit
        services.record_screen_time(spent, watched, slot=slot, seconds=30)
    sensitive(queue, 12, priority=Ticket.Priority.URGENT)
    TicketFactory.create_batch(12, queue=queue)
    barrier = threading.Barrier(11)
    claimed, errors, beat_done = [], [], threading.Event()

    def press(agent):
        try:
            barrier.wait()
            if agent == spent:
                beat_done.wait(timeout=30)
            ticket = assign_next(agent)
            if ticket is not None:
                claimed.append((agent.pk, ticket.pk, bool(ticket.sensitivity)))
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    def beat():
        try:
            barrier.wait()
            services.record_screen_time(spent, watched, slot=10, seconds=30)
        except Exception as exc:
            errors.append(exc)
        finally:
            beat_done.set()
            connection.close()

    threads = [threading.Thread(target=press, args=(agent,)) for agent in [spent] * 5 + [fresh] * 5]
    threads.append(threading.Thread(target=beat))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({pk for _, pk, _s in claimed}) == len(claimed) == 10
    assert [s for user, _pk, s in claimed if user == spent.pk] == [False] * 5
    assert all(s for user, _pk, s in claimed if user == fresh.pk)


@pytest.mark.django_db
def test_reaching_a_limit_brings_a_check_in_and_one_private_notice_to_the_lead(queue, client, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 2
    team = TeamFactory(name="Suporte")
    lead = UserFactory(username="lia", first_name="Lia", last_name="", role=Role.TEAM_LEAD, queues=[queue])
    team.leads.add(lead)
    agent = associate([queue], username="bia", first_name="Bia", last_name="")
    ProfileFactory(user=agent, team=team)
    TeamWellbeingPolicy.objects.create(team=team, support_resources="Programa de apoio: 0800 000 000")
    first, second = sensitive(queue, 2, categories=("bullying",))
    client.force_login(agent)
    client.get(reverse("ticket", args=[first.number]))
    assert not Notification.objects.filter(user=lead).exists()
    html = client.get(reverse("ticket", args=[second.number])).content.decode()
    assert 'data-testid="check-in" data-reason="limit"' in html
    assert "Programa de apoio: 0800 000 000" in html
    assert "Lia" in html
    client.get(reverse("ticket", args=[first.number]))
    notice = Notification.objects.get(user=lead)
    assert (notice.kind, notice.ticket, notice.url) == (Notification.Kind.WELLBEING, None, reverse("wellbeing_team"))
    assert "Bia" in notice.text
    assert first.subject not in notice.text and second.subject not in notice.text
    assert not Notification.objects.filter(user=agent).exists()


@pytest.mark.django_db
def test_a_self_harm_ticket_given_by_next_ticket_brings_a_check_in_and_tells_the_lead_once_a_shift(queue, client):
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[queue])
    agent = associate([queue], username="bia")
    ticket = sensitive(queue, categories=("self_harm",))[0]
    assert assign_next(agent) == ticket
    assert not Notification.objects.filter(user=lead).exists()
    client.force_login(agent)
    html = client.get(reverse("ticket", args=[ticket.number])).content.decode()
    assert 'data-testid="check-in" data-reason="ticket"' in html
    client.get(reverse("ticket", args=[ticket.number]))
    assert Notification.objects.filter(user=lead, kind=Notification.Kind.WELLBEING).count() == 1


@pytest.mark.django_db
def test_an_associate_can_skip_a_category_for_the_rest_of_the_shift(queue, client, settings):
    settings.ACOLHE_SHIFT_HOURS = 8
    settings.ACOLHE_BREAK_AFTER = 0
    agent = associate([queue], username="bia")
    due = timezone.now()
    animals = sensitive(queue, 2, categories=("animal_harm",), first_response_due_at=due)
    threat = sensitive(queue, categories=("violence",), first_response_due_at=due + timedelta(hours=1))[0]
    client.force_login(agent)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = client.post(reverse("wellbeing_skip"), {"category": "animal_harm", "next": "/"})
        assert response.status_code == 302
        assert client.post(reverse("wellbeing_skip"), {"category": "gossip"}).status_code == 302
        assert assign_next(agent) == threat
        assert assign_next(agent) is None
    with time_machine.travel(start + timedelta(hours=9), tick=False):
        assert assign_next(agent) == animals[0]


@pytest.mark.django_db
def test_the_lead_sees_minutes_and_who_reached_a_limit_in_alphabetical_order_only(queue, client, settings):
    settings.ACOLHE_EXPOSURE_MINUTES = 1
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[queue])
    agents = [associate([queue], username=name, first_name=name, last_name="") for name in ("zeca", "ana", "caio")]
    ticket = sensitive(queue)[0]
    for agent in agents[:2]:
        services.record_screen_time(agent, ticket, slot=1, seconds=30)
        services.record_screen_time(agent, ticket, slot=2, seconds=30)
    services.record_screen_time(agents[2], ticket, slot=1, seconds=30)
    team = wellbeing.team_exposure(lead)
    assert (team.minutes, team.over_budget, team.reached_limit) == (2, 2, ["ana", "zeca"])
    client.force_login(lead)
    html = client.get(reverse("wellbeing_team")).content.decode()
    assert "ana, zeca" in html
    assert "caio" not in html
