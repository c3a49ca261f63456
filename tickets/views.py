"""Workspace pages. Thin: parse input, call a selector or service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from helpdesk.pagecache import cached_response
from tickets import selectors
from tickets.escalations import selectors as escalation_selectors
from tickets.models import Message

# Served inline only when they cannot carry script; everything else downloads.
INLINE_SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@login_required
@require_GET
def home(request):
    queues = selectors.queues_with_open_counts(request.user)
    return render(
        request,
        "tickets/home.html",
        {"queues": queues, "escalation_counts": escalation_selectors.escalation_counts(request.user)},
    )


@login_required
@require_GET
def ticket_detail(request, number: int, reply_conflict=None, reply_data=None):
    ticket = selectors.ticket_or_404(request.user, number)
    from sop.selectors import ticket_sop_panel
    from tickets.wellbeing import selectors as wellbeing
    from tickets.wellbeing.services import record_ticket_view
    from tickets.workspace.views import ticket_context

    # Every render counts, whichever page led here (list, search, notification, link).
    record_ticket_view(request.user, ticket)

    def render_page():
        return render(
            request,
            "tickets/ticket.html",
            {
                "ticket": ticket,
                "thread": selectors.thread(ticket),
                "can_see_source": selectors.is_admin(request.user),
                **ticket_context(request, ticket, reply_conflict=reply_conflict, reply_data=reply_data),
                "sop_panel": wellbeing.crisis_sop_first(ticket_sop_panel(ticket, request.user, visible=True), ticket),
                "wellbeing_warning": wellbeing.ticket_warning(ticket, request.user),
                "wellbeing_checkin": (
                    wellbeing.check_in(request.user, ticket, wellbeing.exposure(request.user))
                    if ticket.sensitivity
                    else None
                ),
            },
        )

    # The access check, the audit and the exposure count above run on every view; the page itself is kept a
    # few seconds, and never past the ticket's own last change (a new message, a field edited by anyone).
    return cached_response(request, render_page, version=ticket.updated_at.isoformat())


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
    response = HttpResponse(bytes(message.inbound_email.raw), content_type="text/plain; charset=utf-8")
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
