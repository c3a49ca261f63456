import pytest

from tests.factories import MessageFactory, QueueFactory, TicketFactory, associate
from tickets.workspace.search import restore_accents, search_tickets

pytestmark = pytest.mark.django_db


def test_restore_accents_puts_the_original_letters_back_around_the_marks():
    original = "A transmissão caiu e não voltou. Depois, outra transmissão."
    headline = "A [[[transmissao]]] caiu e nao voltou ... outra [[[transmissao]]]."
    assert restore_accents(headline, original) == ("A [[[transmissão]]] caiu e não voltou ... outra [[[transmissão]]].")


@pytest.mark.parametrize(("written", "typed"), [("notificação", "notificacao"), ("notificacao", "notificação")])
def test_search_ignores_accents_both_ways_and_highlights_the_word_as_written(written, typed):
    queue = QueueFactory(slug="suporte")
    ticket = TicketFactory(queue=queue, subject="Pedido")
    MessageFactory(ticket=ticket, body_text=f"Não recebo nenhuma {written} do aplicativo desde ontem.")
    hits, _ = search_tickets(associate([queue], username="ana"), typed)
    assert [hit.ticket for hit in hits] == [ticket]
    assert f"<mark>{written}</mark>" in hits[0].snippet
