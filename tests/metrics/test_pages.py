"""Dashboards, CSV export, the heartbeat endpoint, the rollup command and the API."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from metrics import services
from metrics.models import DailyStats, Heartbeat
from tests.factories import RequesterFactory, TicketFactory
from tests.metrics.conftest import sp
from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.workspace import services as workspace

pytestmark = pytest.mark.django_db
DAY = date(2025, 3, 10)


@pytest.fixture
def worked(queue, ana, bia, lead):
    """Ana solves two tickets, Bia answers one, on 10 March."""
    for who, status in ((ana, "solved"), (ana, "solved"), (bia, None)):
        with time_machine.travel(sp(2025, 3, 10, 9, 0), tick=False):
            ticket = ticket_services.open_ticket(
                requester=RequesterFactory(), queue=queue, subject="Senha", language="pt"
            )
        with time_machine.travel(sp(2025, 3, 10, 10, 0), tick=False):
            workspace.reply(ticket.number, "Oi!", set_status=status, actor=who)
    services.rollup_days(DAY, DAY, now=sp(2025, 3, 10, 18, 0))


def query(**params):
    return "?" + "&".join(f"{k}={v}" for k, v in {"first": "2025-03-01", "last": "2025-03-30", **params}.items())


def test_a_lead_sees_the_team_dashboard_and_an_associate_does_not(client, worked, lead, ana):
    client.force_login(lead)
    page = client.get(reverse("metrics:dashboard") + query())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ana Souza" in html and "Bia Lima" in html
    assert 'id="metrics-charts"' in html
    client.force_login(ana)
    assert client.get(reverse("metrics:dashboard")).status_code == 403


def test_the_dashboard_reads_rollups_in_a_handful_of_queries(client, worked, lead, django_assert_max_num_queries):
    client.force_login(lead)
    client.get(reverse("metrics:dashboard") + query())  # warm the session
    with django_assert_max_num_queries(14):
        assert client.get(reverse("metrics:dashboard") + query()).status_code == 200


def test_csv_export_follows_the_filters(client, worked, lead, queue):
    client.force_login(lead)
    response = client.get(reverse("metrics:export", args=["associates"]) + query(queue=queue.pk) + "&sep=comma")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"Ana Souza", "Bia Lima"}
    assert by_name["Ana Souza"][1] == "2"  # solved
    assert by_name["Bia Lima"][2] == "1"  # replies
    empty = client.get(reverse("metrics:export", args=["associates"]) + query(language="en") + "&sep=comma")
    assert len(list(csv.reader(io.StringIO(empty.content.decode())))) == 1
    trend = list(
        csv.reader(
            io.StringIO(client.get(reverse("metrics:export", args=["trend"]) + query() + "&sep=comma").content.decode())
        )
    )
    assert len(trend) == 31
    assert client.get(reverse("metrics:export", args=["nope"])).status_code == 404


def test_csv_export_opens_in_a_spreadsheet_set_to_brazilian_portuguese(client, worked, lead, queue):
    client.force_login(lead)
    client.post("/language/", {"language": "pt-br", "next": "/"})
    raw = client.get(reverse("metrics:export", args=["associates"]) + query(queue=queue.pk)).content
    assert raw.startswith("\ufeff".encode())  # the BOM: Excel reads the file as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Atendente"
    decimals = [cell for row in rows[1:] for cell in row[1:] if cell and not cell.isdigit() and cell != "—"]
    assert decimals and all("," in cell and "." not in cell for cell in decimals)

    client.post("/language/", {"language": "en", "next": "/"})
    english = client.get(reverse("metrics:export", args=["associates"]) + query(queue=queue.pk)).content.decode()
    assert not english.startswith("\ufeff") and english.splitlines()[0].startswith("Associate,")


def test_an_associate_sees_only_their_own_page(client, worked, ana, bia, lead):
    client.force_login(ana)
    assert client.get(reverse("metrics:me") + query()).status_code == 200
    assert client.get(reverse("metrics:associate", args=[bia.pk])).status_code == 403
    client.force_login(lead)
    assert client.get(reverse("metrics:associate", args=[bia.pk]) + query()).status_code == 200


def test_heartbeat_endpoint_records_visible_tickets_only(client, queue, ana, outsider):
    ticket = TicketFactory(queue=queue)
    client.force_login(ana)
    assert client.post(reverse("metrics:heartbeat"), {"ticket": ticket.number}).status_code == 204
    assert client.post(reverse("metrics:heartbeat"), {"ticket": "x"}).status_code == 400
    client.force_login(outsider)
    assert client.post(reverse("metrics:heartbeat"), {"ticket": ticket.number}).status_code == 404
    assert Heartbeat.objects.filter(ticket=ticket).count() == 1


def test_the_ticket_page_loads_the_heartbeat_script(client, queue, ana):
    ticket = TicketFactory(queue=queue)
    client.force_login(ana)
    html = client.get(reverse("ticket", args=[ticket.number])).content.decode()
    assert "js/heartbeat.js" in html and f'data-ticket="{ticket.number}"' in html


def test_rollup_command_rebuilds_a_range_and_rerunning_changes_nothing(queue, ana, worked):
    DailyStats.objects.all().delete()
    out = io.StringIO()
    call_command("rollup_metrics", "--from", "2025-03-09", "--to", "2025-03-11", stdout=out)
    assert "2025-03-09" in out.getvalue()
    rows = sorted(DailyStats.objects.values_list("associate_id", "solved", "replies_sent"), key=repr)
    call_command("rollup_metrics", "--from", "2025-03-10", "--to", "2025-03-10", stdout=io.StringIO())
    assert sorted(DailyStats.objects.values_list("associate_id", "solved", "replies_sent"), key=repr) == rows
    assert DailyStats.objects.get(associate=ana).solved == 2


def test_the_api_lists_rollups_reviews_and_csat_within_access(client, worked, ana, bia, lead, scorecard):
    client.force_login(bia)
    rows = client.get("/api/v1/metrics/daily/", {"day_from": "2025-03-10"}).json()["results"]
    assert {row["associate_id"] for row in rows} == {bia.pk}
    client.force_login(lead)
    rows = client.get("/api/v1/metrics/daily/").json()["results"]
    assert {row["associate_id"] for row in rows} >= {ana.pk, bia.pk}
    ana_row = next(row for row in rows if row["associate_id"] == ana.pk)
    assert ana_row["derived"]["solved"] == 2
    ticket = Ticket.objects.filter(assignee=ana).first()
    criteria = list(scorecard.criteria.all())
    created = client.post(
        "/api/v1/qa/reviews/",
        {
            "ticket": ticket.number,
            "associate": ana.pk,
            "scorecard": scorecard.pk,
            "comment": "ok",
            "answers": [{"criterion": c.pk, "rating": 5, "comment": ""} for c in criteria],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["score"] == 100
    client.force_login(ana)
    assert [r["ticket"] for r in client.get("/api/v1/qa/reviews/").json()["results"]] == [ticket.number]
    assert [s["ticket"] for s in client.get("/api/v1/csat/").json()["results"]] != []
    forbidden = client.post(
        "/api/v1/qa/reviews/",
        {"ticket": ticket.number, "associate": bia.pk, "scorecard": scorecard.pk, "answers": []},
        content_type="application/json",
    )
    assert forbidden.status_code in (400, 403)


def test_the_qa_page_asks_to_open_a_ticket_with_a_verb_in_portuguese(client, lead):
    client.force_login(lead)
    html = client.get(reverse("metrics:qa"), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    form = html[html.index('data-testid="review-any"') :]
    form = form[: form.index("</form>")]
    assert ">Abrir</button>" in form  # the verb, not the status "Aberto"
