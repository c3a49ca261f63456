"""The stored search excerpt of a long body follows its ticket's restrictions like the body itself: a
child-safety ticket's excerpt never reaches the search page or API of someone who may not read the ticket,
before or after a merge carries it onto another ticket, and a flagged ticket's snippet stays hidden."""

import pytest
from django.test import Client

from tests.factories import MessageFactory, TicketFactory
from tickets.models import SEARCH_EXCERPT_CHARS, Message
from tickets.wellbeing import services as wellbeing
from tickets.workspace import search, services

pytestmark = pytest.mark.django_db

WORD = "relato-sigiloso-5512"
# Words of the excerpt that the search does not ask for: a snippet would carry them.
OPENING = "testemunha descreveu o local exato"


def long_body() -> str:
    return f"{OPENING}; {WORD} segue anexo.\n" + "registro sem importancia\n" * (SEARCH_EXCERPT_CHARS // 10)


@pytest.fixture
def report(suporte, trust_and_safety):
    ticket = TicketFactory(queue=suporte, subject="Denúncia")
    MessageFactory(ticket=ticket, body_text=long_body())
    wellbeing.flag_ticket(ticket, ["child_safety"])
    ticket.refresh_from_db()
    return ticket


def _page(user, word=WORD) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/search/", {"q": word}).content.decode()


def test_a_child_safety_excerpt_is_found_by_trust_and_safety_only(report, agent, specialist, api_client_for):
    assert Message.objects.get(ticket=report).search_excerpt is not None
    page = _page(agent)
    assert f"/tickets/{report.number}/" not in page and OPENING not in page
    api = api_client_for(agent).get("/api/v1/tickets/search/", {"q": WORD})
    assert api.json() == [] and OPENING not in api.content.decode()
    assert search.search_tickets(agent, WORD) == ([], False)
    [hit], _more = search.search_tickets(specialist, WORD)
    assert hit.ticket == report and OPENING in hit.snippet
    # Flagged content's snippet is not shown, even to who may open the ticket.
    assert OPENING not in _page(specialist)


def test_a_merge_carries_the_restriction_over_the_excerpt(report, suporte, agent, specialist):
    ordinary = TicketFactory(queue=suporte, subject="Senha", assignee=agent)
    MessageFactory(ticket=ordinary, body_text="esqueci a senha")
    services.merge(report.number, ordinary.number, restrict_target=True, actor=specialist)
    assert Message.objects.filter(ticket=ordinary, search_excerpt__contains=WORD).exists()
    assert search.search_tickets(agent, WORD) == ([], False)
    page = _page(agent)
    assert f"/tickets/{ordinary.number}/" not in page and OPENING not in page
