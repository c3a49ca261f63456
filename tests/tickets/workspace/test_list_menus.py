"""The list page's menus and sidebar: built in Python and in one query however many queues, with the same
markup, choices and counts as before."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import QueueFactory, TicketFactory, associate
from tickets.models import Ticket
from tickets.workspace import selectors as workspace_selectors

OPTIONS = Template("{% load workspace_tags %}{% options choices selected leave_out=leave_out %}")


def options(choices, selected=(), leave_out=None) -> str:
    return OPTIONS.render(Context({"choices": choices, "selected": selected, "leave_out": leave_out}))


def test_options_mark_the_chosen_values_and_escape_labels_and_values():
    html = options([("open", "Open"), ("pending", "<Pending>"), ('a"b', "A & B")], ["pending", 'a"b'])
    assert html == (
        '<option value="open">Open</option>'
        '<option value="pending" selected>&lt;Pending&gt;</option>'
        '<option value="a&quot;b" selected>A &amp; B</option>'
    )


def test_options_translate_lazy_labels_in_the_readers_language_and_escape_them():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    choices = [("pt", gettext_lazy("Portuguese")), ("x", "O'Brien <&>")]
    with translation.override("pt-br"):
        assert options(choices) == (
            '<option value="pt">Português</option><option value="x">O&#x27;Brien &lt;&amp;&gt;</option>'
        )


def test_options_compare_numbers_with_the_query_strings_values_and_leave_out_one():
    assert options([(1, "Low"), (4, "Urgent")], [4]) == (
        '<option value="1">Low</option><option value="4" selected>Urgent</option>'
    )
    assert options([("suporte", "Suporte"), ("vendas", "Vendas")], "vendas").count("selected") == 1
    assert options([(1, "Ana"), (2, "Bia")], leave_out=1) == '<option value="2">Bia</option>'


@pytest.mark.django_db
def test_the_list_menus_keep_the_filters_and_leave_the_reader_out_of_the_assignee_menu(client, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    suporte = QueueFactory(slug="suporte", name="Suporte")
    vendas = QueueFactory(slug="vendas", name="Vendas & Cia")
    bia = associate([suporte, vendas], username="bia", first_name="Bia", last_name="Lima")
    davi = associate([vendas], username="davi", first_name="<Davi>", last_name="Lima")
    TicketFactory(queue=vendas, status=Ticket.Status.OPEN, priority=Ticket.Priority.URGENT)
    client.force_login(bia)
    page = client.get(
        reverse("workspace", args=["all"]), {"status": "open", "priority": "4,1", "queue": "vendas"}
    ).content.decode()
    start = page.index('aria-label="Filtros"')
    filters = page[start : page.index("</form>", start)]
    assert '<option value="open" selected>Aberto</option>' in filters
    assert '<option value="4" selected>Urgente</option>' in filters and '<option value="1" selected>' in filters
    assert '<option value="2">' in filters
    assert '<option value="vendas" selected>Vendas &amp; Cia</option>' in filters
    bulk = page[page.index('id="bulk-form"') :]
    assignees = bulk[bulk.index('name="set_assignee"') : bulk.index("</select>", bulk.index('name="set_assignee"'))]
    assert f'<option value="{davi.pk}">&lt;Davi&gt; Lima</option>' in assignees
    assert f'<option value="{bia.pk}">' not in assignees  # the reader picks "Me" instead
    moves = bulk[bulk.index('name="set_queue"') : bulk.index("</select>", bulk.index('name="set_queue"'))]
    assert (
        '<option value="suporte">Suporte</option>' in moves
        and '<option value="vendas">Vendas &amp; Cia</option>' in moves
    )


@pytest.mark.django_db
def test_sidebar_queue_counts_are_each_queues_open_tickets_capped_in_as_many_queries_however_many_queues(monkeypatch):
    monkeypatch.setattr(workspace_selectors, "COUNT_CAP", 2)
    queues = [QueueFactory(slug=f"q{n}", name=f"Q{n}") for n in range(6)]
    ana = associate(queues, username="ana")
    for n, queue in enumerate(queues):
        TicketFactory.create_batch(n, queue=queue, status=Ticket.Status.OPEN)
    TicketFactory(queue=queues[1], status=Ticket.Status.SOLVED)
    TicketFactory(queue=QueueFactory(slug="other"), status=Ticket.Status.OPEN)  # not one of hers
    with CaptureQueriesContext(connection) as captured:
        views, counted = workspace_selectors._sidebar_counts(ana)
    assert {q.slug: q.open_count for q in counted} == {"q0": 0, "q1": 1, "q2": 2, "q3": 3, "q4": 3, "q5": 3}
    assert views["all"] == 3 and views["unassigned"] == 3
    # The roles, the queues with their counts, the views' counts: six queues cost what one does.
    assert len(captured) <= 3
