"""A lead opens the dashboard, filters it, exports a CSV and reviews a ticket; the associate sees the review."""

from pathlib import Path

import pytest
from django.utils import timezone

from metrics import services
from metrics.models import Criterion, Scorecard
from tests.e2e.conftest import login
from tests.factories import QueueFactory, RequesterFactory, TeamFactory, UserFactory
from tickets import services as ticket_services
from tickets.models import Profile, Role, Ticket
from tickets.workspace import services as workspace

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team_with_work(settings):
    settings.ACOLHE_CSAT_ENABLED = False
    team = TeamFactory(name="Time Brasil")
    suporte = QueueFactory(slug="suporte", name="Suporte", team=team, languages=["pt"])
    support = QueueFactory(slug="support", name="Support", team=team, languages=["en"])
    lead = UserFactory(username="lead.ana", first_name="Ana", last_name="Lead", role=Role.TEAM_LEAD)
    team.leads.add(lead)
    maria = UserFactory(username="maria", first_name="Maria", last_name="Silva", role=Role.ASSOCIATE)
    for user in (lead, maria):
        Profile.objects.create(user=user, team=team, languages=["pt", "en"])
        suporte.members.add(user)
        support.members.add(user)
    card = Scorecard.objects.create(name="Front line")
    for position, name in enumerate(["Correct resolution", "SOP followed"], start=1):
        Criterion.objects.create(scorecard=card, position=position, name=name, weight=position)
    tickets = []
    for queue, language in ((suporte, "pt"), (support, "en")):
        ticket = ticket_services.open_ticket(
            requester=RequesterFactory(), queue=queue, subject=f"Senha {language}", language=language
        )
        workspace.reply(ticket.number, "Pronto!", set_status=Ticket.Status.SOLVED, actor=maria)
        tickets.append(ticket)
    today = timezone.localdate()
    services.rollup_days(today, today)
    return lead, maria, tickets


def test_lead_filters_exports_and_reviews_and_the_associate_sees_it(new_page, live_server, team_with_work):
    _lead, maria, tickets = team_with_work
    page = new_page()
    login(page, live_server, "lead.ana")
    page.click("nav.mainnav >> text=Dashboard")
    page.wait_for_url("**/metrics/**")
    page.wait_for_function("window.Chart && Chart.getChart('chart-trend') && Chart.getChart('chart-csat')")
    associates = page.locator("[data-table=associates]")
    assert "Maria Silva" in associates.inner_text()
    assert associates.locator("tbody tr td").nth(1).inner_text() == "2"

    page.select_option("[data-testid=metrics-filters] select[name=language]", "en")
    page.click("[data-testid=metrics-filters] button[type=submit]")
    page.wait_for_url("**language=en**")
    assert page.locator("[data-table=associates] tbody tr td").nth(1).inner_text() == "1"

    with page.expect_download() as download:
        page.click("[data-testid=export-associates]")
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.startswith("acolhe-associates-")
    assert "Maria Silva" in content

    page.goto(f"{live_server.url}/metrics/qa/tickets/{tickets[0].number}/review/?associate={maria.pk}")
    for criterion in page.locator("[data-criterion]").all():
        criterion.locator("input[type=radio][value='4']").check()
    page.fill("textarea[name=comment]", "Muito bem, faltou o link da central de ajuda.")
    page.click("[data-testid=review-form] button[type=submit]")
    page.wait_for_url("**/metrics/qa/reviews/**")
    assert page.locator("[data-testid=review-score]").inner_text() == "75"

    associate_page = new_page(locale="pt-BR")
    login(associate_page, live_server, "maria")
    associate_page.click("nav.mainnav >> text=Meus indicadores")
    associate_page.wait_for_url("**/metrics/me/**")
    reviews = associate_page.locator("[data-testid=my-reviews]")
    assert f"#{tickets[0].number}" in reviews.inner_text()
    reviews.locator("a").first.click()
    assert "faltou o link" in associate_page.content()
