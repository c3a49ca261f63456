"""The search page's results are built in Python (tickets/workspace/rows.py, `search_hits`) with the markup the
template loop had: the same page, escaped the same, a flagged ticket's subject and snippet masked the same."""

import re
from datetime import timedelta

import pytest
from django.template import engines
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from tests.factories import RequesterFactory, TicketFactory
from tickets.workspace import rows
from tickets.workspace.search import SearchHit

pytestmark = pytest.mark.django_db

# The loop search.html had before the results were built in Python.
TEMPLATE_LOOP = "\n".join(
    [
        "{% load i18n %}{% for hit in hits %}",
        "    <li data-row data-href=\"{% url 'ticket' hit.ticket.number %}\">",
        "      <a href=\"{% url 'ticket' hit.ticket.number %}\" data-row-link>"
        '<span class="ticket-number">#{{ hit.ticket.number }}</span> '
        '{% include "tickets/wellbeing/_subject.html" with t=hit.ticket %}</a>',
        '      <span class="status status-{{ hit.ticket.status }}">{{ hit.ticket.get_status_display }}</span>',
        '      <span class="muted">{{ hit.ticket.requester.email }} · {{ hit.ticket.queue.name }} · '
        '{{ hit.ticket.updated_at|date:"SHORT_DATETIME_FORMAT" }}</span>',
        '      {% if hit.snippet and not hit.ticket.sensitivity %}<p class="snippet">{{ hit.snippet }}</p>{% endif %}',
        "    </li>{% endfor %}",
    ]
)


def _folded(html: str) -> str:
    """White space folded; the included subject template ended the link with a line break, now gone."""
    html = re.sub(r"\s+</a>", "</a>", html)
    return re.sub(r"\s+", " ", html).strip()


@pytest.fixture
def hits(queue):
    now = timezone.now()
    return [
        SearchHit(
            TicketFactory(queue=queue, subject="<b>Senha</b> & acesso", status="pending", updated_at=now),
            1.0,
            mark_safe("minha <mark>senha</mark> sumiu &amp; agora"),
        ),
        SearchHit(
            TicketFactory(
                queue=queue,
                subject="Ameaça",
                sensitivity=["self_harm", "bullying"],
                requester=RequesterFactory(email="o'brien+x@example.com"),
            ),
            0.5,
            mark_safe("não quero mais <mark>viver</mark>"),
        ),
        SearchHit(TicketFactory(queue=queue, subject="", updated_at=now - timedelta(days=40)), 0.2, ""),
    ]


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_the_results_are_the_template_loops_markup(hits, language):
    with translation.override(language), timezone.override("America/Sao_Paulo"):
        expected = engines["django"].from_string(TEMPLATE_LOOP).render({"hits": hits})
        built = rows.search_hits(hits)
    assert _folded(built) == _folded(expected)
    assert "&lt;b&gt;Senha&lt;/b&gt; &amp; acesso" in built
    assert "viver" not in built and 'data-testid="masked-subject"' in built  # masked, and no snippet
    assert "o&#x27;brien+x@example.com" in built
