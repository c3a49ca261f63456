"""Template helpers for the SLA clock and SLA-health partials."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil

from tickets import sla
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
