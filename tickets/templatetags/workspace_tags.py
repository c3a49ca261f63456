"""Template helpers for the workspace lists."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from tickets.templatetags.field_tags import escaped
from tickets.workspace import rows

register = template.Library()


@register.simple_tag
def options(
    choices: Iterable[tuple[Any, Any]], selected: Collection[Any] | Any = (), leave_out: Any = None
) -> SafeString:
    """`<option>`s for (value, label) pairs, those whose value is in `selected` (or equals it) selected, any
    whose value is `leave_out` left out. A list's menus hold a few hundred people: one string built in Python
    rather than a template loop with a condition per option."""
    if isinstance(selected, str) or not isinstance(selected, Collection):
        selected = (selected,)
    chosen = {str(value) for value in selected}
    return mark_safe(
        "".join(
            f'<option value="{escaped(value)}"{" selected" if str(value) in chosen else ""}>{escaped(label)}</option>'
            for value, label in choices
            if leave_out is None or value != leave_out
        )
    )


@register.simple_tag
def search_hits(hits) -> SafeString:
    """The search page's results (see `tickets.workspace.rows.search_hits`)."""
    return rows.search_hits(hits)
