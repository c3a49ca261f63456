from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

from metrics import selectors
from tickets import selectors as ticket_selectors
from tickets.models import Role

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


@register.simple_tag(takes_context=True)
def metrics_nav(context) -> dict[str, Any]:
    user = context["request"].user
    if not user.is_authenticated:
        return {}
    lead = selectors.is_lead_or_admin(user)
    return {
        "dashboard": lead,
        "qa": lead,
        "pending": selectors.assignments_for(user).count() if lead else 0,
        "my_scores": not lead and ticket_selectors.has_role(user, Role.ASSOCIATE),
    }
