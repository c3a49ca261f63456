import pytest

from metrics.demo import load_demo_metrics
from metrics.models import CsatSurvey, DailyStats, Review, Scorecard
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_demo_metrics_load_once(queue, ana, lead, django_capture_on_commit_callbacks):
    for _ in range(6):
        TicketFactory(queue=queue, assignee=ana, status="solved")
    with django_capture_on_commit_callbacks(execute=True):
        first = load_demo_metrics(reviews_per_associate=2)
    assert first["reviews"] == 2
    assert Scorecard.objects.get().criteria.count() == 4
    counts = (Review.objects.count(), CsatSurvey.objects.filter(rating__isnull=False).count())
    with django_capture_on_commit_callbacks(execute=True):
        load_demo_metrics(reviews_per_associate=2)
    assert (Review.objects.count(), CsatSurvey.objects.filter(rating__isnull=False).count()) == counts
    assert DailyStats.objects.filter(associate=ana).exists()
