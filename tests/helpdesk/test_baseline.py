import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from helpdesk.baseline import baseline
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_baseline_page_is_not_served_unless_the_benchmark_turns_it_on(client):
    with pytest.raises(NoReverseMatch):
        reverse("bench_baseline")
    assert client.get("/bench/baseline/").status_code == 404


def test_baseline_view_answers_a_signed_in_user_with_the_ticket_subject():
    ticket = TicketFactory(subject="Conta invadida")
    request = RequestFactory().get("/bench/baseline/", {"number": ticket.number})
    request.user = UserFactory(username="ana")

    response = baseline(request)

    assert response.status_code == 200
    assert response.content.decode() == "Conta invadida"


def test_baseline_view_sends_anonymous_visitors_to_log_in():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/bench/baseline/")
    request.user = AnonymousUser()

    assert baseline(request).status_code == 302
