"""Template helpers for the SLA clock and SLA-health partials."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil

from helpdesk.pagecache import per_user
from tickets import selectors, sla
from tickets.models import Escalation, Role
from tickets.workspace import rows

register = template.Library()


@register.simple_tag
def sla_clocks(ticket):
    return sla.clock_views(ticket)


@register.simple_tag
def ticket_rows(tickets):
    """The rows of a ticket list (see `tickets.workspace.rows`)."""
    return rows.ticket_rows(tickets)


@register.filter
def duration(seconds):
    """A number of seconds as words in the current language ("3 hours, 5 minutes")."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=int(seconds or 0)), now)


@register.simple_tag(takes_context=True)
def sla_nav(context):
    user = context["request"].user
    if not user.is_authenticated:
        return {}
    # On every page: kept a few seconds per user, like a cached page (helpdesk/pagecache.py).
    return per_user(
        user,
        "sla_nav",
        lambda: {
            "health": selectors.is_admin(user) or selectors.has_role(user, Role.TEAM_LEAD),
            "escalations": Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue__members=user).count(),
            "unread": selectors.notifications_for(user).filter(read_at=None).count(),
        },
    )
