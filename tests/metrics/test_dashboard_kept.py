"""Each dashboard is kept until the rollups or the names it shows change (metrics/selectors.py, `dashboard`): a
second view reads no rollup rows, and a rollup, a renamed associate or queue, other filters or a lead's changed
teams are on the next view, with the page cache off."""

import re
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics import services, tables
from tests.factories import RequesterFactory, TeamFactory
from tests.metrics.conftest import _member, sp
from tickets import services as ticket_services
from tickets.workspace import services as workspace

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rendered_every_time")]
DAY = date(2025, 3, 10)
URL = reverse("metrics:dashboard") + "?first=2025-03-01&last=2025-03-30"


def _solve(queue, who, hour: int) -> None:
    with time_machine.travel(sp(2025, 3, 10, hour, 0), tick=False):
        ticket = ticket_services.open_ticket(requester=RequesterFactory(), queue=queue, subject="Senha", language="pt")
    with time_machine.travel(sp(2025, 3, 10, hour, 30), tick=False):
        workspace.reply(ticket.number, "Oi!", set_status="solved", actor=who)


def _rollup() -> None:
    services.rollup_days(DAY, DAY, now=sp(2025, 3, 10, 18, 0))


def _board(client, url=URL):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    rollups_read = any("metrics_dailystats" in q["sql"] for q in queries.captured_queries)
    return response.context["board"], response.content.decode(), rollups_read


def _solved(board, name: str) -> int:
    return next(row.summary.solved for row in board.associates if row.name == name)


@pytest.fixture
def rolled(queue, ana, lead):
    _solve(queue, ana, 9)
    _rollup()


def test_a_second_view_reads_no_rollups_and_a_rollup_is_on_the_next(client, rolled, queue, ana, lead):
    client.force_login(lead)
    board, _html, read = _board(client)
    assert read and _solved(board, "Ana Souza") == 1
    board, _html, read = _board(client)
    assert not read and _solved(board, "Ana Souza") == 1
    _solve(queue, ana, 11)
    assert _solved(_board(client)[0], "Ana Souza") == 1  # not rolled up yet: the rollups say 1
    _rollup()
    board, _html, read = _board(client)
    assert read and _solved(board, "Ana Souza") == 2


def test_a_renamed_associate_or_queue_is_on_the_next_view(client, rolled, queue, ana, lead):
    client.force_login(lead)
    _board(client)
    ana.last_name = "Pereira"
    ana.save()
    queue.name = "Suporte Brasil"
    queue.save()
    board, html, read = _board(client)
    assert read and "Ana Pereira" in html and "Ana Souza" not in html
    assert [row.name for row in board.queues] == ["Suporte Brasil"]


def test_signing_in_keeps_the_dashboards(client, rolled, ana, lead):
    client.force_login(lead)
    _board(client)
    client.force_login(ana)  # writes ana's last_login
    client.force_login(lead)
    assert not _board(client)[2]


def test_other_filters_and_other_teams_are_read_apart(client, rolled, queue, ana, lead):
    client.force_login(lead)
    _board(client)
    assert _board(client, URL + "&language=en")[2]
    other = TeamFactory(name="Time Dois")
    duda = _member("duda", queue, other, first_name="Duda", last_name="Reis")
    _solve(queue, duda, 13)
    _rollup()
    assert "Duda Reis" not in _board(client)[1]
    other.leads.add(lead)
    _kept, html, read = _board(client)
    assert read and "Duda Reis" in html


def _tables(html: str) -> str:
    start = html.index('<section class="metrics-table"')
    return html[start : html.rindex("</section>", start, html.index('data-testid="team-exposure-slot"'))]


def test_the_tables_are_kept_with_the_figures_per_language_and_a_rollup_renders_them_again(
    client, rolled, queue, ana, lead, monkeypatch
):
    client.force_login(lead)
    first = _tables(_board(client)[1])
    built = []
    associates_table = tables.associates_table
    monkeypatch.setattr(
        tables, "associates_table", lambda *args, **kwargs: built.append(1) or associates_table(*args, **kwargs)
    )
    assert _tables(_board(client)[1]) == first and built == []
    # Another language is rendered apart: its own headers and number format.
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="pt-br")
    portuguese = _tables(response.content.decode())
    assert built == [1] and portuguese != first and "Resolvidos" in portuguese and "Solved" in first
    _solve(queue, ana, 11)
    _rollup()
    again = _tables(_board(client)[1])
    assert built == [1, 1]
    row = re.search(r"<tr><td><a [^>]*>Ana Souza</a></td><td class=\"num\">(\d+)</td>", again)
    assert row is not None and row.group(1) == "2"
    assert re.search(r"<tr><td><a [^>]*>Ana Souza</a></td><td class=\"num\">(\d+)</td>", first).group(1) == "1"
