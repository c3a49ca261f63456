"""Template helpers for the ticket page's field menus."""

from html import escape as _escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from tickets.workspace.menus import Menu

register = template.Library()


def escaped(value) -> str:
    """`django.utils.html.escape(value)` without the lazy-string check that wraps it, which cost more than the
    escaping itself in menus of a few hundred options: the same characters, replaced the same way."""
    return _escape(str(value))


@register.filter
def options(choices, selected) -> SafeString:
    """The <option>s of (value, label) pairs, the one whose value is `selected` marked. A loop here rather
    than in the template: the assignee menu of a queue of a few hundred people was the slowest part of the
    ticket page's template."""
    if isinstance(choices, Menu):  # written once, kept with its values
        return mark_safe(choices.html({str(selected)} if selected is not None else ()))
    return mark_safe(  # every value and label is escaped
        "".join(
            f'<option value="{escaped(value)}"{" selected" if value == selected else ""}>{escaped(label)}</option>'
            for value, label in choices
        )
    )
