"""QA: reviews with weighted criteria, who may review and see them, weekly sampling, calibration."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from metrics import selectors, services
from metrics.models import Criterion, DailyStats, QaAssignment, Review, Scorecard
from tests.factories import TicketFactory, UserFactory
from tests.metrics.conftest import sp
from tickets.models import Role

pytestmark = pytest.mark.django_db


def ratings(card, *values):
    return {c.pk: (v, f"note {n}") for n, (c, v) in enumerate(zip(card.criteria.all(), values, strict=True))}


def test_a_lead_reviews_a_ticket_and_the_score_reaches_the_rollup(
    queue, ana, lead, scorecard, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(queue=queue, assignee=ana)
    with time_machine.travel(sp(2025, 3, 10, 15, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        review = services.submit_review(
            ticket=ticket, associate=ana, scorecard=scorecard, ratings=ratings(scorecard, 5, 3, 5, 1), actor=lead
        )
    assert review.score == pytest.approx(71.43, abs=0.01)
    assert [a.comment for a in review.answers.all()] == ["note 0", "note 1", "note 2", "note 3"]
    row = DailyStats.objects.get(day=date(2025, 3, 10), associate=ana)
    assert (row.qa_reviews, row.qa_70) == (1, 1)
    assert row.qa_score_sum == pytest.approx(71.43, abs=0.01)


def test_reviewing_again_replaces_the_reviewers_earlier_review(queue, ana, lead, scorecard):
    ticket = TicketFactory(queue=queue)
    services.submit_review(
        ticket=ticket, associate=ana, scorecard=scorecard, ratings=ratings(scorecard, 1, 1, 1, 1), actor=lead
    )
    services.submit_review(
        ticket=ticket, associate=ana, scorecard=scorecard, ratings=ratings(scorecard, 5, 5, 5, 5), actor=lead
    )
    assert list(Review.objects.values_list("score", flat=True)) == [100]


def test_only_leads_of_the_associates_team_and_admins_review(queue, ana, bia, lead, outsider, scorecard):
    ticket = TicketFactory(queue=queue)
    for reviewer, associate in ((bia, ana), (lead, outsider), (ana, ana)):
        with pytest.raises(PermissionDenied):
            services.submit_review(
                ticket=ticket,
                associate=associate,
                scorecard=scorecard,
                ratings=ratings(scorecard, 3, 3, 3, 3),
                actor=reviewer,
            )
    admin = UserFactory(username="root", role=Role.ADMIN)
    assert (
        services.submit_review(
            ticket=ticket, associate=outsider, scorecard=scorecard, ratings=ratings(scorecard, 3, 3, 3, 3), actor=admin
        ).score
        == 50
    )


def test_the_associate_sees_their_reviews_and_no_one_elses(client, queue, ana, bia, lead, scorecard):
    review = services.submit_review(
        ticket=TicketFactory(queue=queue),
        associate=ana,
        scorecard=scorecard,
        ratings=ratings(scorecard, 4, 4, 4, 4),
        actor=lead,
    )
    client.force_login(ana)
    page = client.get(reverse("metrics:me"))
    assert reverse("metrics:review", args=[review.pk]) in page.content.decode()
    detail = client.get(reverse("metrics:review", args=[review.pk]))
    assert "note 2" in detail.content.decode()
    client.force_login(bia)
    assert client.get(reverse("metrics:review", args=[review.pk])).status_code == 404
    assert list(selectors.reviews_visible_to(bia)) == []


def test_weekly_sampling_assigns_solved_tickets_to_the_team_lead_once(queue, ana, bia, lead):
    with time_machine.travel(sp(2025, 3, 11, 10, 0), tick=False):
        solved = [
            TicketFactory(queue=queue, assignee=ana, status="solved", solved_at=sp(2025, 3, 11, 10, 0))
            for _ in range(5)
        ]
        TicketFactory(queue=queue, assignee=bia, status="solved", solved_at=sp(2025, 3, 12, 10, 0))
    TicketFactory(queue=queue, assignee=ana, status="solved", solved_at=sp(2025, 3, 20, 10, 0))  # next week
    created = services.sample_week(date(2025, 3, 12), per_associate=3, seed=1)
    assert len(created) == 4
    assignments = QaAssignment.objects.all()
    assert {a.reviewer for a in assignments} == {lead}
    assert {a.week for a in assignments} == {date(2025, 3, 10)}
    assert sum(1 for a in assignments if a.associate == ana) == 3
    assert {a.ticket_id for a in assignments if a.associate == ana} <= {t.pk for t in solved}
    assert services.sample_week(date(2025, 3, 10), per_associate=3, seed=2) == []
    assert QaAssignment.objects.count() == 4


def test_calibration_shows_the_spread_between_reviewers_and_does_not_count(
    queue, team, ana, lead, scorecard, django_capture_on_commit_callbacks
):
    other_lead = UserFactory(username="lead.duda", role=Role.TEAM_LEAD)
    team.leads.add(other_lead)
    ticket = TicketFactory(queue=queue, assignee=ana)
    calibration = services.start_calibration(
        ticket=ticket, associate=ana, scorecard=scorecard, reviewers=[lead, other_lead], actor=lead
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_review(
            ticket=ticket,
            associate=ana,
            scorecard=scorecard,
            ratings=ratings(scorecard, 5, 5, 5, 5),
            calibration=calibration,
            actor=lead,
        )
        services.submit_review(
            ticket=ticket,
            associate=ana,
            scorecard=scorecard,
            ratings=ratings(scorecard, 2, 5, 4, 5),
            calibration=calibration,
            actor=other_lead,
        )
    reviews, spreads, total = selectors.calibration_spread(calibration)
    assert [s.spread for s in spreads] == [3, 0, 1, 0]
    assert sorted(r.score for r in reviews) == [pytest.approx(64.29, abs=0.01), 100]
    assert total == pytest.approx(35.71, abs=0.01)
    assert not QaAssignment.objects.filter(calibration=calibration, review__isnull=True).exists()
    assert not DailyStats.objects.filter(qa_reviews__gt=0).exists()
    assert list(selectors.reviews_visible_to(ana)) == []


def test_the_review_page_saves_a_review(client, queue, ana, lead, scorecard):
    ticket = TicketFactory(queue=queue, assignee=ana)
    client.force_login(lead)
    url = reverse("metrics:review_ticket", args=[ticket.number]) + f"?associate={ana.pk}"
    assert client.get(url).status_code == 200
    data = {"associate": ana.pk, "comment": "Good work"}
    for criterion in scorecard.criteria.all():
        data[f"rating_{criterion.pk}"] = "4"
        data[f"comment_{criterion.pk}"] = ""
    response = client.post(url, data)
    review = Review.objects.get()
    assert response.status_code == 302
    assert review.score == 75
    client.force_login(ana)
    assert client.get(url).status_code == 403


def test_the_review_form_shows_each_criterion_in_the_reviewers_language(client, queue, ana, lead):
    card = Scorecard.objects.create(name="Bilingual")
    Criterion.objects.create(
        scorecard=card,
        position=1,
        name="Resolução correta",
        name_pt="Resolução correta",
        name_en="Correct resolution",
        description_pt="Resolve o problema de vez.",
        description_en="Solves the problem for good.",
        weight=3,
    )
    ticket = TicketFactory(queue=queue, assignee=ana)
    client.force_login(lead)
    url = reverse("metrics:review_ticket", args=[ticket.number]) + f"?associate={ana.pk}"

    client.post("/language/", {"language": "en", "next": "/"})
    english = client.get(url).content.decode()
    client.post("/language/", {"language": "pt-br", "next": "/"})
    portuguese = client.get(url).content.decode()

    assert "Correct resolution" in english and "Solves the problem for good." in english
    assert "Resolução correta" not in english
    assert "Resolução correta" in portuguese and "Resolve o problema de vez." in portuguese
