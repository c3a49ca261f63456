from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def metric(value: Any) -> str:
    """A number for a metric table: "—" when there is nothing to divide, two decimals at most."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return number_format(round(value, 2), decimal_pos=None if value == int(value) else 2)
    return str(value)


@register.filter
def index(sequence, position: int):
    try:
        return sequence[position]
    except (IndexError, TypeError, KeyError):
        return None
