"""The assist panel on the ticket page, loaded after the page (htmx), and its generative actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets import selectors
from tickets.assist import selectors as assist


@login_required
@require_GET
def panel(request, number: int):
    ticket = selectors.ticket_or_404(request.user, number)
    return render(
        request,
        "tickets/assist/_panel.html",
        {"ticket": ticket, "suggestions": assist.suggestions_for(request.user, ticket)},
    )
