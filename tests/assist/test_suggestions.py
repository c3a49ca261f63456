import pytest
from django.db import connection
from django.urls import reverse

from assist.evaluation import evaluate
from assist.selectors import query_text, rank_neighbours, suggestions_for
from tests.assist.helpers import solved
from tests.bench.assist import seed_labelled
from tests.factories import MacroFactory, MessageFactory, QueueFactory, TicketFactory, associate
from tickets.models import Role, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    queue = QueueFactory(slug="suporte", name="Suporte")
    other = QueueFactory(slug="pagamentos", name="Pagamentos")
    recovery = MacroFactory(name="Recuperar conta invadida")
    payout = MacroFactory(name="Pagamento atrasado")
    hacked = solved(
        queue,
        "Minha conta foi invadida",
        "Alguém trocou a senha da minha conta e está postando vídeos no meu perfil.",
        "Oi! Bloqueamos o perfil e enviamos um link seguro de recuperação.\nDepois troque a senha.\nAbraços",
        macro=recovery,
        tags=["conta-invadida"],
        priority=Ticket.Priority.HIGH,
    )
    solved(other, "Pagamento não caiu", "Meu pagamento da monetização não caiu.", "Já reenviamos.", macro=payout)
    new = TicketFactory(queue=queue, subject="Invadiram minha conta")
    MessageFactory(ticket=new, body_text="Trocaram a senha da minha conta e postam vídeos estranhos no perfil.")
    user = associate([queue, other])
    return {"queue": queue, "hacked": hacked, "new": new, "user": user, "recovery": recovery}


def test_the_panel_shows_the_similar_solved_ticket_what_solved_it_and_the_macro(client, desk):
    client.force_login(desk["user"])
    page = client.get(reverse("assist_panel", args=[desk["new"].number])).content.decode()
    assert f"#{desk['hacked'].number}" in page
    assert "Bloqueamos o perfil e enviamos um link seguro de recuperação." in page
    assert "Recuperar conta invadida" in page


def test_the_suggested_macro_queue_priority_and_tags_come_from_the_neighbours(desk):
    suggestions = suggestions_for(desk["user"], desk["new"])
    assert suggestions.neighbours[0].ticket == desk["hacked"]
    assert suggestions.macros[0].value == desk["recovery"].pk
    assert suggestions.queues[0].value == desk["queue"].pk
    assert suggestions.priority.value == Ticket.Priority.HIGH
    assert suggestions.tags == ["conta-invadida"]


def test_the_ticket_page_loads_the_panel_after_its_first_render(client, desk):
    client.force_login(desk["user"])
    page = client.get(reverse("ticket", args=[desk["new"].number])).content.decode()
    assert reverse("assist_panel", args=[desk["new"].number]) in page
    assert "Bloqueamos o perfil" not in page


def test_a_child_safety_ticket_is_never_suggested_to_someone_who_cannot_open_it(client, desk):
    restricted = solved(
        desk["queue"],
        "Invadiram minha conta e postam vídeos",
        "Trocaram a senha da minha conta e postam vídeos estranhos no perfil, vídeos de uma criança.",
        "Encaminhado à equipe de segurança.",
        sensitivity=["child_safety"],
    )
    assert all(n.ticket != restricted for n in suggestions_for(desk["user"], desk["new"]).neighbours)
    client.force_login(desk["user"])
    page = client.get(reverse("assist_panel", args=[desk["new"].number])).content.decode()
    assert f"#{restricted.number}" not in page and "equipe de segurança" not in page
    specialist = associate([desk["queue"]], role=Role.SPECIALIST)
    assert any(n.ticket == restricted for n in suggestions_for(specialist, desk["new"]).neighbours)


def test_a_ticket_the_user_cannot_open_answers_not_found(client, desk):
    client.force_login(associate([QueueFactory(slug="outra")]))
    assert client.get(reverse("assist_panel", args=[desk["new"].number])).status_code == 404


def test_macros_the_user_may_not_use_are_not_suggested(desk):
    desk["recovery"].is_active = False
    desk["recovery"].save()
    suggestions = suggestions_for(desk["user"], desk["new"])
    assert desk["recovery"].pk not in [vote.value for vote in suggestions.macros]


def test_suggestions_take_a_bounded_number_of_queries(desk, django_assert_max_num_queries, forget_word_statistics):
    # The neighbours, their macros, replies and tickets, the usable macros, the queue's habits, and the common
    # words' statistics (read once per process every few minutes).
    with django_assert_max_num_queries(10):
        suggestions_for(desk["user"], desk["new"])
    with django_assert_max_num_queries(9):
        suggestions_for(desk["user"], desk["new"])


def test_the_suggestions_beat_the_baselines_on_a_generated_labelled_set():
    seed_labelled(400, seed=3)
    result = evaluate()
    assert result.held_out == 80
    assert result.macro_top1 > result.baseline_macro_top1
    assert result.macro_top3 > result.baseline_macro_top3
    assert result.queue_top1 > result.baseline_queue_top1


@pytest.fixture
def forget_word_statistics(monkeypatch):
    """Forgets the per-process cache of the common words, so the next query reads the statistics afresh."""
    from assist import selectors

    def forget():
        monkeypatch.setattr(selectors, "_common", (None, []))

    forget()
    return forget


def test_words_in_most_mail_do_not_crowd_out_the_ticket_that_shares_the_rare_ones(forget_word_statistics):
    queue = QueueFactory(slug="suporte")
    refund, greeting = MacroFactory(name="Estorno no cartão"), MacroFactory(name="Saudação")
    right = solved(queue, "Estorno", "Quero o estorno do reembolso no cartão.", "Estornado.", macro=refund)
    # Then 250 solved tickets whose every message says "conta": more than the candidates each query keeps.
    for index in range(250):
        solved(queue, f"Minha conta {index}", "Olá, minha conta, por favor.", "Sua conta está ok.", macro=greeting)
    new = TicketFactory(queue=queue, subject="Minha conta: estorno")
    MessageFactory(ticket=new, body_text="Preciso do reembolso no cartão da minha conta.")
    user = associate([queue])
    # Without statistics every word counts: the recent "conta" mail fills the candidates.
    assert right.pk not in [pk for pk, _ in rank_neighbours(Ticket.objects.exclude(pk=new.pk), query_text(new))]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")  # as autovacuum would; rolled back with the test
    forget_word_statistics()
    suggestions = suggestions_for(user, new)
    assert suggestions.neighbours[0].ticket == right
    assert suggestions.macros[0].value == refund.pk


def test_the_queues_most_used_macros_fill_the_slots_the_neighbours_leave(desk):
    # The one similar ticket used one macro; the queue's habit (two tickets of another topic) comes next.
    habit = MacroFactory(name="Nota fiscal")
    for subject in ("Nota fiscal de março", "Imposto retido"):
        solved(desk["queue"], subject, "Preciso do documento do imposto.", "Segue anexo.", macro=habit)
    macros = [vote.value for vote in suggestions_for(desk["user"], desk["new"]).macros]
    assert macros[:2] == [desk["recovery"].pk, habit.pk]
