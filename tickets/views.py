"""Workspace pages. Thin: parse input, call a selector or service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from helpdesk.pages import render_page
from tickets import selectors
from tickets.escalations import selectors as escalation_selectors
from tickets.models import Message

# Served inline only when they cannot carry script; everything else downloads.
INLINE_SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@login_required
@require_GET
def home(request):
    queues = selectors.queues_with_open_counts(request.user)
    return render_page(
        request,
        "tickets/home.html",
        {"queues": queues, "escalation_counts": escalation_selectors.escalation_counts(request.user)},
    )


@login_required
@require_GET
def message_source(request, pk: int):
    """The raw mail as it arrived, for admins only, as plain text."""
    if not selectors.is_admin(request.user):
        raise Http404
    ticket_ids = selectors.tickets_visible_to(request.user).values("pk")

    message = get_object_or_404(
        Message.objects.select_related("inbound_email"),
        pk=pk,
        ticket__in=ticket_ids,
        inbound_email__isnull=False,
    )
    from tickets import audit
    from tickets.models import AuditLog

    audit.record(request.user, AuditLog.Action.SOURCE_VIEWED, target=f"message:{message.pk}", request=request)
    inbound = message.inbound_email
    assert inbound is not None  # the lookup above requires it
    response = HttpResponse(bytes(inbound.raw), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="message-{message.pk}.eml"'
    return response


@login_required
@require_GET
def attachment(request, pk: int):
    found = selectors.attachment_for(request.user, pk)
    if found is None or not found.file:
        raise Http404
    from tickets.wellbeing.services import log_child_safety_access

    log_child_safety_access(request.user, found.message.ticket, attachment=found)
    inline = found.content_type in INLINE_SAFE_TYPES
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=not inline,
        # Control characters would break the header; the sender chose this name.
        filename="".join(ch for ch in found.filename if ch.isprintable()) or "attachment",
        content_type=found.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
