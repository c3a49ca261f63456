"""SOP library, editing, acknowledgements, the ticket checklist and the macro picker. Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.pages import render_page
from helpdesk.redirects import next_url
from sop import selectors, services
from sop.forms import MacroForm, SOPForm, VersionForm
from sop.models import SOP, SOPVersion
from tickets import selectors as ticket_selectors
from tickets.language import reader_language
from tickets.models import Language


def _manager_only(request) -> None:
    if not selectors.can_manage_sops(request.user):
        raise PermissionDenied


def _sop(request, slug: str) -> SOP:
    return get_object_or_404(selectors.sops_visible_to(request.user), slug=slug)


# --- the library -----------------------------------------------------------------------------------------


@login_required
@require_GET
def library(request):
    query = request.GET.get("q", "")[:200]
    category = request.GET.get("category", "")
    if category not in SOP.Category.values:
        category = ""
    entries = selectors.library(request.user, language=reader_language(), query=query, category=category)
    return render_page(
        request,
        "sop/library.html",
        {
            "entries": entries,
            "query": query,
            "category": category,
            "categories": SOP.Category.choices,
            "can_manage": selectors.can_manage_sops(request.user),
        },
    )


@login_required
@require_GET
def sop_detail(request, slug: str):
    """The current version in the asked language, else the interface language, else any."""
    sop = _sop(request, slug)
    current = list(selectors.current_versions([sop]))
    wanted = request.GET.get("lang") if request.GET.get("lang") in Language.values else reader_language()
    version, _fell_back = selectors.preferred_version(current, wanted)
    if version is None:
        return redirect("sop:history", slug=sop.slug)
    return _render_version(request, sop, version, current)


@login_required
@require_GET
def version_detail(request, slug: str, pk: int):
    sop = _sop(request, slug)
    version = get_object_or_404(selectors.versions_visible_to(request.user).filter(sop=sop), pk=pk)
    return _render_version(request, sop, version, list(selectors.current_versions([sop])))


def _render_version(request, sop: SOP, version: SOPVersion, current: list[SOPVersion]):
    pending = next(
        (ack for ack in selectors.pending_acknowledgements(request.user) if ack.version_id == version.pk), None
    )
    return render_page(
        request,
        "sop/sop_detail.html",
        {
            "sop": sop,
            "version": version,
            "steps": version.steps.all(),
            "current": current,
            "pending_ack": pending,
            "can_manage": selectors.can_manage_sops(request.user),
        },
    )


@login_required
@require_GET
def history(request, slug: str):
    sop = _sop(request, slug)
    versions = list(selectors.history(sop, request.user))
    return render_page(
        request,
        "sop/history.html",
        {
            "sop": sop,
            "title": selectors.title_in(sop, versions, reader_language()),
            "versions": versions,
            "can_manage": selectors.can_manage_sops(request.user),
        },
    )


@login_required
@require_GET
def diff(request, slug: str):
    sop = _sop(request, slug)
    visible = selectors.versions_visible_to(request.user).filter(sop=sop)
    try:
        old = visible.get(pk=int(request.GET.get("from", "")))
        new = visible.get(pk=int(request.GET.get("to", "")))
    except (ValueError, SOPVersion.DoesNotExist) as exc:
        raise Http404 from exc
    return render_page(
        request,
        "sop/diff.html",
        {
            "sop": sop,
            "title": selectors.titles_in([sop], reader_language())[sop.pk],
            "old": old,
            "new": new,
            "lines": services.version_diff(old, new),
        },
    )


# --- writing SOPs (team leads, admins) -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def sop_edit(request, slug: str | None = None):
    _manager_only(request)
    sop = _sop(request, slug) if slug else None
    form = SOPForm(request.POST or None, instance=sop)
    if request.method == "POST" and form.is_valid():
        sop = form.save()
        messages.success(request, _("SOP saved."))
        return redirect("sop:history", slug=sop.slug)
    return render_page(request, "sop/sop_form.html", {"form": form, "sop": sop})


@login_required
@require_http_methods(["GET", "POST"])
def version_new(request, slug: str):
    """A new draft for one language, starting from that language's current text."""
    _manager_only(request)
    sop = _sop(request, slug)
    language = request.GET.get("lang") or request.POST.get("language") or reader_language()
    if language not in Language.values:
        raise Http404
    base = sop.versions.filter(language=language, is_current=True).first()
    initial = {}
    if base is not None:
        initial = {"title": base.title, "body": base.body, "steps": services.steps_to_text(base)}
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        version = services.create_version(
            sop,
            language=language,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            steps=form.cleaned_data["steps"],
            change_summary=form.cleaned_data["change_summary"],
            must_read=form.cleaned_data["must_read"],
            actor=request.user,
        )
        return _after_save(request, sop, version)
    return render_page(
        request,
        "sop/version_form.html",
        {"sop": sop, "form": form, "language": language, "language_name": Language(language).label, "base": base},
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request, slug: str, pk: int):
    _manager_only(request)
    sop = _sop(request, slug)
    version = get_object_or_404(sop.versions, pk=pk, status=SOPVersion.Status.DRAFT)
    form = VersionForm(
        request.POST or None,
        initial={
            "title": version.title,
            "body": version.body,
            "steps": services.steps_to_text(version),
            "change_summary": version.change_summary,
            "must_read": version.must_read,
        },
    )
    if request.method == "POST" and form.is_valid():
        version = services.update_draft(version, **form.cleaned_data)
        return _after_save(request, sop, version)
    return render_page(
        request,
        "sop/version_form.html",
        {
            "sop": sop,
            "form": form,
            "version": version,
            "language": version.language,
            "language_name": version.get_language_display(),
        },
    )


def _after_save(request, sop: SOP, version: SOPVersion):
    if request.POST.get("action") == "publish":
        services.publish_version(version, actor=request.user)
        messages.success(request, _("Version %(number)s published.") % {"number": version.number})
    else:
        messages.success(request, _("Draft saved."))
    return redirect("sop:version", slug=sop.slug, pk=version.pk)


@login_required
@require_POST
def version_publish(request, slug: str, pk: int):
    _manager_only(request)
    sop = _sop(request, slug)
    version = get_object_or_404(sop.versions, pk=pk)
    try:
        services.publish_version(version, actor=request.user)
    except services.SOPError:
        messages.error(request, _("This version is already published."))
    else:
        messages.success(request, _("Version %(number)s published.") % {"number": version.number})
    return redirect("sop:version", slug=sop.slug, pk=version.pk)


# --- acknowledgements ------------------------------------------------------------------------------------


@login_required
@require_POST
def acknowledge(request, pk: int):
    version = get_object_or_404(selectors.versions_visible_to(request.user).select_related("sop"), pk=pk)
    services.acknowledge(version, actor=request.user)
    messages.success(request, _("Thank you: you have confirmed reading “%(title)s”.") % {"title": version.title})
    return HttpResponseRedirect(next_url(request, reverse("sop:version", args=[version.sop.slug, version.pk])))


@login_required
@require_GET
def coverage(request, slug: str):
    _manager_only(request)
    sop = _sop(request, slug)
    title = selectors.titles_in([sop], reader_language())[sop.pk]
    return render_page(
        request, "sop/coverage.html", {"sop": sop, "title": title, "coverage": selectors.coverage(sop, request.user)}
    )


@login_required
@require_POST
def remind(request, slug: str, pk: int):
    _manager_only(request)
    sop = _sop(request, slug)
    version = get_object_or_404(sop.versions, pk=pk, is_current=True)
    visible = {c.version.pk: c for c in selectors.coverage(sop, request.user)}.get(version.pk)
    users = [ack.user for ack in visible.pending] if visible else []
    count = services.remind_pending(version, users=users)
    messages.success(request, _("Reminder sent to %(count)s people.") % {"count": count})
    return redirect("sop:coverage", slug=sop.slug)


# --- on the ticket page ----------------------------------------------------------------------------------


@login_required
@require_POST
def ticket_step(request, number: int, step_id: int):
    """Tick or untick a checklist step on a ticket (htmx); answers with the refreshed panel."""
    ticket = ticket_selectors.ticket_or_404(request.user, number)
    step = selectors.step_for_ticket(ticket, step_id)
    if step is None:
        raise Http404
    services.set_step_checked(ticket, step, checked=request.POST.get("checked") == "1", actor=request.user)
    if not request.htmx:
        return redirect("ticket", number=ticket.number)
    panel = selectors.ticket_sop_panel(ticket, request.user, visible=True)
    return render(request, "sop/_ticket_panel.html", {"sop_panel": panel})


@login_required
@require_GET
def ticket_panel(request, number: int):
    ticket = ticket_selectors.ticket_or_404(request.user, number)
    panel = selectors.ticket_sop_panel(ticket, request.user, visible=True)
    return render(request, "sop/_ticket_panel.html", {"sop_panel": panel})


@login_required
@require_GET
def macro_search(request):
    """Macros matching a name for a ticket, rendered in its language (htmx, for the composer's picker)."""
    try:
        number = int(request.GET.get("ticket", ""))
    except ValueError as exc:
        raise Http404 from exc
    ticket = ticket_selectors.ticket_or_404(request.user, number)
    query = request.GET.get("macro_q", "")[:100]
    choices = selectors.search_macros(request.user, ticket, query)
    return render(request, "sop/_macro_results.html", {"choices": choices, "ticket": ticket, "query": query})


# --- managing macros -------------------------------------------------------------------------------------


@login_required
@require_GET
def macro_list(request):
    macros = list(selectors.macros_for(request.user).select_related("owner", "sop", "set_queue").order_by("name"))
    editable = set(selectors.macros_editable_by(request.user).values_list("pk", flat=True))
    # Each macro's procedure by the name its reader's language gives it.
    procedures = selectors.titles_in(list({m.sop_id: m.sop for m in macros if m.sop}.values()), reader_language())
    rows = [(macro, procedures.get(macro.sop_id)) for macro in macros]
    return render_page(request, "sop/macros.html", {"rows": rows, "editable": editable})


@login_required
@require_http_methods(["GET", "POST"])
def macro_edit(request, pk: int | None = None):
    macro = get_object_or_404(selectors.macros_editable_by(request.user), pk=pk) if pk else None
    can_share = selectors.can_manage_sops(request.user)
    form = MacroForm(
        request.POST or None,
        instance=macro,
        can_share=can_share,
        queues=ticket_selectors.queues_visible_to(request.user).order_by("name"),
        language=reader_language(),
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.save_macro(macro, actor=request.user, shared=form.cleaned_data.get("shared", False), **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Macro saved."))
            return redirect("sop:macros")
    return render_page(request, "sop/macro_form.html", {"form": form, "macro": macro})
