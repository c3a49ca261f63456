"""Template helpers for the SLA clock, escalation and SLA-health partials."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil

from tickets import escalations, selectors, sla
from tickets.models import Escalation, Notification, Queue, Role

register = template.Library()


@register.simple_tag
def sla_clocks(ticket):
    return sla.clock_views(ticket)


@register.simple_tag
def most_urgent_clock(ticket):
    """The running clock nearest its due time (breached first), for one cell of a ticket list; None when
    no clock runs. Reads only the ticket's own fields: no query per row."""
    running = [c for c in sla.clock_views(ticket) if c.state in {"breached", "warning", "ok", "paused"}]
    order = {"breached": 0, "warning": 1, "ok": 2, "paused": 3}
    return min(running, key=lambda c: (order[c.state], c.due_at or ticket.created_at), default=None)


@register.filter
def duration(seconds):
    """A number of seconds as words in the current language ("3 hours, 5 minutes")."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=int(seconds or 0)), now)


@register.simple_tag(takes_context=True)
def escalation_panel(context, ticket):
    user = context["request"].user
    history = list(
        ticket.escalations.select_related("target_queue", "requested_by", "handed_back_by", "rule").order_by(
            "-created_at", "-id"
        )
    )
    open_targets = {e.target_queue_id for e in history if e.is_open}
    return {
        "history": [(e, escalations.can_hand_back(user, e)) for e in history],
        "targets": [q for q in Queue.objects.filter(kind=Queue.Kind.CROSS_FUNCTIONAL) if q.pk not in open_targets],
    }


@register.simple_tag(takes_context=True)
def sla_nav(context):
    user = context["request"].user
    if not user.is_authenticated:
        return {}
    return {
        "health": selectors.is_admin(user) or selectors.has_role(user, Role.TEAM_LEAD),
        "escalations": Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue__members=user).count(),
        "unread": Notification.objects.filter(user=user, read_at=None).count(),
    }
