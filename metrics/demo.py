"""Demo metrics for `seed_demo`: a scorecard, a few QA reviews and CSAT answers on the demo tickets, and a
rollup of the last 30 days. Safe to run again: what exists is left as it is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from metrics import services
from metrics.models import Criterion, CsatSurvey, Heartbeat, Review, Scorecard
from metrics.services.rollup import local_today
from tickets.models import Team, Ticket, TicketEvent

SCORECARD = "Atendimento front line / Front line"
CRITERIA = [
    # name (pt, en), weight, what good looks like (pt, en)
    (
        ("Resolução correta", "Correct resolution"),
        3,
        ("A resposta resolve o problema do usuário de vez.", "The answer solves the user's problem for good."),
    ),
    (
        ("SOP seguido", "SOP followed"),
        2,
        (
            "O procedimento da categoria foi seguido, com o checklist.",
            "The procedure for the category was followed, checklist included.",
        ),
    ),
    (
        ("Tom acolhedor", "Warm and on-brand tone"),
        1,
        ("Acolhedor, respeitoso e claro; sem culpar, sem jargão.", "Warm, respectful, clear; no blame, no jargon."),
    ),
    (
        ("Gramática no idioma do usuário", "Grammar in the user's language"),
        1,
        ("Ortografia e gramática corretas.", "Correct spelling and grammar."),
    ),
]
COMMENTS = {
    "pt": ["Muito rápido, obrigado!", "Resolveu meu problema.", "Demorou um pouco, mas deu certo.", ""],
    "en": ["Quick and friendly, thanks!", "Solved my issue.", "Took a while but worked.", ""],
}


def demo_scorecard() -> Scorecard:
    scorecard, created = Scorecard.objects.get_or_create(name=SCORECARD)
    if created:
        for position, ((name_pt, name_en), weight, (description_pt, description_en)) in enumerate(CRITERIA, 1):
            Criterion.objects.create(
                scorecard=scorecard,
                position=position,
                name=name_pt,
                name_pt=name_pt,
                name_en=name_en,
                weight=weight,
                description=description_pt,
                description_pt=description_pt,
                description_en=description_en,
            )
    return scorecard


def on_demo_seeded(*, tickets_loaded: bool, **signal_kwargs: object) -> None:
    """Receiver of `tickets.signals.demo_seeded`, connected in `MetricsConfig.ready()`: QA reviews, answered
    surveys and the first rollup, on demo tickets this run loaded."""
    if tickets_loaded:
        load_demo_metrics()


def load_demo_metrics(seed: int = 7, reviews_per_associate: int = 3) -> dict[str, int]:
    """Create the demo scorecard, reviews by each team's lead, CSAT answers on solved tickets, then roll up
    the last 30 days."""
    rng = random.Random(seed)
    scorecard = demo_scorecard()
    reviews = answers = 0
    with transaction.atomic():
        solved = list(
            Ticket.objects.filter(status=Ticket.Status.SOLVED, assignee__isnull=False)
            .select_related("assignee__profile")
            .order_by("pk")
        )
        leads = {team.pk: team.leads.order_by("pk").first() for team in Team.objects.prefetch_related("leads")}
        per_associate: dict[int, int] = {}
        for ticket in solved:
            associate = ticket.assignee
            if associate is None:
                continue
            team_id = getattr(getattr(associate, "profile", None), "team_id", None)
            reviewer = (leads.get(team_id) if team_id else None) or get_user_model().objects.filter(
                is_superuser=True
            ).first()
            if reviewer is None or per_associate.get(associate.pk, 0) >= reviews_per_associate:
                continue
            per_associate[associate.pk] = per_associate.get(associate.pk, 0) + 1
            if Review.objects.filter(ticket=ticket, associate=associate, calibration__isnull=True).exists():
                continue
            ratings = {c.pk: (rng.choice([3, 4, 4, 5, 5]), "") for c in scorecard.criteria.all()}
            review = services.submit_review(
                ticket=ticket, associate=associate, scorecard=scorecard, ratings=ratings, actor=reviewer
            )
            when = (ticket.solved_at or timezone.now()) + timedelta(hours=rng.randint(1, 30))
            Review.objects.filter(pk=review.pk).update(created_at=min(when, timezone.now()))
            reviews += 1
        for ticket in solved:
            survey, _ = CsatSurvey.objects.get_or_create(
                ticket=ticket, defaults={"associate": ticket.assignee, "language": ticket.language}
            )
            if survey.answered_at is not None or rng.random() < 0.4:
                continue
            answered = min((ticket.solved_at or timezone.now()) + timedelta(hours=rng.randint(1, 48)), timezone.now())
            survey.rating = rng.choice([2, 3, 4, 4, 5, 5, 5])
            survey.comment = rng.choice(COMMENTS.get(ticket.language, COMMENTS["pt"]))
            survey.answered_at = answered
            survey.save(update_fields=["rating", "comment", "answered_at"])
            answers += 1
        heartbeats = demo_heartbeats(rng)
    today = local_today()
    result = services.rollup_days(today - timedelta(days=30), today)
    return {"reviews": reviews, "csat": answers, "heartbeats": heartbeats, "rows": result.rows}


def demo_heartbeats(rng: random.Random) -> int:
    """The time associates spent on each demo reply: 4 to 25 minutes of 30-second slots ending when the reply
    went out, as the ticket page reports them, so handle times read in minutes."""
    if Heartbeat.objects.exists():
        return 0
    beats = []
    replies = TicketEvent.objects.filter(kind=TicketEvent.Kind.REPLY_SENT, actor__isnull=False)
    for ticket_id, user_id, sent_at in replies.values_list("ticket_id", "actor_id", "created_at").order_by("pk"):
        last = int(sent_at.timestamp()) // 30
        for slot in range(last - rng.randint(8, 50), last + 1):
            beats.append(
                Heartbeat(user_id=user_id, ticket_id=ticket_id, slot=slot, at=datetime.fromtimestamp(slot * 30, UTC))
            )
    Heartbeat.objects.bulk_create(beats, batch_size=2000, ignore_conflicts=True)
    return len(beats)
