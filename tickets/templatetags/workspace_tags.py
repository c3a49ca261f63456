"""Template helpers for the workspace lists."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from tickets.templatetags.field_tags import escaped
from tickets.workspace import rows
from tickets.workspace.menus import Menu

register = template.Library()
_CURRENT = 'aria-current="page"'


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
    if isinstance(choices, Menu):  # written once, kept with its values
        return mark_safe(choices.html(chosen, leave_out))
    return mark_safe(
        "".join(
            f'<option value="{escaped(value)}"{" selected" if str(value) in chosen else ""}>{escaped(label)}</option>'
            for value, label in choices
            if leave_out is None or value != leave_out
        )
    )


@register.simple_tag
def view_links(views: Iterable[tuple[str, Any]], view: str, queue: Any) -> SafeString:
    """The sidebar's view links, one `<li>` each (`views`: key and label), the one this page shows marked
    current (none on a queue's page), each with its empty badge, filled once the page is shown
    (`workspace_counts`). Views are keys of ours: no escaping needed but for the label."""
    prefix = reverse("workspace", args=["all"])[: -len("all/")]
    return mark_safe(
        "".join(
            f'\n        <li><a href="{prefix}{key}/" {_CURRENT if view == key and not queue else ""}>'
            f'{escaped(label)} <span class="count" id="count-{key}" data-testid="count-{key}"></span></a></li>'
            for key, label in views
        )
    )


@register.simple_tag
def queue_links(queues: Iterable[Any], queue: Any) -> SafeString:
    """The sidebar's queue links, as `view_links` (`queues`: anything with `pk`, `slug` and `name`; `queue`,
    the one this page shows). On the list and search pages, these two loops of URL reversals in the template
    were about a tenth of the page's time."""
    prefix = reverse("workspace_queue", args=["x"])[: -len("x/")]
    current = queue.pk if queue else None
    return mark_safe(
        "".join(
            f'\n        <li><a href="{prefix}{escaped(q.slug)}/" {_CURRENT if q.pk == current else ""}>'
            f'{escaped(q.name)} <span class="count" id="queue-count-{q.pk}" '
            f'data-testid="queue-count-{escaped(q.slug)}"></span></a></li>'
            for q in queues
        )
    )


@register.simple_tag
def search_hits(hits) -> SafeString:
    """The search page's results (see `tickets.workspace.rows.search_hits`)."""
    return rows.search_hits(hits)
