from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import template
from django.utils import numberformat
from django.utils.formats import get_format, number_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


@register.filter
def metric(value: Any) -> str:
    """A number for a metric table: "—" when there is nothing to divide, two decimals at most."""
    return _metric(value, number_format)


def _metric(value: Any, number: Callable[..., str]) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number(round(value, 2), decimal_pos=None if value == int(value) else 2)
    return str(value)


def _number_format() -> partial[str]:
    """`number_format` with the reader's separators and grouping looked up once, not three times a cell: the
    same formatting function with the same arguments (a lead's dashboard has some 1,700 numbers)."""
    language = get_language()
    return partial(
        numberformat.format,
        decimal_sep=get_format("DECIMAL_SEPARATOR", language),
        grouping=get_format("NUMBER_GROUPING", language),
        thousand_sep=get_format("THOUSAND_SEPARATOR", language),
        use_l10n=True,
    )


@register.simple_tag
def table_rows(table) -> SafeString:
    """The body rows of a metrics table, as `_table.html` showed them: the first cell as written (a link where
    the table has one for the row), the others through `metric`. A lead's dashboard has a hundred associates
    of fourteen cells each: one string built in Python rather than some two thousand template nodes."""
    links = table.links or ()
    number = _number_format()
    # A formatted number is digits, a sign and the language's separators: when those hold no markup
    # (every language Django ships), it needs no escaping either.
    separators = number.keywords["decimal_sep"] + number.keywords["thousand_sep"]
    plain = not any(c in "<>&\"'" for c in separators)
    rendered = []
    for position, row in enumerate(table.rows):
        first, *cells = row
        link = links[position] if position < len(links) else None
        label = conditional_escape(first)
        head = f'<a href="{conditional_escape(link)}">{label}</a>' if link else label
        numbers = "".join(f'<td class="num">{_number(cell, number, plain)}</td>' for cell in cells)
        rendered.append(f"<tr><td>{head}</td>{numbers}</tr>")
    return mark_safe("\n    ".join(rendered))


def _number(cell: Any, number: partial[str], plain: bool) -> str:
    """`metric`, escaped; a whole number (most cells) needs neither formatting nor escaping, nor does a
    float formatted with `plain` separators, nor the dash of an empty ratio."""
    if type(cell) is int:
        return str(cell)
    if cell is None:
        return "—"
    if plain and type(cell) is float:
        return _metric(cell, number)
    return conditional_escape(_metric(cell, number))
