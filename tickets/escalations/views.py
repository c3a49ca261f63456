"""Escalation and notification pages. Thin: parse input, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.errors import error_text
from helpdesk.pages import render_page
from tickets import selectors
from tickets.escalations import selectors as escalation_selectors
from tickets.escalations import services as escalations
from tickets.models import Notification, Queue


@login_required
@require_POST
def escalate(request, number: int):
    ticket = selectors.ticket_or_404(request.user, number)
    target = Queue.objects.filter(kind=Queue.Kind.CROSS_FUNCTIONAL, slug=request.POST.get("target_queue", "")).first()
    if target is None:
        messages.error(request, _("Choose a cross-functional queue."))
        return redirect("ticket", number)
    try:
        escalations.escalate(ticket, target_queue=target, reason=request.POST.get("reason", ""), actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Escalated to %(queue)s.") % {"queue": target.name})
    return redirect("ticket", number)


@login_required
@require_POST
def hand_back(request, pk: int):
    visible = escalation_selectors.escalations_visible_to(request.user)
    escalation = get_object_or_404(visible.select_related("ticket"), pk=pk)
    number = escalation.ticket.number
    try:
        escalations.hand_back(escalation.pk, actor=request.user, note=request.POST.get("note", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
        return redirect("ticket", number)
    messages.success(request, _("Ticket #%(number)s handed back.") % {"number": number})
    # The specialists no longer see the ticket once it is handed back, unless it is in one of their queues.
    if selectors.ticket_for(request.user, number) is not None:
        return redirect("ticket", number)
    return redirect("escalation_list")


@login_required
@require_GET
def escalation_list(request):
    """Open escalations to the specialist's cross-functional queues, most urgent target first; `?show=`
    narrows to the ones nobody took or the ones the user took."""
    show = request.GET.get("show", "")
    rows = escalation_selectors.open_escalations_for_specialist(request.user)
    if show == "unclaimed":
        rows = rows.filter(claimed_by=None)
    elif show == "mine":
        rows = rows.filter(claimed_by=request.user)
    else:
        show = ""
    return render_page(
        request,
        "tickets/escalations/list.html",
        {
            "escalations": rows[:200],
            "now": timezone.now(),
            "show": show,
            "counts": escalation_selectors.escalation_counts(request.user),
        },
    )


@login_required
@require_POST
def escalation_claim(request, pk: int):
    try:
        escalation = escalations.claim(pk, actor=request.user)
    except PermissionDenied as exc:
        raise Http404 from exc
    messages.success(
        request, _("You took the escalation of ticket #%(number)s.") % {"number": escalation.ticket.number}
    )
    return redirect("ticket", number=escalation.ticket.number)


@login_required
def notification_list(request):
    """The user's notices, newest first; showing them marks them read."""
    notices = list(selectors.notifications_for(request.user).select_related("ticket")[:100])
    unread = [n.pk for n in notices if n.read_at is None]
    if unread:
        Notification.objects.filter(pk__in=unread).update(read_at=timezone.now())
    return render_page(request, "tickets/escalations/notifications.html", {"notices": notices, "unread": set(unread)})
