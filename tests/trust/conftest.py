"""A two-team world for access-control tests: everything in team B's queue carries a secret marker that no one
from team A (associate, lead) or from another cross-functional queue (specialist) may ever receive."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from metrics.models import Calibration, Criterion, CsatSurvey, DailyStats, Review, Scorecard
from sop import services as sop_services
from sop.models import Acknowledgement, Macro
from tests.factories import (
    MessageFactory,
    ProfileFactory,
    QueueFactory,
    RequesterFactory,
    SOPFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    associate,
)
from tickets.models import Attachment, Escalation, InboundEmail, Message, Notification, Queue, Role, SavedView

SECRET = "SEGREDO-TIME-B-7731"


# The cast of the single-team trust scenes: a front-line support queue, Trust & Safety (a cross-functional
# queue with a team of its own), an associate of the support queue, and a specialist who is a member of both
# (in the specialist group, so they read the support queue's child-safety tickets).
@pytest.fixture
def team():
    return TeamFactory(name="Suporte")


@pytest.fixture
def suporte(db, team):
    return QueueFactory(
        slug="suporte",
        name="Suporte",
        team=team,
        languages=["pt"],
        addresses=["suporte@acolhe.example"],
        is_default=True,
    )


@pytest.fixture
def trust_and_safety(db):
    return QueueFactory(
        slug="trust-safety",
        name="Trust & Safety",
        kind=Queue.Kind.CROSS_FUNCTIONAL,
        team=TeamFactory(name="Trust & Safety"),
    )


@pytest.fixture
def agent(suporte):
    return associate([suporte], username="ana")


@pytest.fixture
def specialist(suporte, trust_and_safety):
    return UserFactory(username="tessa", role=Role.SPECIALIST, queues=[suporte, trust_and_safety])


@dataclass
class World:
    queue_a: Queue
    queue_b: Queue
    associate_a: object
    lead_a: object
    specialist_x: object
    associate_b: object
    lead_b: object
    admin: object
    ticket_a: object
    ticket_b: object
    message_b: Message
    reply_b: Message
    attachment_b: Attachment
    escalation_b: Escalation
    saved_view_b: SavedView
    notification_b: Notification
    macro_b: Macro
    review_b: Review
    calibration_b: Calibration
    stats_b: DailyStats
    survey_b: CsatSurvey
    acknowledgement_b: Acknowledgement

    @property
    def intruders(self):
        return {"associate": self.associate_a, "team_lead": self.lead_a, "specialist": self.specialist_x}


def _staff(username, role, team, queues=()):
    user = UserFactory(username=username, role=role, queues=list(queues))
    ProfileFactory(user=user, team=team)
    return user


@pytest.fixture
def world(db):
    team_a, team_b = TeamFactory(name="Time A"), TeamFactory(name="Time B")
    queue_a = QueueFactory(slug="fila-a", name="Fila A", team=team_a)
    queue_b = QueueFactory(slug="fila-b", name="Fila B", team=team_b)
    xf_x = QueueFactory(slug="juridico", name="Jurídico", kind=Queue.Kind.CROSS_FUNCTIONAL)
    xf_y = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)

    associate_a = _staff("assoc-a", Role.ASSOCIATE, team_a, [queue_a])
    lead_a = _staff("lead-a", Role.TEAM_LEAD, team_a)
    team_a.leads.add(lead_a)
    specialist_x = _staff("spec-x", Role.SPECIALIST, None, [xf_x])
    associate_b = _staff("assoc-b", Role.ASSOCIATE, team_b, [queue_b])
    lead_b = _staff("lead-b", Role.TEAM_LEAD, team_b)
    team_b.leads.add(lead_b)
    _staff("spec-y", Role.SPECIALIST, None, [xf_y])
    admin = _staff("admin-1", Role.ADMIN, None)

    ticket_a = TicketFactory(queue=queue_a, subject="Assunto do time A")
    requester = RequesterFactory(email="vitima@example.com", name=f"Vítima {SECRET}")
    ticket_b = TicketFactory(queue=queue_b, requester=requester, subject=f"Assunto {SECRET}", assignee=associate_b)
    inbound = InboundEmail.objects.create(
        esp="test", raw=f"Subject: {SECRET}\r\n\r\n{SECRET}".encode(), raw_sha256="0" * 64, dedupe_key="<b@x>"
    )
    message_b = MessageFactory(ticket=ticket_b, body_text=f"Corpo {SECRET}", inbound_email=inbound)
    reply_b = MessageFactory(
        ticket=ticket_b,
        direction=Message.Direction.OUT,
        author=associate_b,
        body_text=f"Resposta {SECRET}",
        delivery_status=Message.Delivery.FAILED,
    )
    attachment_b = Attachment(message=message_b, filename="segredo.txt", content_type="text/plain", sha256="ab" * 32)
    attachment_b.file.save("ab" * 32, ContentFile(SECRET.encode()), save=True)
    escalation_b = Escalation.objects.create(
        ticket=ticket_b, from_queue=queue_b, target_queue=xf_y, reason=f"Motivo {SECRET}", requested_by=associate_b
    )
    saved_view_b = SavedView.objects.create(user=associate_b, name=f"Visão {SECRET}", query="/work/all/?q=x")
    notification_b = Notification.objects.create(user=associate_b, ticket=ticket_b, kind="sla", text=SECRET)
    macro_b = Macro.objects.create(name=f"Macro {SECRET}", owner=associate_b, body_pt=SECRET, body_en=SECRET)
    scorecard = Scorecard.objects.create(name="Padrão")
    Criterion.objects.create(scorecard=scorecard, name="Tom")
    review_b = Review.objects.create(
        ticket=ticket_b, associate=associate_b, reviewer=lead_b, scorecard=scorecard, score=80, comment=SECRET
    )
    calibration_b = Calibration.objects.create(
        ticket=ticket_b, associate=associate_b, scorecard=scorecard, created_by=lead_b
    )
    stats_b = DailyStats.objects.create(day=date(2025, 1, 2), associate=associate_b, queue=queue_b, team=team_b)
    survey_b = CsatSurvey.objects.create(
        ticket=ticket_b, associate=associate_b, rating=2, comment=SECRET, answered_at=timezone.now()
    )
    sop = SOPFactory(slug="procedimento-b")
    version = sop_services.create_version(sop, language="pt", title="Procedimento", body="Texto", actor=lead_b)
    acknowledgement_b = Acknowledgement.objects.create(version=version, user=associate_b)
    return World(
        queue_a=queue_a,
        queue_b=queue_b,
        associate_a=associate_a,
        lead_a=lead_a,
        specialist_x=specialist_x,
        associate_b=associate_b,
        lead_b=lead_b,
        admin=admin,
        ticket_a=ticket_a,
        ticket_b=ticket_b,
        message_b=message_b,
        reply_b=reply_b,
        attachment_b=attachment_b,
        escalation_b=escalation_b,
        saved_view_b=saved_view_b,
        notification_b=notification_b,
        macro_b=macro_b,
        review_b=review_b,
        calibration_b=calibration_b,
        stats_b=stats_b,
        survey_b=survey_b,
        acknowledgement_b=acknowledgement_b,
    )


@pytest.fixture
def api_client_for(client):
    """A test client that calls the API with the user's token, as a script would."""
    from django.test import Client

    def make(user):
        token, _ = Token.objects.get_or_create(user=user)
        return Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    return make
