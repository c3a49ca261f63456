from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def metric(value: Any) -> str:
    """A number for a metric table: "—" when there is nothing to divide, two decimals at most."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return number_format(round(value, 2), decimal_pos=None if value == int(value) else 2)
    return str(value)


@register.simple_tag
def table_rows(table) -> SafeString:
    """The body rows of a metrics table, as `_table.html` showed them: the first cell as written (a link where
    the table has one for the row), the others through `metric`. A lead's dashboard has a hundred associates
    of fourteen cells each: one string built in Python rather than some two thousand template nodes."""
    links = table.links or ()
    rendered = []
    for position, row in enumerate(table.rows):
        first, *cells = row
        link = links[position] if position < len(links) else None
        label = conditional_escape(first)
        head = f'<a href="{conditional_escape(link)}">{label}</a>' if link else label
        numbers = "".join(f'<td class="num">{_number(cell)}</td>' for cell in cells)
        rendered.append(f"<tr><td>{head}</td>{numbers}</tr>")
    return mark_safe("\n    ".join(rendered))


def _number(cell: Any) -> str:
    """`metric`, escaped; a whole number (most cells) needs neither formatting nor escaping."""
    if type(cell) is int:
        return str(cell)
    return conditional_escape(metric(cell))
