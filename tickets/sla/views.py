"""The SLA health page, for team leads and admins. Thin: call the health reads, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.pages import render_page
from tickets import selectors
from tickets.models import Role
from tickets.sla import health


@login_required
@require_GET
def sla_health(request):
    if not (selectors.is_admin(request.user) or selectors.has_role(request.user, Role.TEAM_LEAD)):
        raise Http404
    now = timezone.now()
    return render_page(
        request,
        "tickets/sla/health.html",
        {
            "queues": health.per_queue(request.user, now),
            "attention": health.tickets_needing_attention(request.user, now),
            "days": health.daily_compliance(request.user, 14, now),
        },
    )
