"""The sidebar's view and queue links, written in Python (`view_links`, `queue_links`), give the markup the
template's loops gave: the same links, labels, badges and current link, with names escaped."""

import re

import pytest
from django.template import engines
from django.utils import translation

from tests.factories import QueueFactory
from tickets.workspace.selectors import VIEWS

pytestmark = pytest.mark.django_db

# The loops as the layout had them, the reference.
TEMPLATE_LOOPS = """{% for key, label in view_links %}
<li><a href="{% url 'workspace' key %}" {% if view == key and not queue %}aria-current="page"{% endif %}>{{ label }} <span class="count" id="count-{{ key }}" data-testid="count-{{ key }}"></span></a></li>
{% endfor %}|{% for q in sidebar_queues %}
<li><a href="{% url 'workspace_queue' q.slug %}" {% if queue and queue.pk == q.pk %}aria-current="page"{% endif %}>{{ q.name }} <span class="count" id="queue-count-{{ q.pk }}" data-testid="queue-count-{{ q.slug }}"></span></a></li>
{% endfor %}"""  # noqa: E501
TAGS = "{% load workspace_tags %}{% view_links view_links view queue %}|{% queue_links sidebar_queues queue %}"


def _markup(source: str, context: dict) -> str:
    html = engines["django"].from_string(source).render(context)
    return re.sub(r"\s*([|]|<li>)", r"\1", html.strip())  # the whitespace between items aside


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_the_links_read_as_the_template_loops_wrote_them(language):
    queues = [
        QueueFactory(slug="suporte", name="Suporte"),
        QueueFactory(slug="contas-e-senhas", name='Contas <b>& "senhas"</b>'),
    ]
    pages = [
        {"view": "mine"},  # a view's list
        {"view": "all", "queue": queues[1]},  # a queue's list: no view is current
        {},  # the search page: nothing is current
    ]
    with translation.override(language):
        for page in pages:
            context = {"view_links": list(VIEWS.items()), "sidebar_queues": queues, **page}
            written, expected = _markup(TAGS, context), _markup(TEMPLATE_LOOPS, context)
            assert written == expected
            assert written.count('aria-current="page"') == (1 if page else 0)
    assert "Contas &lt;b&gt;&amp; &quot;senhas&quot;&lt;/b&gt;" in written
