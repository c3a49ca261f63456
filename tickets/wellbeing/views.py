"""Wellbeing pages and actions. Thin: parse input, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.errors import error_text
from helpdesk.pages import render_page
from helpdesk.redirects import back_url
from tickets.wellbeing import selectors, services
from tickets.wellbeing.detection import CATEGORIES


@login_required
@require_GET
def my_wellbeing(request):
    return render_page(
        request,
        "tickets/wellbeing/mine.html",
        {
            "exposure": selectors.exposure(request.user),
            "text_only": selectors.text_only(request.session),
            "categories": [(code, str(label)) for code, label in CATEGORIES.items()],
        },
    )


@login_required
@require_POST
def intake(request):
    paused = request.POST.get("paused") == "1"
    services.set_intake_paused(paused, actor=request.user)
    if paused:
        messages.success(request, _("Intake paused: Next ticket gives you nothing until you resume."))
    else:
        messages.success(request, _("Intake resumed."))
    return redirect(back_url(request, reverse("wellbeing")))


@login_required
@require_POST
def skip(request):
    """Next ticket gives the associate no more tickets of a category for the rest of their shift."""
    try:
        services.skip_category(request.POST.get("category", ""), actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, _("Understood: Next ticket will not give you that category for the rest of your shift.")
        )
    return redirect(back_url(request, reverse("wellbeing")))


@login_required
@require_POST
def text_only(request):
    request.session[selectors.TEXT_ONLY_SESSION_KEY] = request.POST.get("text_only") == "1"
    return redirect(back_url(request, reverse("wellbeing")))


@login_required
@require_GET
def team(request):
    if not selectors.can_see_team_exposure(request.user):
        raise Http404
    context = {
        "team": selectors.team_exposure(request.user),
        "precision": selectors.precision_by_category(request.user),
    }
    if request.htmx:
        return render(request, "tickets/wellbeing/_team.html", context)
    return render_page(request, "tickets/wellbeing/team.html", context)


@login_required
@require_POST
def reveal(request, number: int):
    try:
        attachment_id = int(request.POST["attachment"]) if request.POST.get("attachment") else None
    except ValueError:
        attachment_id = None
    try:
        services.log_reveal(number, attachment_id=attachment_id, source=request.POST.get("src", ""), actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    return HttpResponse(status=204)


@login_required
@require_POST
def clear_flag(request, number: int):
    try:
        services.clear_flag(number, request.POST.get("category", ""), request.POST.get("note", ""), actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Flag cleared. Thank you: this helps tune the scanner."))
    return redirect("ticket", number)
