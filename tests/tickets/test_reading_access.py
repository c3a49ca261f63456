"""`tickets_visible_to` inside a read-only request (`selectors.reading`), filtered by the ids `access_of` resolves
once, gives exactly the rows of the rule as one query, over a matrix of users and tickets."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import QueueFactory, TeamFactory, TicketFactory, UserFactory
from tickets import selectors
from tickets.escalations import selectors as escalation_selectors
from tickets.models import Escalation, Queue, Role, Ticket

pytestmark = pytest.mark.django_db

SENSITIVITIES: tuple[list[str], ...] = ([], ["child_safety"], ["self_harm"], ["self_harm", "child_safety"])


@pytest.fixture
def world(settings):
    """Two teams' queues, Trust & Safety (led through its team) and another cross-functional queue; tickets
    in every queue with every sensitivity, not escalated, escalated openly or handed back to either."""
    team, specialists = TeamFactory(name="Atendimento"), TeamFactory(name="Especialistas")
    other_team = TeamFactory(name="Outra")
    suporte = QueueFactory(slug="suporte", team=team)
    vendas = QueueFactory(slug="vendas", team=other_team)
    trust = QueueFactory(slug=settings.ACOLHE_TRUST_SAFETY_QUEUE, team=specialists, kind=Queue.Kind.CROSS_FUNCTIONAL)
    legal = QueueFactory(slug="juridico", team=specialists, kind=Queue.Kind.CROSS_FUNCTIONAL)
    users = [
        UserFactory(username="assoc", role=Role.ASSOCIATE, queues=[suporte]),
        UserFactory(username="two_queues", role=Role.ASSOCIATE, queues=[suporte, vendas]),
        UserFactory(username="no_queue", role=Role.ASSOCIATE),
        UserFactory(username="lead", role=Role.TEAM_LEAD),
        UserFactory(username="lead_of_specialists", role=Role.TEAM_LEAD),
        UserFactory(username="lead_without_role"),  # leads a team, but the role is what makes leading count
        UserFactory(username="ts_specialist", role=Role.SPECIALIST, queues=[trust]),
        UserFactory(username="ts_member", role=Role.ASSOCIATE, queues=[trust]),  # a member, not a specialist
        UserFactory(username="legal_specialist", role=Role.SPECIALIST, queues=[legal]),
        UserFactory(username="legal_member", queues=[legal, suporte]),
        UserFactory(username="admin", role=Role.ADMIN),
        UserFactory(username="admin_in_ts", role=Role.ADMIN, queues=[trust]),
        UserFactory(username="superuser", is_superuser=True),
        UserFactory(username="inactive", role=Role.ADMIN, queues=[suporte, trust], is_active=False),
    ]
    by_name = {u.username: u for u in users}
    team.leads.add(by_name["lead"])
    specialists.leads.add(by_name["lead_of_specialists"], by_name["lead_without_role"])
    escalations = [None, (trust, Escalation.Status.OPEN), (legal, Escalation.Status.OPEN)]
    escalations += [(trust, Escalation.Status.HANDED_BACK), (legal, Escalation.Status.HANDED_BACK)]
    for queue, sensitivity, escalation in itertools.product([suporte, vendas, trust], SENSITIVITIES, escalations):
        ticket = TicketFactory(queue=queue, sensitivity=sensitivity)
        if escalation is not None:
            target, status = escalation
            Escalation.objects.create(ticket=ticket, from_queue=queue, target_queue=target, reason="r", status=status)
    return {"users": users, "queues": [suporte, vendas, trust, legal]}


def _rule(user) -> set[int]:
    """The rule as one query, as outside a request."""
    if not user.is_active:
        return set()
    return set(Ticket.objects.filter(selectors._visibility_rule(user)).values_list("pk", flat=True))


def _compare(world):
    tickets = list(Ticket.objects.all())
    assert len(tickets) == 60
    seen_some = False
    for user in [*world["users"], AnonymousUser()]:
        expected = _rule(user) if user.is_authenticated else set()
        seen_some |= 0 < len(expected) < len(tickets)
        with selectors.reading():
            assert set(selectors.tickets_visible_to(user).values_list("pk", flat=True)) == expected, user
            for ticket in tickets:
                assert selectors.can_open(user, ticket) == (ticket.pk in expected), (user, ticket.pk)
            queues = set(selectors.queues_visible_to(user).values_list("pk", flat=True))
        # The same user outside a request reads the rule as one query, with the same answer.
        assert set(selectors.tickets_visible_to(user).values_list("pk", flat=True)) == expected
        assert set(selectors.queues_visible_to(user).values_list("pk", flat=True)) == queues
    assert seen_some


def test_reading_gives_the_rows_of_the_rule_for_every_user_and_ticket(world):
    _compare(world)


def test_reading_with_too_many_escalations_to_list_reads_them_by_subquery(world, monkeypatch):
    monkeypatch.setattr(selectors, "ESCALATED_IDS_LIMIT", 2)
    specialist = next(u for u in world["users"] if u.username == "ts_specialist")
    assert selectors.access_of(specialist).escalated is None
    _compare(world)


def test_reading_resolves_each_users_access_once_and_forgets_it_after(world, django_assert_num_queries):
    user = next(u for u in world["users"] if u.username == "lead_of_specialists")
    with selectors.reading():
        with django_assert_num_queries(2):  # roles, queues and escalations (`db.access_rows`), the tickets
            first = set(selectors.tickets_visible_to(user).values_list("pk", flat=True))
        with django_assert_num_queries(1):
            assert set(selectors.tickets_visible_to(user).values_list("pk", flat=True)) == first
    # Outside it, a change is seen at once: nothing was kept.
    Escalation.objects.filter(status=Escalation.Status.OPEN).update(status=Escalation.Status.HANDED_BACK)
    assert set(selectors.tickets_visible_to(user).values_list("pk", flat=True)) < first
    with selectors.reading():
        assert set(selectors.tickets_visible_to(user).values_list("pk", flat=True)) == _rule(user)


def test_membership_for_handing_back_is_the_same_inside_and_outside_reading(world):
    for user, queue in itertools.product(world["users"], world["queues"]):
        outside = escalation_selectors.selectors.is_member_of(user, queue.pk)
        assert outside == queue.members.filter(pk=user.pk).exists()
        with selectors.reading():
            assert selectors.is_member_of(user, queue.pk) == outside


def test_only_safe_requests_run_inside_reading(client, world, monkeypatch):
    seen = []
    real = selectors._resolved_access
    monkeypatch.setattr(selectors, "_resolved_access", lambda user: seen.append(selectors._reading.get()) or real(user))
    client.force_login(world["users"][0])
    number = Ticket.objects.filter(queue__slug="suporte", sensitivity=[]).first().number
    client.get(f"/tickets/{number}/")
    assert seen and all(memo is not None for memo in seen)
    seen.clear()
    client.post(f"/tickets/{number}/fields/", {})
    assert seen and all(memo is None for memo in seen)
