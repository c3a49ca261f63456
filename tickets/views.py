"""Workspace pages. Thin: parse input, call a selector or service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import check_for_language
from django.views.decorators.http import require_GET, require_POST

from helpdesk.pagecache import cached_response
from helpdesk.redirects import safe_url
from tickets import escalations, extensions, selectors
from tickets.middleware import SESSION_TIMEZONE_KEY
from tickets.models import Message, Profile

# Served inline only when they cannot carry script; everything else downloads.
INLINE_SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        profile, _ = Profile.objects.get_or_create(user=form.get_user())
        # The second factor is asked for by the `user_logged_in` receiver (tickets.account.services), on
        # this login as on every other.
        self.request.session[SESSION_TIMEZONE_KEY] = profile.timezone
        if profile.ui_language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, profile.ui_language, max_age=settings.LANGUAGE_COOKIE_AGE
            )
        return response


@require_POST
def set_language(request):
    """Switch the interface language; remembered in a cookie and, when signed in, on the profile."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_url(request, request.POST.get("next"), "/"))
    if language and check_for_language(language) and language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE)
        if request.user.is_authenticated:
            Profile.objects.update_or_create(user=request.user, defaults={"ui_language": language})
    return response


@login_required
@require_GET
def home(request):
    queues = selectors.queues_with_open_counts(request.user)
    return render(
        request,
        "tickets/home.html",
        {"queues": queues, "escalation_counts": escalations.escalation_counts(request.user)},
    )


@login_required
@require_GET
def queue_tickets(request, slug: str):
    """The old queue page: one queue page now, the workspace's (filters, paging, bulk actions). A queue the
    user cannot see still answers 404 here, not a redirect that names it."""
    queue = get_object_or_404(selectors.queues_visible_to(request.user), slug=slug)
    return redirect("workspace_queue", slug=queue.slug)


@login_required
@require_GET
def ticket_detail(request, number: int, reply_conflict=None, reply_data=None):
    ticket = selectors.ticket_or_404(request.user, number)
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
                # Panels of the apps built on tickets (sop: the SOP panel), see `tickets.extensions`.
                **extensions.ticket_panels(ticket, request.user),
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
