"""Associate wellbeing on the ticket: the scanner in the mail pipeline, protected viewing, self-harm and
child-safety handling, legal hold, access and reveal logs, clearing false flags."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    MessageFactory,
    QueueFactory,
    SOPFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    associate,
)
from tickets import selectors
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import (
    Attachment,
    Escalation,
    FlagClearance,
    Message,
    Queue,
    Role,
    SensitiveAccessLog,
    Ticket,
)
from tickets.wellbeing import selectors as wellbeing
from tickets.wellbeing import services

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\xa7\xc1\x8e\x8c\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def suporte():
    return QueueFactory(slug="suporte", name="Suporte", languages=["pt", "en"], addresses=["suporte@acolhe.example"])


@pytest.fixture
def trust_and_safety():
    team = TeamFactory(name="Trust & Safety")
    return QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL, team=team)


@pytest.fixture
def agent(suporte):
    return associate([suporte], username="bia")


@pytest.fixture
def specialist(suporte, trust_and_safety):
    return UserFactory(username="tessa", role=Role.SPECIALIST, queues=[suporte, trust_and_safety])


def deliver(body: str, subject: str = "Ajuda", attachments=()) -> Ticket:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Paula <paula@example.com>", "suporte@acolhe.example", subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(body)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    inbound, _ = store_inbound(message.as_bytes(), esp="test", enqueue=False)
    return Ticket.objects.get(pk=process_inbound(inbound.pk).ticket_id)


def flagged_ticket(queue, categories, **kwargs) -> Ticket:
    ticket = TicketFactory(queue=queue, **kwargs)
    MessageFactory(ticket=ticket, body_text="conteúdo sensível")
    services.flag_ticket(ticket, categories)
    return ticket


# --- the pipeline ---------------------------------------------------------------------------------------


def test_inbound_mail_is_scanned_and_the_ticket_carries_its_categories(suporte):
    ticket = deliver("Tem um perfil que está me perseguindo e me xingando em todos os vídeos.")
    message = ticket.messages.get()
    assert message.sensitivity["categories"] == ["bullying"]
    assert message.sensitivity["phrases"]["bullying"]
    assert ticket.sensitivity == ["bullying"]
    assert not ticket.legal_hold


def test_a_clean_mail_stores_no_sensitivity(suporte):
    ticket = deliver("Matei a saudade da live de ontem, foi um massacre de risadas! Como baixo o vídeo?")
    assert ticket.sensitivity == []
    assert ticket.messages.get().sensitivity == {}


def test_a_reply_with_new_sensitive_content_adds_to_the_ticket_rollup(suporte):
    ticket = deliver("Estão me ameaçando e me humilhando", subject="Ajuda urgente")
    reply = EmailMessage()
    reply["From"], reply["To"] = "Paula <paula@example.com>", "suporte@acolhe.example"
    reply["Subject"] = f"Re: Ajuda urgente {ticket.tag}"
    reply["Message-ID"] = make_msgid(domain="example.com")
    reply.set_content("Agora disseram que vão atirar na escola.")
    inbound, _ = store_inbound(reply.as_bytes(), esp="test", enqueue=False)
    process_inbound(inbound.pk)
    ticket.refresh_from_db()
    assert ticket.sensitivity == ["bullying", "violence"]


def test_text_attachments_and_attachment_names_are_scanned(suporte):
    ticket = deliver("Segue o print.", attachments=[("relato.txt", "text/plain", b"ele disse: vou te matar")])
    assert ticket.sensitivity == ["violence"]


# --- self-harm --------------------------------------------------------------------------------------------


def test_self_harm_makes_the_ticket_urgent_and_brings_the_crisis_procedure_first(suporte, agent, client):
    SOPFactory(slug="a-first-by-title", title="A first by title", queues=[suporte])
    crisis = SOPFactory(slug="self-harm-risk", title="Self-harm risk", tags=["self-harm"], queues=[suporte])
    from sop import services as sop_services

    for sop in crisis.__class__.objects.all():
        version = sop_services.create_version(
            sop, language="pt", title=sop.title, body="Texto", steps=[], change_summary="v1", actor=None
        )
        sop_services.publish_version(version)
    ticket = deliver("Não aguento mais, eu quero me matar.")
    assert ticket.priority == Ticket.Priority.URGENT
    assert "self-harm" in ticket.tags
    client.force_login(agent)
    response = client.get(reverse("ticket", args=[ticket.number]))
    assert response.context["sop_panel"]["sops"][0].sop.slug == "self-harm-risk"
    content = response.content.decode()
    assert 'data-testid="crisis"' in content and "data-wb-macro=" in content


# --- child safety -----------------------------------------------------------------------------------------


def test_child_safety_is_escalated_to_trust_and_safety_and_put_under_legal_hold(suporte, trust_and_safety):
    ticket = deliver("Um adulto pediu nudes para a minha filha de 12 anos.")
    assert ticket.sensitivity == ["child_safety"]
    assert ticket.legal_hold
    escalation = ticket.escalations.get()
    assert (escalation.target_queue, escalation.status) == (trust_and_safety, Escalation.Status.OPEN)


def test_child_safety_is_urgent_brings_its_procedure_and_its_escalation_names_the_rule(
    suporte, trust_and_safety, specialist, client
):
    SOPFactory(slug="a-first-by-title", title="A first by title", queues=[suporte])
    procedure = SOPFactory(slug="child-safety", title="Child safety", tags=["child-safety"], queues=[suporte])
    from sop import services as sop_services

    for sop in procedure.__class__.objects.all():
        version = sop_services.create_version(
            sop, language="pt", title=sop.title, body="Texto", steps=[], change_summary="v1", actor=None
        )
        sop_services.publish_version(version)
    ticket = flagged_ticket(suporte, ["child_safety"], priority=Ticket.Priority.NORMAL)
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert "child-safety" in ticket.tags
    escalation = ticket.escalations.get()
    assert escalation.rule is not None
    assert escalation.rule.name == services.CHILD_SAFETY_RULE_NAME
    assert escalation.rule.escalate_to_queue == trust_and_safety
    client.force_login(specialist)
    response = client.get(reverse("ticket", args=[ticket.number]), HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.context["sop_panel"]["sops"][0].sop.slug == "child-safety"
    content = response.content.decode()
    assert "Regra: Conteúdo de segurança infantil → Trust &amp; Safety" in content
    assert "Regra: —" not in content


def test_child_safety_reaches_trust_and_safety_by_its_rule_even_when_an_admin_switched_the_rule_off(
    suporte, trust_and_safety
):
    rule = services.child_safety_rule()
    rule.is_active = False
    rule.save(update_fields=["is_active"])
    ticket = flagged_ticket(suporte, ["child_safety"])
    escalation = ticket.escalations.get()
    assert (escalation.target_queue, escalation.rule) == (trust_and_safety, rule)


def test_child_safety_tickets_are_visible_to_specialists_only(suporte, trust_and_safety, agent, specialist):
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[suporte])
    plain = TicketFactory(queue=suporte)
    ticket = flagged_ticket(suporte, ["child_safety"])
    for user in (agent, lead):
        visible = set(selectors.tickets_visible_to(user).values_list("pk", flat=True))
        assert plain.pk in visible and ticket.pk not in visible
    assert ticket.pk in set(selectors.tickets_visible_to(specialist).values_list("pk", flat=True))
    # A member of the Trust & Safety queue sees the escalated ticket even without the specialist group.
    reviewer = UserFactory(username="rui", role=Role.ASSOCIATE, queues=[trust_and_safety])
    assert selectors.tickets_visible_to(reviewer).filter(pk=ticket.pk).exists()


def test_every_access_to_child_safety_content_is_logged(suporte, trust_and_safety, specialist, agent, client):
    ticket = flagged_ticket(suporte, ["child_safety"])
    attachment = Attachment(
        message=ticket.messages.get(), filename="print.png", content_type="image/png", sha256="ab" * 32
    )
    attachment.file.save("print", ContentFile(PNG), save=True)
    client.force_login(agent)
    assert client.get(reverse("ticket", args=[ticket.number])).status_code == 404
    assert client.get(reverse("attachment", args=[attachment.pk])).status_code == 404
    client.force_login(specialist)
    assert client.get(reverse("ticket", args=[ticket.number])).status_code == 200
    assert client.get(reverse("attachment", args=[attachment.pk])).status_code == 200
    logs = list(SensitiveAccessLog.objects.filter(ticket=ticket).order_by("id").values_list("user", "kind"))
    assert logs == [(specialist.pk, "view"), (specialist.pk, "attachment")]


def test_legal_hold_blocks_deleting_the_ticket_its_messages_and_attachments(suporte, trust_and_safety):
    ticket = flagged_ticket(suporte, ["child_safety"])
    message = ticket.messages.get()
    Attachment.objects.create(message=message, filename="a.png", content_type="image/png")
    for doomed in (Attachment.objects.filter(message=message), Message.objects.filter(pk=message.pk)):
        with pytest.raises(IntegrityError), transaction.atomic():
            doomed.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).delete()
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    Ticket.objects.filter(pk=ticket.pk).update(legal_hold=False)
    Ticket.objects.filter(pk=ticket.pk).delete()
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


# --- protected viewing ------------------------------------------------------------------------------------


def test_flagged_ticket_page_warns_blurs_media_and_adds_no_query_beyond_counting_the_exposure(suporte, agent, client):
    plain = TicketFactory(queue=suporte)
    MessageFactory.create_batch(5, ticket=plain)
    ticket = flagged_ticket(suporte, ["violence", "bullying"])
    MessageFactory.create_batch(4, ticket=ticket)
    client.force_login(agent)
    counts = []
    for target in (plain, ticket):
        client.get(reverse("ticket", args=[target.number]))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("ticket", args=[target.number]))
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as counting:
        services.record_ticket_view(agent, ticket)
    content = response.content.decode()
    assert 'data-testid="content-warning"' in content
    assert 'data-category="violence"' in content and 'data-category="bullying"' in content
    assert "wb-protected" in content
    assert counts[0] <= 15
    assert counts[1] <= counts[0] + len(counting)


def test_reveal_is_logged_with_the_attachment(suporte, agent, client):
    ticket = flagged_ticket(suporte, ["violence"])
    attachment = Attachment.objects.create(message=ticket.messages.get(), filename="a.png", content_type="image/png")
    client.force_login(agent)
    response = client.post(
        reverse("ticket_reveal", args=[ticket.number]), {"attachment": attachment.pk, "src": "/attachments/1/"}
    )
    assert response.status_code == 204
    log = SensitiveAccessLog.objects.get()
    assert (log.user, log.ticket, log.kind, log.attachment) == (agent, ticket, "reveal", attachment)
    other = associate([QueueFactory(slug="outra")], username="caio")
    client.force_login(other)
    assert client.post(reverse("ticket_reveal", args=[ticket.number])).status_code == 404
    assert SensitiveAccessLog.objects.count() == 1


def test_text_only_mode_is_kept_in_the_session_and_hides_media(suporte, agent, client):
    ticket = flagged_ticket(suporte, ["violence"])
    client.force_login(agent)
    client.post(reverse("wellbeing_text_only"), {"text_only": "1"})
    assert "wb-text-only" in client.get(reverse("ticket", args=[ticket.number])).content.decode()
    client.post(reverse("wellbeing_text_only"), {"text_only": "0"})
    assert "wb-text-only" not in client.get(reverse("ticket", args=[ticket.number])).content.decode()


def test_lists_and_search_never_show_a_flagged_subject(suporte, agent, client):
    ticket = flagged_ticket(suporte, ["self_harm"], subject="quero me matar")
    Message.objects.filter(ticket=ticket).update(body_text="quero me matar hoje")
    TicketFactory(queue=suporte, subject="Senha esquecida")
    client.force_login(agent)
    for url in (
        reverse("workspace", args=["all"]),
        reverse("workspace_queue", args=["suporte"]),
        reverse("search") + "?q=matar",
    ):
        content = client.get(url, follow=True).content.decode()
        assert "quero me matar" not in content, url
        assert 'data-testid="masked-subject"' in content, url
    assert "Senha esquecida" in client.get(reverse("workspace", args=["all"])).content.decode()


# --- false flags and precision ----------------------------------------------------------------------------


def test_clearing_a_false_flag_is_recorded_and_feeds_precision(suporte, agent, client):
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[suporte])
    tickets = []
    for _ in range(4):
        ticket = TicketFactory(queue=suporte)
        message = MessageFactory(ticket=ticket)
        message.sensitivity = {"categories": ["violence"]}
        message.save()
        services.flag_ticket(ticket, ["violence"])
        tickets.append(ticket)
    client.force_login(agent)
    response = client.post(reverse("ticket_clear_flag", args=[tickets[0].number]), {"category": "violence"})
    assert response.status_code == 302
    tickets[0].refresh_from_db()
    assert tickets[0].sensitivity == []
    clearance = FlagClearance.objects.get()
    assert (clearance.ticket, clearance.category, clearance.cleared_by) == (tickets[0], "violence", agent)
    rows = {row.category: row for row in wellbeing.precision_by_category(lead)}
    assert (rows["violence"].flagged, rows["violence"].cleared, rows["violence"].precision) == (4, 1, 0.75)
    assert rows["hate_speech"].precision is None


def test_associates_cannot_clear_child_safety(suporte, trust_and_safety, specialist):
    ticket = flagged_ticket(suporte, ["child_safety"])
    reviewer = UserFactory(username="rui", role=Role.ASSOCIATE, queues=[suporte, trust_and_safety])
    with pytest.raises(Exception, match="specialist"):
        services.clear_flag(ticket.number, "child_safety", actor=reviewer)
    services.clear_flag(ticket.number, "child_safety", note="print de jogo", actor=specialist)
    ticket.refresh_from_db()
    assert ticket.sensitivity == [] and ticket.legal_hold  # the hold stays until an admin lifts it


def test_team_exposure_page_is_for_leads_and_names_nobody(suporte, agent, client):
    Group.objects.get_or_create(name=Role.TEAM_LEAD)
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[suporte])
    client.force_login(agent)
    assert client.get(reverse("wellbeing_team")).status_code == 404
    client.force_login(lead)
    response = client.get(reverse("wellbeing_team"))
    assert response.status_code == 200
    assert agent.username not in response.content.decode()


def test_an_unanswered_self_harm_ticket_takes_the_urgent_sla(suporte):
    from tests.factories import SlaPolicyFactory

    SlaPolicyFactory(queue=suporte, priority=None, first_response_minutes=240)
    SlaPolicyFactory(queue=suporte, priority=Ticket.Priority.URGENT, first_response_minutes=15)
    ticket = deliver("eu quero morrer, não aguento mais viver")
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert (ticket.first_response_due_at - ticket.created_at).total_seconds() == 15 * 60


def test_reading_a_child_safety_ticket_through_the_api_is_logged_and_hidden_from_associates(
    suporte, trust_and_safety, specialist, agent
):
    from rest_framework.test import APIClient

    ticket = flagged_ticket(suporte, ["child_safety"])
    api = APIClient()
    api.force_authenticate(agent)
    assert api.get(f"/api/v1/tickets/{ticket.number}/").status_code == 404
    assert ticket.number not in [row["number"] for row in api.get("/api/v1/tickets/").json()["results"]]
    api.force_authenticate(specialist)
    assert api.get(f"/api/v1/tickets/{ticket.number}/").status_code == 200
    assert list(SensitiveAccessLog.objects.values_list("user", "kind")) == [(specialist.pk, "view")]


def test_a_child_safety_view_served_from_the_page_cache_is_logged_too(suporte, trust_and_safety, specialist, client):
    ticket = flagged_ticket(suporte, ["child_safety"])
    client.get(reverse("login"))  # the browser has its CSRF cookie: its pages may be kept
    client.force_login(specialist)
    first = client.get(reverse("ticket", args=[ticket.number]))
    second = client.get(reverse("ticket", args=[ticket.number]))
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert SensitiveAccessLog.objects.filter(ticket=ticket, user=specialist, kind="view").count() == 2
