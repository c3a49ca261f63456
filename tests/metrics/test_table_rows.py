"""The metrics tables' rows built in Python read exactly as the template loop they replace rendered them."""

from typing import Any

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_lazy

from metrics.tables import Table

# The loop `_table.html` had before its rows were built in Python (each row's link read from `table.links` by
# position), the reference the tag must match.
TEMPLATE_LOOP = Template(
    "{% load metrics_tags %}{% for row in table.rows %}<tr>{% for cell in row %}{% if forloop.first %}<td>"
    '{% if row.link %}<a href="{{ row.link }}">{{ cell }}</a>{% else %}{{ cell }}{% endif %}</td>'
    '{% else %}<td class="num">{{ cell|metric }}</td>{% endif %}{% endfor %}</tr>{% endfor %}'
)
TAG = Template("{% load metrics_tags %}{% table_rows table %}")


class Row(list):
    """A row that carries its link, so the reference loop reads it as `_table.html` read `table.links`."""

    link: str | None = None


def reference(table: Table) -> str:
    rows: list[list[Any]] = []
    for position, cells in enumerate(table.rows):
        row = Row(cells)
        row.link = table.links[position] if table.links and position < len(table.links) else None
        rows.append(row)
    return TEMPLATE_LOOP.render(Context({"table": Table(table.name, table.title, table.header, rows, table.links)}))


TABLE = Table(
    "associates",
    "Associates",
    ["Associate", "Solved", "Handle time (h)", "CSAT"],
    [
        ["<b>Ana</b> & Souza", 2, 1.5, None],
        ["Bia Lima", 0, 1234.567, 4.0],
        [gettext_lazy("Solved"), 10, 0.125, 3.999],
        # Thousands, negatives, a whole float, a string cell: the separators are looked up once a table.
        ["Caio", 1234567, 98765.4321, -12.5],
        ["Duda", 0.0, -0.004, "n/a"],
    ],
    ["/metrics/associates/7/", None, '/x/?a=1&b="2"', None, None],
)


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_table_rows_match_the_template_loop_cell_for_cell(language):
    with translation.override(language):
        built = TAG.render(Context({"table": TABLE}))
        expected = reference(TABLE)
    assert built.replace("\n    ", "") == expected
    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; Souza" in built
    assert '<a href="/metrics/associates/7/">' in built
    assert "<td>Bia Lima</td>" in built  # no link for that row
    assert ("1,5" if language == "pt-br" else "1.5") in built
    assert ("98765,43" if language == "pt-br" else "98765.43") in built
    assert "—" in built  # nothing to divide


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_table_rows_match_the_template_loop_with_thousand_separators(language, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override(language):
        built = TAG.render(Context({"table": TABLE}))
        expected = reference(TABLE)
    assert built.replace("\n    ", "") == expected
    assert ("98.765,43" if language == "pt-br" else "98,765.43") in built


def test_a_table_without_links_or_rows():
    assert TAG.render(Context({"table": Table("qa", "QA", ["Score", "Reviews"], [["< 60", 3]])})) == (
        '<tr><td>&lt; 60</td><td class="num">3</td></tr>'
    )
    assert TAG.render(Context({"table": Table("qa", "QA", ["Score"], [])})) == ""


def test_numbers_are_escaped_where_a_separator_holds_markup(monkeypatch):
    from metrics.templatetags import metrics_tags

    real = metrics_tags.get_format
    monkeypatch.setattr(
        metrics_tags, "get_format", lambda name, lang=None: "<&>" if name == "DECIMAL_SEPARATOR" else real(name, lang)
    )
    with translation.override("en"):
        built = TAG.render(Context({"table": Table("qa", "QA", ["Score", "Mean"], [["Ana", 1.5], ["Bia", None]])}))
    assert '<td class="num">1&lt;&amp;&gt;50</td>' in built
    assert '<td class="num">—</td>' in built
