"""Merges are sticky and quiet: the target takes the strictest sensitivity, legal hold and open escalation;
child-safety content never lands on a ticket front-line associates can read unless the merge says the
target takes the restriction; erasure and retention never touch held content, whichever ticket it sits on;
the merge notice speaks only of the recipient's own ticket."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import MessageFactory, TicketFactory
from tickets import selectors
from tickets.models import Attachment, Escalation, Message, Ticket
from tickets.privacy import services as privacy
from tickets.wellbeing import services as wellbeing
from tickets.workspace import search, services

pytestmark = pytest.mark.django_db

EVIDENCE = "relato-evidencia-4471"


@pytest.fixture
def report(suporte, trust_and_safety):
    """A child-safety report with its evidence, flagged by the scanner: legal hold, escalated to T&S."""
    ticket = TicketFactory(queue=suporte, subject="Denúncia", requester__email="denunciante@example.com")
    message = MessageFactory(ticket=ticket, body_text=f"{EVIDENCE} conteúdo", message_id="<denuncia@example.com>")
    attachment = Attachment(message=message, filename="prova.png", content_type="image/png", size=4, sha256="0" * 64)
    attachment.file.save("prova", ContentFile(b"\x89PNG"), save=True)
    wellbeing.flag_ticket(ticket, ["child_safety"])
    ticket.refresh_from_db()
    assert ticket.legal_hold and ticket.escalations.filter(status=Escalation.Status.OPEN).exists()
    return ticket


@pytest.fixture
def ordinary(suporte, agent):
    ticket = TicketFactory(
        queue=suporte, subject="Senha do Pedro", requester__email="pedro@example.com", assignee=agent
    )
    MessageFactory(ticket=ticket, body_text="esqueci a senha", message_id="<pedro-1@example.com>")
    return ticket


def test_merging_child_safety_content_into_an_ordinary_ticket_is_refused_without_the_restriction(
    report, ordinary, specialist, agent
):
    with pytest.raises(ValidationError) as refused:
        services.merge(report.number, ordinary.number, actor=specialist)
    assert "Trust & Safety" in refused.value.messages[0]
    assert not ordinary.messages.filter(body_text__contains=EVIDENCE).exists()
    report.refresh_from_db()
    assert report.merged_into is None
    assert selectors.ticket_for(agent, ordinary.number) is not None


def test_a_target_that_takes_the_restriction_leaves_the_front_line(report, ordinary, specialist, agent):
    evidence = Attachment.objects.get(message__ticket=report)
    services.merge(report.number, ordinary.number, restrict_target=True, actor=specialist)
    ordinary.refresh_from_db()

    assert "child_safety" in ordinary.sensitivity
    assert ordinary.legal_hold
    assert ordinary.escalations.filter(status=Escalation.Status.OPEN, target_queue__slug="trust-safety").exists()
    # The associate who had the ordinary ticket no longer reads it, its evidence, or finds it in search.
    assert selectors.ticket_for(agent, ordinary.number) is None
    assert selectors.attachment_for(agent, evidence.pk) is None
    hits, _more = search.search_tickets(agent, EVIDENCE)
    assert hits == []
    # ...and is not left assigned to a ticket they cannot open: the specialist who merged takes it.
    assert ordinary.assignee == specialist
    assert selectors.ticket_for(specialist, ordinary.number) is not None


def test_the_api_refuses_the_merge_with_a_clear_message_and_accepts_the_restriction(report, ordinary, specialist):
    api = APIClient()
    api.force_authenticate(specialist)
    url = f"/api/v1/tickets/{report.number}/merge/"
    refused = api.post(url, {"into": ordinary.number}, format="json")
    assert refused.status_code == 400
    assert "Trust & Safety" in str(refused.json())
    done = api.post(url, {"into": ordinary.number, "restrict_target": True}, format="json")
    assert done.status_code == 200
    ordinary.refresh_from_db()
    assert ordinary.legal_hold and "child_safety" in ordinary.sensitivity


def test_merging_into_an_already_restricted_ticket_needs_no_confirmation(report, suporte, specialist):
    duplicate = TicketFactory(queue=suporte, requester=report.requester)
    MessageFactory(ticket=duplicate, body_text="mais um detalhe")
    services.merge(duplicate.number, report.number, actor=specialist)
    report.refresh_from_db()
    assert report.legal_hold and report.messages.filter(body_text="mais um detalhe").exists()


def test_the_target_takes_the_legal_hold_and_sensitivity_of_the_source(suporte, agent):
    source = TicketFactory(queue=suporte, sensitivity=["self_harm"], legal_hold=True)
    target = TicketFactory(queue=suporte)
    services.merge(source.number, target.number, actor=agent)
    target.refresh_from_db()
    assert target.legal_hold
    assert "self_harm" in target.sensitivity


def test_erasing_the_targets_requester_spares_the_merged_evidence(report, ordinary, specialist):
    services.merge(report.number, ordinary.number, restrict_target=True, actor=specialist)
    with pytest.raises(ValidationError):
        privacy.erase_requester(ordinary.requester, actor=None)
    assert Message.objects.filter(body_text__contains=EVIDENCE).exists()
    assert Attachment.objects.get(filename="prova.png").file


def test_held_content_moved_by_an_old_merge_is_never_scrubbed(report, ordinary):
    # A merge made before merges carried the hold: the evidence sits on an ordinary, unheld ticket.
    report.messages.update(ticket=ordinary)
    Ticket.objects.filter(pk=report.pk).update(merged_into=ordinary, status=Ticket.Status.CLOSED)
    ordinary.refresh_from_db()
    assert not ordinary.legal_hold

    with pytest.raises(ValidationError):
        privacy.erase_requester(ordinary.requester, actor=None)
    privacy.scrub_tickets(Ticket.objects.filter(pk=ordinary.pk))
    assert Message.objects.filter(ticket=ordinary, body_text__contains=EVIDENCE).exists()

    suporte = ordinary.queue
    suporte.retention_days = 30
    suporte.save()
    Ticket.objects.filter(pk__in=[ordinary.pk, report.pk]).update(
        status=Ticket.Status.CLOSED, closed_at=timezone.now() - timedelta(days=90)
    )
    assert not privacy.expired_tickets().filter(pk__in=[ordinary.pk, report.pk]).exists()
    privacy.purge_expired_tickets()
    assert Message.objects.filter(body_text__contains=EVIDENCE).exists()
    assert Attachment.objects.get(filename="prova.png").file


def test_the_merge_notice_speaks_only_of_the_recipients_own_ticket(
    suporte, agent, ordinary, django_capture_on_commit_callbacks
):
    duplicate = TicketFactory(queue=suporte, subject="Minha conta sumiu", requester__email="ana@example.com")
    MessageFactory(ticket=duplicate, body_text="sumiu tudo", message_id="<ana-1@example.com>")
    with django_capture_on_commit_callbacks(execute=True):
        services.merge(duplicate.number, ordinary.number, actor=agent)

    notice = mail.outbox[-1]
    assert notice.to == ["ana@example.com"]
    assert duplicate.tag in notice.subject and "Minha conta sumiu" in notice.subject
    assert ordinary.tag not in notice.subject and "Senha do Pedro" not in notice.subject
    assert f"#{ordinary.number}" not in notice.body and "Senha do Pedro" not in notice.body
    # It answers Ana's own mail, never Pedro's thread.
    assert notice.extra_headers["In-Reply-To"] == "<ana-1@example.com>"
    assert "pedro-1@example.com" not in notice.extra_headers["References"]
    # Pedro's ticket holds no mail addressed to Ana.
    assert not ordinary.messages.filter(direction=Message.Direction.OUT).exists()


def test_a_reply_to_the_merge_notice_continues_on_the_target(
    suporte, agent, ordinary, django_capture_on_commit_callbacks
):
    from email.message import EmailMessage

    from tickets.email.inbound import process_inbound, store_inbound

    duplicate = TicketFactory(queue=suporte, subject="Minha conta sumiu", requester__email="ana@example.com")
    MessageFactory(ticket=duplicate, body_text="sumiu tudo", message_id="<ana-1@example.com>")
    with django_capture_on_commit_callbacks(execute=True):
        services.merge(duplicate.number, ordinary.number, actor=agent)
    notice = Message.objects.get(ticket=duplicate, direction=Message.Direction.OUT)

    reply = EmailMessage()
    reply["From"], reply["To"] = "ana@example.com", "suporte@acolhe.example"
    reply["Subject"] = f"Re: {notice.subject}"
    reply["Message-ID"] = "<ana-2@example.com>"
    reply["In-Reply-To"] = notice.message_id
    reply.set_content("Obrigada!")
    inbound, _ = store_inbound(reply.as_bytes(), esp="test", enqueue=False)
    assert process_inbound(inbound.pk).ticket_id == ordinary.pk


def test_the_same_requesters_notice_may_name_both_of_their_tickets(suporte, agent, django_capture_on_commit_callbacks):
    first = TicketFactory(queue=suporte, requester__email="ana@example.com")
    second = TicketFactory(queue=suporte, requester=first.requester)
    MessageFactory(ticket=second, body_text="de novo")
    with django_capture_on_commit_callbacks(execute=True):
        services.merge(second.number, first.number, actor=agent)
    assert f"#{first.number}" in mail.outbox[-1].body
