"""Template helpers for the ticket page's field menus."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def options(choices, selected) -> SafeString:
    """The <option>s of (value, label) pairs, the one whose value is `selected` marked. A loop here rather
    than in the template: the assignee menu of a queue of a few hundred people was the slowest part of the
    ticket page's template."""
    return mark_safe(  # every value and label is escaped
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(label)}</option>'
            for value, label in choices
        )
    )
