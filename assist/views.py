"""The assist panel on the ticket page, loaded after the page (htmx), and its generative actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from assist import provider, services
from assist import selectors as assist
from tickets import selectors


@login_required
@require_GET
def panel(request, number: int):
    ticket = selectors.ticket_or_404(request.user, number)
    return render(
        request,
        "tickets/assist/_panel.html",
        {
            "ticket": ticket,
            "suggestions": assist.suggestions_for(request.user, ticket),
            # Generative help shows only once a provider is configured; then it says why it is off, if it is.
            "generative": provider.is_configured(),
            "unavailable": services.availability(ticket) if provider.is_configured() else "",
            "scanner_unsure": provider.is_configured() and services.scanner_is_unsure(ticket),
        },
    )


ACTIONS = {
    "summary": lambda request, ticket: services.ask_summary(request.user, ticket, request=request),
    "draft": lambda request, ticket: services.ask_draft(request.user, ticket, request=request),
    "translation": lambda request, ticket: services.ask_translation(
        request.user, ticket, _message_id(request), request=request
    ),
    "second-opinion": lambda request, ticket: services.ask_second_opinion(request.user, ticket, request=request),
}


def _message_id(request) -> int | None:
    value = request.POST.get("message", "")
    return int(value) if value.isdigit() else None


@login_required
@require_POST
def ask(request, number: int, action: str):
    if action not in ACTIONS:
        raise Http404
    try:
        ticket = services.check_ticket(request.user, number)
    except services.AssistUnavailable as refusal:
        answer = services.AssistAnswer(action, error=refusal.message)
    else:
        answer = ACTIONS[action](request, ticket)
    return render(request, "tickets/assist/_answer.html", {"answer": answer})
