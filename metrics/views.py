"""Metric pages: the team-lead dashboard and CSV export, an associate's own scores, QA reviews and
calibrations, the public CSAT page and the page heartbeat. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk import generations
from helpdesk.bad_input import optional_id
from helpdesk.pagecache import cached_page, leaves_pages_alone
from helpdesk.pages import render_page
from metrics import selectors, services, tables
from metrics.forms import CalibrationForm, CsatForm, FilterForm, ReviewForm
from metrics.models import Review, Scorecard
from metrics.services.rollup import local_today
from tickets import selectors as ticket_selectors
from tickets.language import interface_language


def _leads_only(request) -> None:
    if not selectors.is_lead_or_admin(request.user):
        raise PermissionDenied


# The dashboard's tables: rendered from it, and kept (`dashboard`).
TABLE_TEMPLATE = "metrics/_table.html"


def _filter_form(request) -> FilterForm:
    return FilterForm(request.GET or None, user=request.user, today=local_today())


@login_required
@require_GET
@cached_page
def dashboard(request):
    _leads_only(request)
    form = _filter_form(request)
    filters = form.filters()
    shape = selectors.dashboard_shape(request.user, filters)
    board = selectors.dashboard(request.user, filters, shape=shape)
    query = request.GET.urlencode()

    def tables_html() -> str:
        # Every associate's page differs only by its number: reversed once, not once per row.
        associate_url = reverse("metrics:associate", args=[0])[: -len("0/")]
        shown = [
            tables.associates_table(board, link=lambda pk: f"{associate_url}{pk}/"),
            tables.queues_table(board),
            tables.qa_table(board),
            tables.csat_table(board),
            tables.trend_table(board.trend),
        ]
        template = get_template(TABLE_TEMPLATE)
        return "".join(template.render({"table": table, "export": True, "query": query}) for table in shown)

    # The tables (a hundred associates of fourteen cells, and four more) are kept with the figures they show,
    # in the rollups' generation, per reader, filters, language and template (`generations.template_digest`).
    kept_tables = generations.kept(
        selectors.ROLLUPS,
        f"tables:{generations.template_digest(TABLE_TEMPLATE)}:{get_language()}:{query}:{shape}",
        tables_html,
        selectors.ROLLUPS_SECONDS,
    )
    return render_page(
        request,
        "metrics/dashboard.html",
        {
            "form": form,
            "board": board,
            "tables_html": mark_safe(kept_tables),  # the table template rendered it, escaping as it does
            "charts": tables.chart_data(board.trend, board.totals),
            "query": query,
        },
    )


@login_required
@require_GET
def export_csv(request, table: str):
    _leads_only(request)
    if table not in tables.TABLES:
        raise Http404
    board = selectors.dashboard(request.user, _filter_form(request).filters())
    exported = tables.table(board, table, iso=True)
    filters = board.filters
    delimiter, decimal, bom = _spreadsheet_dialect(request.GET.get("sep", ""))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="acolhe-{table}-{filters.first}-{filters.last}.csv"'
    if bom:
        response.write("\ufeff")
    writer = csv.writer(response, delimiter=delimiter)
    writer.writerow([str(cell) for cell in exported.header])
    writer.writerows([[_csv_cell(cell, decimal) for cell in row] for row in exported.rows])
    return response


def _spreadsheet_dialect(choice: str) -> tuple[str, str, bool]:
    """(separator, decimal mark, byte-order mark). A spreadsheet set to Brazilian Portuguese splits on
    `;`, reads `3,5` as a number and needs the BOM to read UTF-8; others expect `,` and `3.5`. The reader's
    language decides unless `?sep=semicolon` or `?sep=comma` says otherwise."""
    if choice not in ("semicolon", "comma"):
        choice = "semicolon" if (get_language() or "").startswith("pt") else "comma"
    return (";", ",", True) if choice == "semicolon" else (",", ".", False)


def _csv_cell(cell, decimal: str):
    if cell is None:
        return ""
    if isinstance(cell, float | Decimal):
        return str(cell).replace(".", decimal)
    return cell


def _scores_page(request, associate):
    form = _filter_form(request)
    filters = form.filters()
    totals, trend = selectors.associate_trend(request.user, associate.pk, filters)
    reviews = selectors.reviews_visible_to(request.user).filter(associate=associate, calibration__isnull=True)[:20]
    surveys = (
        selectors.csat_visible_to(request.user)
        .filter(associate=associate, rating__isnull=False)
        .order_by("-answered_at")[:20]
    )
    return render_page(
        request,
        "metrics/associate.html",
        {
            "associate": associate,
            "form": form,
            "totals": totals,
            "columns": [(label, getattr(totals, key), area) for key, label, area in tables.SCORE_COLUMNS],
            "trend_table": tables.trend_table(trend),
            "charts": tables.chart_data(trend, totals),
            "reviews": reviews,
            "surveys": surveys,
            "is_self": associate.pk == request.user.pk,
        },
    )


@login_required
@require_GET
def my_scores(request):
    return _scores_page(request, request.user)


@login_required
@require_GET
def associate_scores(request, pk: int):
    if pk != request.user.pk and not (
        selectors.is_lead_or_admin(request.user) and selectors.can_see_associate(request.user, pk)
    ):
        raise PermissionDenied
    return _scores_page(request, get_object_or_404(get_user_model(), pk=pk))


@login_required
@require_POST
@leaves_pages_alone
def heartbeat(request):
    """The ticket page reports that it is visible and focused (static/js/heartbeat.js)."""
    try:
        number = int(request.POST.get("ticket", ""))
    except ValueError:
        return HttpResponse(status=400)
    if not services.record_heartbeat(number, actor=request.user):
        raise Http404
    return HttpResponse(status=204)


# QA ---------------------------------------------------------------------------------------------------


@login_required
@require_GET
def qa_home(request):
    number = optional_id(request.GET.get("number"), name=_("ticket number"))
    if number is not None:
        return redirect("metrics:review_ticket", number=number)
    reviews = selectors.reviews_visible_to(request.user).filter(calibration__isnull=True)[:50]
    return render_page(
        request,
        "metrics/qa.html",
        {
            "assignments": selectors.assignments_for(request.user)[:100],
            "reviews": reviews,
            "calibrations": selectors.calibrations_visible_to(request.user)
            .select_related("ticket", "associate")
            .order_by("-created_at")[:20],
            "can_review": selectors.is_lead_or_admin(request.user),
        },
    )


def _review_target(request, number: int):
    ticket = ticket_selectors.ticket_or_404(request.user, number)
    associate_id = (
        optional_id(request.GET.get("associate") or request.POST.get("associate"), name=_("associate"))
        or ticket.assignee_id
    )
    associate = get_user_model().objects.filter(pk=associate_id).first() if associate_id else None
    if associate is None:
        raise Http404
    return ticket, associate


@login_required
@require_http_methods(["GET", "POST"])
def review_ticket(request, number: int):
    ticket, associate = _review_target(request, number)
    calibration = None
    calibration_id = optional_id(
        request.GET.get("calibration") or request.POST.get("calibration"), name=_("calibration")
    )
    scorecard: Scorecard | None
    if calibration_id:
        calibration = get_object_or_404(selectors.calibrations_visible_to(request.user), pk=calibration_id)
        scorecard = calibration.scorecard
    else:
        scorecards = selectors.active_scorecards()
        scorecard_id = optional_id(request.GET.get("scorecard"), name=_("scorecard"))
        scorecard = scorecards.filter(pk=scorecard_id or 0).first() or scorecards.first()
    if scorecard is None:
        messages.error(request, _("There is no active QA scorecard yet."))
        return redirect("metrics:qa")
    existing = (
        Review.objects.filter(ticket=ticket, associate=associate, reviewer=request.user, calibration=calibration)
        .prefetch_related("answers")
        .first()
    )
    initial_answers = {a.criterion_id: (a.rating, a.comment) for a in existing.answers.all()} if existing else {}
    form = ReviewForm(
        request.POST or None,
        scorecard=scorecard,
        initial_answers=initial_answers,
        initial={"comment": existing.comment if existing else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.submit_review(
                ticket=ticket,
                associate=associate,
                scorecard=scorecard,
                ratings=form.ratings(),
                comment=form.cleaned_data["comment"],
                calibration=calibration,
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Review saved: %(score)s.") % {"score": f"{review.score:.0f}"})
            if calibration is not None:
                return redirect("metrics:calibration", pk=calibration.pk)
            return redirect("metrics:review", pk=review.pk)
    elif request.method == "GET" and calibration is None and not services.can_review(request.user, associate):
        raise PermissionDenied
    return render_page(
        request,
        "metrics/review_form.html",
        {
            "ticket": ticket,
            "associate": associate,
            "scorecard": scorecard,
            "scorecards": selectors.active_scorecards() if calibration is None else [],
            "calibration": calibration,
            "form": form,
            "thread": ticket_selectors.thread(ticket).exclude(direction="note")[:50],
        },
    )


@login_required
@require_GET
def review_detail(request, pk: int):
    review = get_object_or_404(selectors.reviews_visible_to(request.user), pk=pk)
    answers = review.answers.select_related("criterion")
    return render_page(request, "metrics/review.html", {"review": review, "answers": answers})


@login_required
@require_http_methods(["GET", "POST"])
def calibration_new(request, number: int):
    ticket, associate = _review_target(request, number)
    if not services.can_review(request.user, associate):
        raise PermissionDenied
    scorecard = selectors.active_scorecards().first()
    form = CalibrationForm(request.POST or None, reviewers=selectors.calibration_reviewers(ticket, associate))
    if request.method == "POST" and form.is_valid() and scorecard is not None:
        try:
            calibration = services.start_calibration(
                ticket=ticket,
                associate=associate,
                scorecard=scorecard,
                reviewers=form.cleaned_data["reviewers"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("reviewers", exc)
        else:
            return redirect("metrics:calibration", pk=calibration.pk)
    return render_page(
        request, "metrics/calibration_form.html", {"ticket": ticket, "associate": associate, "form": form}
    )


@login_required
@require_GET
def calibration_detail(request, pk: int):
    calibration = get_object_or_404(
        selectors.calibrations_visible_to(request.user).select_related("ticket", "associate", "scorecard"), pk=pk
    )
    reviews, spreads, total_spread = selectors.calibration_spread(calibration)
    pending = calibration.assignments.filter(review__isnull=True).select_related("reviewer")
    return render_page(
        request,
        "metrics/calibration.html",
        {
            "calibration": calibration,
            "reviews": reviews,
            "spreads": spreads,
            "total_spread": total_spread,
            "pending": pending,
            "mine_pending": pending.filter(reviewer=request.user).exists(),
        },
    )


# CSAT (public) ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def csat(request, token: str):
    """The requester's page: no login, the signed link is the key. Shown in the ticket's language unless
    they pick the other one."""
    from django.conf import settings

    from helpdesk import ratelimit

    if not ratelimit.allow("csat", ratelimit.client_address(request), settings.ACOLHE_CSAT_RATE_PER_MINUTE):
        return HttpResponse(
            _("Too many requests. Please try again in a minute."), status=429, content_type="text/plain"
        )
    try:
        survey = services.survey_for_token(token)
    except signing.SignatureExpired:
        return _csat_render(request, None, "expired", status=410)
    except signing.BadSignature:
        return _csat_render(request, None, "invalid", status=404)
    language = request.GET.get("lang") if request.GET.get("lang") in ("pt", "en") else survey.language
    with translation.override(interface_language(language)):
        form = CsatForm(request.POST or None, initial={"rating": survey.rating, "comment": survey.comment})
        if request.method == "POST" and form.is_valid():
            try:
                survey = services.answer_survey(survey.pk, form.cleaned_data["rating"], form.cleaned_data["comment"])
            except services.CsatClosed:
                return _csat_render(request, survey, "closed", language=language, status=409)
            return _csat_render(request, survey, "thanks", language=language)
        state = "closed" if survey.answered_at and not _can_change(survey) else "form"
        return _csat_render(request, survey, state, language=language, form=form)


def _can_change(survey) -> bool:
    from django.utils import timezone

    from metrics.services.csat import change_window

    return survey.answered_at is None or timezone.now() - survey.answered_at <= change_window()


def _csat_render(request, survey, state: str, *, language: str | None = None, form=None, status: int = 200):
    language = language or (survey.language if survey else "pt")
    with translation.override(interface_language(language)):
        response = render(
            request,
            "metrics/csat.html",
            {"survey": survey, "state": state, "form": form, "language": language},
            status=status,
        )
    response["Content-Language"] = interface_language(language)
    return response
