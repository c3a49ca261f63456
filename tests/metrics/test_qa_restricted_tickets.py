"""QA and metrics follow the ticket's visibility: a child-safety ticket is sampled only to a reviewer who may
read it, its reviews, calibrations and CSAT comments reach only such readers (pages and API), calibration
asks only leads of the ticket's team who can open it, and score pages mask sensitive subjects."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from metrics import selectors, services
from metrics.models import Calibration, CsatSurvey, QaAssignment, Review
from tests.factories import QueueFactory, TeamFactory, TicketFactory, UserFactory
from tests.metrics.conftest import sp
from tickets.models import Escalation, Queue, Role

pytestmark = pytest.mark.django_db

SECRET = "RELATO-PROTEGIDO-5521"


@pytest.fixture
def trust_and_safety(settings):
    return QueueFactory(
        slug=settings.ACOLHE_TRUST_SAFETY_QUEUE, name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL
    )


@pytest.fixture
def report(queue, ana, trust_and_safety):
    """A child-safety report ana solved, escalated to Trust & Safety (whose members may read it)."""
    ticket = TicketFactory(
        queue=queue,
        assignee=ana,
        status="solved",
        solved_at=sp(2025, 3, 11, 10, 0),
        subject=f"Assunto {SECRET}",
        sensitivity=["child_safety"],
        legal_hold=True,
    )
    Escalation.objects.create(ticket=ticket, from_queue=queue, target_queue=trust_and_safety, reason="relato")
    return ticket


@pytest.fixture
def safety_lead(team, trust_and_safety):
    """A lead of ana's team who is also a member of Trust & Safety: may read the report."""
    user = UserFactory(username="lead.seguranca", role=Role.TEAM_LEAD, queues=[trust_and_safety])
    team.leads.add(user)
    return user


@pytest.fixture
def review_of_the_report(report, ana, safety_lead, scorecard):
    return Review.objects.create(
        ticket=report, associate=ana, reviewer=safety_lead, scorecard=scorecard, score=40, comment=SECRET
    )


def test_weekly_sampling_never_gives_a_restricted_ticket_to_a_lead_who_cannot_open_it(queue, ana, lead, report):
    with time_machine.travel(sp(2025, 3, 11, 10, 0), tick=False):
        plain = TicketFactory(queue=queue, assignee=ana, status="solved", solved_at=sp(2025, 3, 11, 11, 0))
    services.sample_week(date(2025, 3, 10), per_associate=5, seed=1)
    assert list(QaAssignment.objects.values_list("ticket_id", "reviewer_id")) == [(plain.pk, lead.pk)]


def test_weekly_sampling_gives_a_restricted_ticket_to_the_lead_who_can_open_it(ana, lead, safety_lead, report):
    services.sample_week(date(2025, 3, 10), per_associate=5, seed=1)
    assert list(QaAssignment.objects.values_list("ticket_id", "reviewer_id")) == [(report.pk, safety_lead.pk)]


def test_pending_assignments_of_a_restricted_ticket_are_not_listed_to_a_lead_who_cannot_open_it(
    client, ana, lead, report
):
    QaAssignment.objects.create(week=date(2025, 3, 10), ticket=report, associate=ana, reviewer=lead)
    assert list(selectors.assignments_for(lead)) == []
    client.force_login(lead)
    assert SECRET not in client.get("/metrics/qa/").content.decode()


def test_reviews_of_a_restricted_ticket_reach_only_those_who_can_open_it(
    client, ana, lead, safety_lead, review_of_the_report
):
    review = review_of_the_report
    pages = [
        "/metrics/qa/",
        f"/metrics/associates/{ana.pk}/",
        "/api/v1/qa/reviews/",
        f"/metrics/qa/reviews/{review.pk}/",
    ]
    for reader in (lead, ana):
        client.force_login(reader)
        for url in [*pages, "/metrics/me/", f"/api/v1/qa/reviews/{review.pk}/"]:
            response = client.get(url)
            assert response.status_code in (200, 403, 404), url
            assert SECRET not in response.content.decode(), f"{reader.username} {url}"
        assert client.get(f"/metrics/qa/reviews/{review.pk}/").status_code == 404
    client.force_login(safety_lead)
    assert SECRET in client.get(f"/metrics/qa/reviews/{review.pk}/").content.decode()
    assert SECRET in client.get("/api/v1/qa/reviews/").content.decode()


def test_csat_comments_on_a_restricted_ticket_reach_only_those_who_can_open_it(client, ana, lead, report):
    CsatSurvey.objects.create(ticket=report, associate=ana, rating=1, comment=SECRET, answered_at=sp(2025, 3, 12))
    for reader, url in ((lead, "/api/v1/csat/"), (lead, f"/metrics/associates/{ana.pk}/"), (ana, "/metrics/me/")):
        client.force_login(reader)
        assert SECRET not in client.get(url).content.decode(), f"{reader.username} {url}"


def test_calibrations_of_a_restricted_ticket_are_hidden_from_a_lead_who_cannot_open_it(
    client, ana, lead, safety_lead, report, scorecard
):
    calibration = Calibration.objects.create(ticket=report, associate=ana, scorecard=scorecard, created_by=safety_lead)
    assert list(selectors.calibrations_visible_to(lead)) == []
    client.force_login(lead)
    assert client.get(f"/metrics/qa/calibrations/{calibration.pk}/").status_code == 404
    assert list(selectors.calibrations_visible_to(safety_lead)) == [calibration]


def test_calibration_pulls_in_only_leads_of_the_tickets_team(queue, team, ana, lead, scorecard):
    co_lead = UserFactory(username="lead.duda", role=Role.TEAM_LEAD)
    team.leads.add(co_lead)
    stranger = UserFactory(username="lead.outro", role=Role.TEAM_LEAD)
    TeamFactory(name="Outro time").leads.add(stranger)
    ticket = TicketFactory(queue=queue, assignee=ana)
    assert set(selectors.calibration_reviewers(ticket, ana)) == {lead, co_lead}
    with pytest.raises(ValidationError):
        services.start_calibration(
            ticket=ticket, associate=ana, scorecard=scorecard, reviewers=[lead, stranger], actor=lead
        )
    assert not Calibration.objects.exists()
    services.start_calibration(ticket=ticket, associate=ana, scorecard=scorecard, reviewers=[lead, co_lead], actor=lead)
    assert Calibration.objects.count() == 1


def test_calibration_of_a_restricted_ticket_pulls_in_only_leads_who_can_open_it(
    team, ana, lead, safety_lead, report, scorecard
):
    assert list(selectors.calibration_reviewers(report, ana)) == [safety_lead]
    with pytest.raises(ValidationError):
        services.start_calibration(
            ticket=report, associate=ana, scorecard=scorecard, reviewers=[safety_lead, lead], actor=safety_lead
        )
    assert not Calibration.objects.exists()


def test_the_calibration_form_offers_only_leads_of_the_tickets_team(client, queue, team, ana, lead, scorecard):
    stranger = UserFactory(username="lead.outro", role=Role.TEAM_LEAD)
    TeamFactory(name="Outro time").leads.add(stranger)
    ticket = TicketFactory(queue=queue, assignee=ana)
    client.force_login(lead)
    form = client.get(f"/metrics/qa/tickets/{ticket.number}/calibrate/?associate={ana.pk}").context["form"]
    assert list(form.fields["reviewers"].queryset) == [lead]


def test_my_scores_mask_the_subject_of_a_sensitive_ticket(client, queue, ana, lead, scorecard):
    ticket = TicketFactory(queue=queue, assignee=ana, subject=f"Assunto {SECRET}", sensitivity=["self_harm"])
    Review.objects.create(ticket=ticket, associate=ana, reviewer=lead, scorecard=scorecard, score=90)
    client.force_login(ana)
    page = client.get("/metrics/me/").content.decode()
    assert 'data-testid="masked-subject"' in page
    assert SECRET not in page
    client.force_login(lead)
    page = client.get(f"/metrics/associates/{ana.pk}/").content.decode()
    assert 'data-testid="masked-subject"' in page
    assert SECRET not in page


def test_the_navigations_qa_count_leaves_out_a_restricted_ticket_the_lead_cannot_open(
    queue, ana, lead, safety_lead, report
):
    plain = TicketFactory(queue=queue, assignee=ana, status="solved")
    QaAssignment.objects.create(week=date(2025, 3, 10), ticket=plain, associate=ana, reviewer=lead)
    QaAssignment.objects.create(week=date(2025, 3, 10), ticket=report, associate=ana, reviewer=lead)
    QaAssignment.objects.create(week=date(2025, 3, 10), ticket=report, associate=ana, reviewer=safety_lead)
    assert selectors.navigation_links(lead)["pending"] == 1 == len(selectors.assignments_for(lead))
    assert selectors.navigation_links(safety_lead)["pending"] == 1 == len(selectors.assignments_for(safety_lead))
