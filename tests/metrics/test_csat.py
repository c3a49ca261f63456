"""CSAT: the signed link in the solved-ticket email, the public page, one answer per ticket."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse

from metrics import services
from metrics.models import CsatSurvey, DailyStats
from metrics.services.csat import survey_token
from tests.factories import MessageFactory, RequesterFactory, TicketFactory
from tests.metrics.conftest import sp
from tickets import services as ticket_services
from tickets.models import Message, Ticket
from tickets.workspace import services as workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def solved(queue, ana, django_capture_on_commit_callbacks):
    ticket = TicketFactory(queue=queue, language="en", requester=RequesterFactory(email="kim@example.com", name="Kim"))
    MessageFactory(ticket=ticket, message_id="<first@mail.example.com>", created_at=sp(2025, 3, 10, 9, 0))
    with time_machine.travel(sp(2025, 3, 10, 10, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        workspace.reply(ticket.number, "All sorted!", set_status=Ticket.Status.SOLVED, actor=ana)
    return ticket


def link_in(body: str) -> str:
    return next(word for word in body.split() if "/metrics/csat/" in word)


def test_solving_a_ticket_mails_a_signed_survey_link_on_the_ticket_thread(solved, ana):
    survey = CsatSurvey.objects.get(ticket=solved)
    assert survey.associate == ana
    sent = mail.outbox[-1]
    assert sent.to == ["kim@example.com"]
    assert sent.subject.startswith(f"[#{solved.number}]")
    reply = Message.objects.filter(ticket=solved, author=ana).get()
    assert sent.extra_headers["In-Reply-To"] == reply.message_id
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "How did we do?" in sent.body
    token = link_in(sent.body).rsplit("/csat/", 1)[1].strip("/")
    with time_machine.travel(sp(2025, 3, 12, 10, 0), tick=False):
        assert services.survey_for_token(token) == survey


def test_the_survey_mail_is_in_the_tickets_language(queue, ana, django_capture_on_commit_callbacks):
    ticket = TicketFactory(queue=queue, language="pt")
    with django_capture_on_commit_callbacks(execute=True):
        workspace.reply(ticket.number, "Resolvido!", set_status=Ticket.Status.SOLVED, actor=ana)
    assert "Como foi o nosso atendimento?" in mail.outbox[-1].body


def test_solving_again_after_a_reopen_sends_no_second_survey(solved, ana, django_capture_on_commit_callbacks):
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        solved.refresh_from_db()
        ticket_services.update_ticket(solved, actor=None, status=Ticket.Status.OPEN)
        ticket_services.update_ticket(solved, actor=ana, status=Ticket.Status.SOLVED)
    assert len(mail.outbox) == sent
    assert CsatSurvey.objects.filter(ticket=solved).count() == 1


def test_a_requester_rates_once_and_the_answer_reaches_the_associates_rollup(
    client, solved, ana, django_capture_on_commit_callbacks
):
    survey = CsatSurvey.objects.get(ticket=solved)
    url = reverse("metrics:csat", args=[survey_token(survey)])
    page = client.get(url)
    assert page.status_code == 200
    assert "How did we do?" in page.content.decode()
    with time_machine.travel(sp(2025, 3, 11, 8, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"rating": "5", "comment": "Fast and kind"})
    assert response.status_code == 200
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (5, "Fast and kind")
    row = DailyStats.objects.get(day=date(2025, 3, 11), associate=ana)
    assert (row.csat_responses, row.csat_sum, row.csat_5) == (1, 5, 1)


def test_a_double_submit_changes_the_answer_within_seven_days_and_is_refused_after(
    client, solved, ana, django_capture_on_commit_callbacks
):
    survey = CsatSurvey.objects.get(ticket=solved)
    url = reverse("metrics:csat", args=[survey_token(survey)])
    with time_machine.travel(sp(2025, 3, 11, 8, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"rating": "2"})
        client.post(url, {"rating": "2"})  # the same answer twice: one answer
        client.post(url, {"rating": "4", "comment": "Better after all"})
    survey.refresh_from_db()
    assert survey.rating == 4
    assert survey.changed_at is not None
    row = DailyStats.objects.get(day=date(2025, 3, 11), associate=ana)
    assert (row.csat_responses, row.csat_sum) == (1, 4)
    with time_machine.travel(sp(2025, 3, 19, 8, 0), tick=False):
        late = client.post(url, {"rating": "1"})
    assert late.status_code == 409
    survey.refresh_from_db()
    assert survey.rating == 4


def test_a_tampered_link_is_refused(client, solved):
    token = survey_token(CsatSurvey.objects.get(ticket=solved))
    response = client.get(reverse("metrics:csat", args=[token[:-2] + ("AA" if not token.endswith("AA") else "BB")]))
    assert response.status_code == 404
    forged = signing.dumps({"survey": CsatSurvey.objects.get(ticket=solved).pk}, salt="something-else")
    assert client.post(reverse("metrics:csat", args=[forged]), {"rating": "5"}).status_code == 404
    assert CsatSurvey.objects.get(ticket=solved).rating is None


def test_an_expired_link_is_refused(client, solved, settings):
    survey = CsatSurvey.objects.get(ticket=solved)
    with time_machine.travel(sp(2025, 3, 10, 10, 0), tick=False):
        token = survey_token(survey)
    with time_machine.travel(sp(2025, 3, 10, 10, 0) + timedelta(days=31), tick=False):
        response = client.post(reverse("metrics:csat", args=[token]), {"rating": "5"})
    assert response.status_code == 410
    assert CsatSurvey.objects.get(ticket=solved).rating is None


def test_the_public_page_switches_language(client, solved):
    url = reverse("metrics:csat", args=[survey_token(CsatSurvey.objects.get(ticket=solved))])
    assert "Como foi o nosso atendimento?" in client.get(url + "?lang=pt").content.decode()
    assert "How did we do?" in client.get(url).content.decode()
