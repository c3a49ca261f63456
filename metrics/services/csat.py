"""CSAT: a survey per solved ticket, answered through a signed link on a public page."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metrics.models import CsatSurvey
from tickets.language import interface_language
from tickets.models import Ticket

SALT = "acolhe.metrics.csat"


class CsatClosed(Exception):
    """The survey can no longer be answered or changed."""


def link_max_age() -> timedelta:
    return timedelta(days=settings.ACOLHE_CSAT_LINK_DAYS)


def change_window() -> timedelta:
    return timedelta(days=settings.ACOLHE_CSAT_CHANGE_DAYS)


def survey_token(survey: CsatSurvey) -> str:
    return signing.dumps({"survey": survey.pk}, salt=SALT, compress=True)


def survey_link(survey: CsatSurvey) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("metrics:csat", args=[survey_token(survey)])


def survey_for_token(token: str) -> CsatSurvey:
    """The survey a link points to. Raises `signing.SignatureExpired` for an old link and
    `signing.BadSignature` for a forged or damaged one."""
    value = signing.loads(token, salt=SALT, max_age=link_max_age())
    survey = CsatSurvey.objects.select_related("ticket", "associate").filter(pk=value.get("survey")).first()
    if survey is None:
        raise signing.BadSignature("no such survey")
    return survey


def on_ticket_solved(ticket: Ticket, **signal_kwargs: object) -> CsatSurvey | None:
    """Receiver of `tickets.signals.ticket_solved`, connected in `MetricsConfig.ready()`. When a ticket
    becomes solved the first time, create its survey for the assignee and mail the requester a signed link
    in the ticket's language, on the ticket's thread. Later solves send nothing (one survey per ticket);
    an unanswered survey follows the new assignee."""
    if not settings.ACOLHE_CSAT_ENABLED:
        return None
    survey, created = CsatSurvey.objects.get_or_create(
        ticket=ticket, defaults={"associate_id": ticket.assignee_id, "language": ticket.language}
    )
    if not created:
        if not survey.is_answered and survey.associate_id != ticket.assignee_id and ticket.assignee_id:
            survey.associate_id = ticket.assignee_id
            survey.save(update_fields=["associate"])
        return survey
    from tickets.email import outbound

    with translation.override(interface_language(ticket.language)):
        body = outbound.render_text_mail(
            "metrics/email/csat.txt",
            {"ticket": ticket, "requester": ticket.requester, "link": survey_link(survey)},
        ).strip()
    # On the ticket's thread (In-Reply-To, References, subject tag), marked as automatic mail.
    outbound.queue_outbound(ticket, body_text=body, author=None)
    return survey


def on_tickets_scrubbed(ticket_ids: list[int], **signal_kwargs: object) -> None:
    """Receiver of `tickets.signals.tickets_scrubbed`: a survey's comment is the requester's own words, so
    it goes with the rest of their content; the rating stays (the metrics count it)."""
    CsatSurvey.objects.filter(ticket_id__in=ticket_ids).exclude(comment="").update(comment="")


@transaction.atomic
def answer_survey(survey_pk: int, rating: int, comment: str = "", *, now: datetime | None = None) -> CsatSurvey:
    """Record the requester's 1-5 rating and comment. They may change it for `ACOLHE_CSAT_CHANGE_DAYS`
    after the first answer; a repeated identical submit changes nothing."""
    now = now or timezone.now()
    if rating not in (1, 2, 3, 4, 5):
        raise ValueError("rating must be 1-5")
    survey = CsatSurvey.objects.select_for_update().get(pk=survey_pk)
    comment = (comment or "").strip()[:5000]
    if survey.answered_at is not None:
        if now - survey.answered_at > change_window():
            raise CsatClosed(_("This survey was answered and can no longer be changed."))
        if survey.rating == rating and survey.comment == comment:
            return survey
        survey.changed_at = now
    else:
        survey.answered_at = now
    survey.rating = rating
    survey.comment = comment
    survey.save(update_fields=["rating", "comment", "answered_at", "changed_at"])
    from metrics.services.rollup import local_today
    from metrics.tasks import rollup_day

    day = local_today(survey.answered_at).isoformat()
    # Robust: with the broker away the answer is kept all the same; beat's rollup of today catches up.
    transaction.on_commit(lambda: rollup_day.delay(day), robust=True)
    return survey
