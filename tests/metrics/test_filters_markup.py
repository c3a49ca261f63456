"""The dashboard's filter form is written out by hand (templates/metrics/_filters.html, `FilterForm.menus`)
instead of through Django's widget templates: it must say what the widgets would, for any input."""

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from metrics.forms import FilterForm
from tests.factories import QueueFactory, TeamFactory

pytestmark = pytest.mark.django_db


class _Controls(HTMLParser):
    """Every input and select with its attributes, and every option with its value, text and selection."""

    def __init__(self):
        super().__init__()
        self.controls: list[tuple] = []
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "select"):
            self.controls.append((tag, tuple(sorted((k, v) for k, v in attributes.items() if k != "aria-describedby"))))
        elif tag == "option":
            self._option = [attributes.get("value"), "", "selected" in attributes]

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self.controls.append(("option", self._option[0], self._option[1].strip(), self._option[2]))
            self._option = None


def _parsed(html: str) -> list[tuple]:
    parser = _Controls()
    parser.feed(re.sub(r"\s+", " ", html))
    return parser.controls


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"first": "2025-03-01", "last": "2025-03-30"},
        {"first": "2025-03-01", "last": "2025-03-30", "queue": "{queue}", "language": "en", "team": "{team}"},
        {"first": "ontem", "queue": "999999", "language": "xx", "team": "abc"},
        {"queue": "{other_queue}", "language": "pt"},
    ],
    ids=["unbound", "dates", "everything", "invalid", "a-queue-not-visible"],
)
@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_the_filters_say_what_the_widgets_would(data, language, lead, queue, team):
    other_queue = QueueFactory(slug="outra", name="Outra")
    TeamFactory(name="Outro time")
    QueueFactory(slug="zeta", name="Zeta fila", team=team)
    values = {"queue": queue.pk, "team": team.pk, "other_queue": other_queue.pk}
    if data is not None:
        data = {key: value.format(**values) for key, value in data.items()}
    with translation.override(language):
        form = FilterForm(data, user=lead, today=date(2025, 3, 30))
        form.is_valid()
        by_widgets = Template("{% for field in form %}{{ field }}{% endfor %}").render(Context({"form": form}))
        by_hand = render_to_string("metrics/_filters.html", {"form": form})
    expected = _parsed(by_widgets)
    assert _parsed(by_hand) == expected
    assert len([c for c in expected if c[0] == "option"]) >= 4
