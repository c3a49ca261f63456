"""The associate workspace pages. Thin: parse input, call one selector or service, render."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.errors import error_text
from helpdesk.pagecache import cached_page, cached_response, leaves_pages_alone
from helpdesk.pages import render_page
from helpdesk.redirects import back_url
from tickets import extensions, selectors
from tickets.models import SavedView, Ticket
from tickets.wellbeing.services import record_ticket_view
from tickets.workspace import presence, routing, rows, search, services, thread
from tickets.workspace import selectors as workspace
from tickets.workspace.forms import BulkForm, FieldsForm, MergeForm, ReplyForm, SavedViewForm


def sidebar_context(request, queues: list | None = None) -> dict:
    """The sidebar's links: the views, the user's queues (names only; `queues` when the caller has them) and
    saved views. Their counts come after the page, from `sidebar_counts` (htmx), so that no page waits for
    them."""
    return {
        "sidebar_queues": workspace.movable_queues(request.user) if queues is None else queues,
        "saved_views": workspace.saved_views(request.user),
        "view_links": list(workspace.VIEWS.items()),
    }


@login_required
@require_GET
@cached_page
def sidebar_counts(request):
    """The sidebar's badges, fetched by the sidebar once the page is shown: each badge replaces its empty
    placeholder by id (htmx out-of-band swaps), so the page's own markup, and which link is current, stay."""
    counts, queues = workspace.sidebar_counts(request.user)
    return render(
        request,
        "tickets/workspace/_sidebar_counts.html",
        {
            "counts": [(key, counts.get(key)) for key in workspace.VIEWS],
            "queues": queues,
            "count_cap": workspace.COUNT_CAP,
        },
    )


@login_required
@require_GET
@cached_page
def ticket_list(request, view: str = "mine", slug: str | None = None):
    if view not in workspace.VIEWS:
        raise Http404
    # The version of every listed ticket, read before the tickets are: a bulk action from this page refuses
    # what someone else changed since.
    seen_event = services.latest_event_id()
    queue = None
    tickets = workspace.view_queryset(request.user, view)
    queues = None
    if slug is not None:
        # The queues the user sees, by name (kept until a queue changes): the sidebar's too.
        queues = workspace.movable_queues(request.user)
        queue = next((q for q in queues if q.slug == slug), None)
        if queue is None:
            raise Http404
        tickets = tickets.filter(queue=queue)
    filters = workspace.Filters.from_query(request.GET)
    sort, descending = workspace.parse_sort(request.GET.get("sort", ""), view)
    page = workspace.paginate(filters.apply(tickets), sort, descending, request.GET.get("after"))
    params = request.GET.copy()
    params.pop("after", None)
    current = params.get("sort", "")
    sort_links = {}
    for key in workspace.SORTS:
        flipped = params.copy()
        flipped["sort"] = f"-{key}" if sort == key and not current.startswith("-") else key
        sort_links[key] = flipped.urlencode()
    context = {
        "view": view,
        "queue": queue,
        "page": page,
        "filters": filters,
        "query_string": params.urlencode(),
        "next_query": urlencode({**params.dict(), "after": page.next_cursor}) if page.next_cursor else "",
        "sort": sort,
        "descending": descending,
        "sort_links": sort_links,
        "seen_event": seen_event,
        "title": queue.name if queue else workspace.VIEWS[view],
    }
    if request.htmx and request.GET.get("after"):
        # The "More tickets" link asks for the rows alone: no filters, menus or sidebar to read.
        return render(request, "tickets/workspace/_ticket_rows.html", context)
    sidebar = sidebar_context(request, queues)
    return render_page(
        request,
        "tickets/workspace/list.html",
        {
            **context,
            **sidebar,
            "statuses": Ticket.Status.choices,
            "priorities": Ticket.Priority.choices,
            "bulk_statuses": Ticket.Status.choices,
            # The people of the queues the user sees (the sidebar's).
            "bulk_assignees": workspace.queue_members(q.pk for q in sidebar["sidebar_queues"]),
            # The sidebar's queues are the ones the user may move tickets to (`movable_queues`): read once.
            "queue_options": [(q.slug, q.name) for q in sidebar["sidebar_queues"]],
        },
    )


@login_required
@require_GET
@cached_page
def search_page(request):
    text = request.GET.get("q", "").strip()
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
    except ValueError:
        offset = 0
    hits, has_more = [], False
    if text:
        hits, has_more = search.search_tickets(request.user, text, offset=offset, fields=rows.HIT_FIELDS)
    return render_page(
        request,
        "tickets/workspace/search.html",
        {"q": text, "hits": hits, "has_more": has_more, "next_offset": offset + len(hits), **sidebar_context(request)},
    )


def _render_ticket(
    request, ticket: Ticket, *, reply_conflict: services.ReplyConflict | None = None, reply_data=None, status=200
) -> HttpResponse:
    """The ticket page (`workspace.ticket_page`) with its forms. After a reply conflict the composer comes
    back filled in, asking for confirmation."""
    page = workspace.ticket_page(ticket, viewer=request.user, all_messages=request.GET.get("thread") == "all")
    initial = {"seen_message": page.last_message_id, "draft": uuid.uuid4().hex, "seen_event": page.seen_event}
    if reply_conflict:
        initial.update(
            mode=reply_data["mode"],
            body=reply_data["body"],
            set_status=reply_data["set_status"],
            confirmed=True,
            draft=reply_data.get("draft") or initial["draft"],
        )
    context = {
        "page": page,
        "ticket": ticket,
        "thread": page.thread,
        "thread_html": thread.render_messages(request, ticket, page.thread, can_see_source=page.can_see_source),
        "earlier_count": page.earlier_count,
        "can_see_source": page.can_see_source,
        "seen_event": page.seen_event,
        "movable_queue_slugs": {q.slug for q in page.movable_queues},
        "movable_queue_options": [(q.slug, q.name) for q in page.movable_queues],
        "assignable_users": page.assignable_users,
        "wellbeing_warning": page.wellbeing_warning,
        "wellbeing_checkin": page.wellbeing_checkin,
        **page.panels,
        "reply_form": ReplyForm(initial=initial),
        "reply_conflict": reply_conflict,
        "reply_conflict_messages": reply_conflict.messages if reply_conflict else [],
        "reply_conflict_notices": reply_conflict.notices if reply_conflict else [],
        "merge_form": MergeForm(),
        "statuses": Ticket.Status.choices,
        "priorities": Ticket.Priority.choices,
    }
    return render_page(request, "tickets/ticket.html", context, status=status)


@login_required
@require_GET
def ticket_detail(request, number: int):
    ticket = selectors.ticket_or_404(request.user, number)
    # Every render counts, whichever page led here (list, search, notification, link).
    record_ticket_view(request.user, ticket)
    # The access check, the audit and the exposure count above run on every view; the page itself is kept a
    # few seconds, and never past the ticket's own last change (a new message, a field edited by anyone).
    return cached_response(request, lambda: _render_ticket(request, ticket), version=ticket.updated_at.isoformat())


@login_required
@require_GET
def timeline(request, number: int):
    """The ticket's event log, newest first (loaded by the ticket page after it renders)."""
    ticket = selectors.ticket_or_404(request.user, number)
    return render(
        request,
        "tickets/workspace/_timeline_items.html",
        {"ticket": ticket, "timeline": workspace.timeline(ticket)[:100]},
    )


@login_required
@require_GET
def requester_tickets(request, number: int):
    """The requester's other tickets the viewer may open (loaded by the ticket page after it renders)."""
    ticket = selectors.ticket_or_404(request.user, number)
    return render(
        request,
        "tickets/workspace/_requester_tickets.html",
        {"other_tickets": workspace.requester_other_tickets(request.user, ticket)},
    )


@login_required
@require_GET
def earlier_messages(request, number: int):
    """The part of a long thread the ticket page left out, for htmx to put in place."""
    ticket = selectors.ticket_or_404(request.user, number)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        raise Http404 from None
    from tickets.wellbeing.services import log_child_safety_access

    log_child_safety_access(request.user, ticket)
    earlier = list(workspace.earlier_thread(ticket, before))
    thread_html = thread.render_messages(request, ticket, earlier, can_see_source=selectors.is_admin(request.user))
    return render(request, "tickets/_thread.html", {"ticket": ticket, "thread": earlier, "thread_html": thread_html})


@login_required
@require_POST
def next_ticket(request):
    from tickets.wellbeing import selectors as wellbeing

    ticket = routing.assign_next(request.user)
    exposure = wellbeing.exposure(request.user)
    if ticket is None:
        if exposure.paused:
            messages.info(request, _("Your intake is paused. Resume it on the Wellbeing page when you are ready."))
        else:
            messages.info(request, _("No ticket is waiting for you right now."))
        return redirect(back_url(request, reverse("workspace", args=["mine"])))
    if exposure.suggest_break:
        messages.warning(
            request,
            _(
                "That makes %(count)s sensitive tickets in a row. Consider a short break: you can pause intake "
                "on the Wellbeing page."
            )
            % {"count": exposure.streak},
        )
    return redirect("ticket", ticket.number)


@login_required
@require_POST
def update_fields(request, number: int):
    form = FieldsForm(request.POST)
    if form.is_valid():
        try:
            services.update_fields(
                number, seen_event=form.cleaned_data["seen_event"], **form.changes(request.POST), actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Saved."))
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Refresh"] = "true"
                return response
    else:
        messages.error(request, _("Check the fields: %(errors)s") % {"errors": form.errors.as_text()})
    return redirect("ticket", number)


@login_required
@require_POST
def reply(request, number: int):
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Write something first."))
        return redirect("ticket", number)
    data = form.cleaned_data
    try:
        # A reply written with a macro goes through the macro app (`tickets.extensions`), one transaction.
        result = extensions.reply(
            number,
            data["body"],
            actor=request.user,
            macro_id=request.POST.get("macro_id"),
            internal=data["mode"] == "note",
            set_status=data["set_status"] or None,
            uploads=data["attachments"],
            seen_message_id=data["seen_message"],
            confirmed=data["confirmed"],
            draft=data["draft"],
            seen_event=data["seen_event"],
        )
    except services.ReplyConflict as conflict:
        # The page again, its composer holding the reply and saying what changed meanwhile.
        ticket = selectors.ticket_or_404(request.user, number)
        record_ticket_view(request.user, ticket)
        return _render_ticket(request, ticket, reply_conflict=conflict, reply_data=data, status=409)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("ticket", number)
    if result.repeated:
        messages.info(request, _("This was already sent; it was not sent again."))
        return redirect("ticket", number)
    presence.leave(result.ticket.pk, request.user)
    if result.message.direction == "note":
        messages.success(request, _("Note added."))
    else:
        messages.success(request, _("Reply queued for sending."))
    return redirect("ticket", number)


@login_required
@require_POST
def resend(request, pk: int):
    try:
        message = services.resend(pk, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back_url(request, reverse("workspace", args=["mine"])))
    messages.success(request, _("Queued for sending again."))
    return redirect("ticket", message.ticket.number)


@login_required
@require_POST
def merge(request, number: int):
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the number of the ticket to merge into."))
        return redirect("ticket", number)
    try:
        target = services.merge(
            number,
            form.cleaned_data["target"],
            restrict_target=form.cleaned_data["restrict_target"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("ticket", number)
    messages.success(request, _("Ticket #%(source)s was merged into this one.") % {"source": number})
    return redirect("ticket", target.number)


@login_required
@require_POST
def bulk(request):
    form = BulkForm(request.POST)
    back = back_url(request, reverse("workspace", args=["mine"]))
    if not form.is_valid():
        messages.error(request, _("Select tickets and an action."))
        return redirect(back)
    try:
        changes = form.changes(request.user)
        count = services.bulk_update(
            form.cleaned_data["tickets"],
            seen_event=form.cleaned_data["seen_event"],
            take_over=form.cleaned_data["take_over"],
            **changes,
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(count)s tickets updated.") % {"count": count})
    return redirect(back)


@login_required
@require_POST
@leaves_pages_alone
def presence_report(request, number: int):
    ticket = selectors.tickets_visible_to(request.user).filter(number=number).only("pk").first()
    if ticket is None:
        raise Http404
    state = presence.TYPING if request.POST.get("typing") in ("1", "true", "on") else presence.VIEWING
    presence.report(ticket.pk, request.user, state)
    return render(request, "tickets/workspace/_presence.html", {"others": presence.others(ticket.pk, request.user)})


@login_required
@require_POST
def save_view(request):
    form = SavedViewForm(request.POST)
    if form.is_valid():
        query = form.cleaned_data["query"].lstrip("?")
        path = request.POST.get("path", "")
        if not path.startswith("/work/"):
            path = reverse("workspace", args=["all"])
        try:
            SavedView.objects.update_or_create(
                user=request.user, name=form.cleaned_data["name"], defaults={"query": f"{path}?{query}"}
            )
        except IntegrityError:
            messages.error(request, _("Could not save the view."))
        else:
            messages.success(request, _("View saved."))
    return HttpResponseRedirect(back_url(request, reverse("workspace", args=["mine"])))


@login_required
@require_POST
def delete_view(request, pk: int):
    SavedView.objects.filter(user=request.user, pk=pk).delete()
    return HttpResponseRedirect(back_url(request, reverse("workspace", args=["mine"])))
