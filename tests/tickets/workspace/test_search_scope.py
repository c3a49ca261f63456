"""What a search ranks: the most recent matches of each source (README, "Search"), best first among them."""

import pytest

from tests.factories import MessageFactory, QueueFactory, TicketFactory, associate
from tickets.workspace import search
from tickets.workspace.search import search_tickets

pytestmark = pytest.mark.django_db


def test_a_search_ranks_the_most_recent_matches_and_an_older_better_match_falls_outside(monkeypatch):
    queue = QueueFactory(slug="suporte")
    # The oldest ticket's message matches best (the word three times); the two newer ones once each. No subject
    # matches.
    oldest = TicketFactory(queue=queue, subject="pedido antigo")
    MessageFactory(ticket=oldest, body_text="estorno do estorno, quero o estorno")
    newer = [TicketFactory(queue=queue, subject=f"pedido {n}") for n in range(2)]
    for ticket in newer:
        MessageFactory(ticket=ticket, body_text="Pedi um estorno ontem.")
    reader = associate([queue], username="ana")

    hits, has_more = search_tickets(reader, "estorno")
    assert hits[0].ticket == oldest
    assert len(hits) == 3
    assert not has_more

    # With room for two messages (and one subject), the oldest is not among them: the two newest messages are
    # chosen by recency, then ranked.
    monkeypatch.setattr(search, "MAX_RESULTS", 1)
    hits, _ = search_tickets(reader, "estorno")
    assert {hit.ticket for hit in hits} == set(newer)
