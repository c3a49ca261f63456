"""Escalate, work and hand back through the pages and the API; the SLA health page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import QueueFactory, RequesterFactory, SlaPolicyFactory, TeamFactory, UserFactory
from tickets import services, sla
from tickets.models import Escalation, Message, Notification, Queue, Role, SlaPolicy, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    front_line = QueueFactory(slug="suporte", name="Suporte")
    team = TeamFactory(name="Engenharia")
    engineering = QueueFactory(slug="engenharia", name="Engenharia", kind=Queue.Kind.CROSS_FUNCTIONAL, team=team)
    agent = UserFactory(username="ana", role=Role.ASSOCIATE, queues=[front_line])
    specialist = UserFactory(username="eng", role=Role.SPECIALIST, queues=[engineering])
    lead = UserFactory(username="lead", role=Role.TEAM_LEAD)
    team.leads.add(lead)
    SlaPolicyFactory(queue=front_line, first_response_minutes=60)
    ticket = services.open_ticket(
        requester=RequesterFactory(), queue=front_line, subject="Vídeo não carrega", language="pt"
    )
    return {"ticket": ticket, "agent": agent, "specialist": specialist, "lead": lead, "engineering": engineering}


def test_escalate_and_hand_back_through_the_ticket_page(client, setup):
    ticket, agent, specialist = setup["ticket"], setup["agent"], setup["specialist"]
    client.force_login(agent)
    page = client.get(reverse("ticket", args=[ticket.number]))
    assert page.status_code == 200
    assert b'data-testid="sla-first_response"' in page.content
    assert reverse("ticket_escalate", args=[ticket.number]).encode() in page.content
    response = client.post(
        reverse("ticket_escalate", args=[ticket.number]),
        {"target_queue": "engenharia", "reason": "Erro no player, precisa de engenharia"},
    )
    assert response.status_code == 302
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.requested_by == agent

    client.force_login(specialist)
    assert b"Erro no player" in client.get(reverse("escalation_list")).content
    page = client.get(reverse("ticket", args=[ticket.number]))
    assert page.status_code == 200
    assert reverse("escalation_hand_back", args=[escalation.pk]).encode() in page.content
    response = client.post(reverse("escalation_hand_back", args=[escalation.pk]), {"note": "Corrigido na versão 5.2"})
    assert response.status_code == 302 and response.url == reverse("escalation_list")
    assert client.get(reverse("ticket", args=[ticket.number])).status_code == 404

    client.force_login(agent)
    page = client.get(reverse("ticket", args=[ticket.number]))
    assert "Corrigido na versão 5.2" in page.content.decode()
    assert Notification.objects.filter(user=agent, kind=Notification.Kind.HANDED_BACK).exists()
    assert b"Corrigido" in client.get(reverse("notifications")).content


def test_an_associate_cannot_hand_back(client, setup):
    ticket = setup["ticket"]
    client.force_login(setup["agent"])
    client.post(reverse("ticket_escalate", args=[ticket.number]), {"target_queue": "engenharia", "reason": "Bug"})
    escalation = Escalation.objects.get()
    client.post(reverse("escalation_hand_back", args=[escalation.pk]), {"note": "Resolvi eu mesma"})
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_sla_health_shows_breached_and_at_risk_per_queue_and_compliance(client, setup):
    lead, ticket = setup["lead"], setup["ticket"]
    ticket.queue.team = setup["engineering"].team
    ticket.queue.save()
    other = services.open_ticket(requester=RequesterFactory(), queue=ticket.queue, subject="Outro", language="pt")
    now = timezone.now()
    Ticket.objects.filter(pk=other.pk).update(
        first_response_warn_at=now + timedelta(hours=9), first_response_due_at=now + timedelta(hours=10)
    )
    other.refresh_from_db()
    client.force_login(lead)
    with time_machine.travel(now + timedelta(minutes=50)):
        page = client.get(reverse("sla_health")).content.decode()
    assert 'data-testid="at-risk">1<' in page
    assert 'data-testid="breached">0<' in page
    with time_machine.travel(now + timedelta(minutes=70)):
        sla.on_public_reply(other)
        page = client.get(reverse("sla_health")).content.decode()
    assert 'data-testid="breached">1<' in page
    assert 'data-testid="at-risk">0<' in page
    today = timezone.localtime(now + timedelta(minutes=70)).date()
    row = page[page.index(f'data-testid="day-{today:%Y-%m-%d}"') :]
    assert "1 / 1" in row[:400] and "100%" in row[:400]


def test_sla_health_masks_the_subject_of_a_flagged_ticket_as_a_ticket_list_does(client, setup):
    from tickets.wellbeing import services as wellbeing

    lead, ticket = setup["lead"], setup["ticket"]
    ticket.queue.team = setup["engineering"].team
    ticket.queue.save()
    flagged = services.open_ticket(
        requester=RequesterFactory(), queue=ticket.queue, subject="Não aguento mais, quero sumir", language="pt"
    )
    wellbeing.flag_ticket(flagged, ["self_harm"])
    now = timezone.now()
    Ticket.objects.filter(pk=flagged.pk).update(
        first_response_warn_at=now - timedelta(hours=2), first_response_due_at=now - timedelta(hours=1)
    )
    client.force_login(lead)
    page = client.get(reverse("sla_health")).content.decode()
    row = page[page.index(f'data-href="{reverse("ticket", args=[flagged.number])}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="masked-subject"' in row
    assert "quero sumir" not in page


def test_sla_health_is_for_team_leads_and_admins(client, setup):
    client.force_login(setup["agent"])
    assert client.get(reverse("sla_health")).status_code == 404
    assert b"SLA health" not in client.get(reverse("escalation_list")).content


def test_escalate_and_hand_back_through_the_api(client, setup):
    ticket = setup["ticket"]
    client.force_login(setup["agent"])
    response = client.post(
        "/api/v1/escalations/",
        {"ticket": ticket.number, "target_queue": "engenharia", "reason": "Bug no upload"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    escalation_id = response.json()["id"]
    again = client.post(
        "/api/v1/escalations/",
        {"ticket": ticket.number, "target_queue": "engenharia", "reason": "De novo"},
        content_type="application/json",
    )
    assert again.status_code == 400
    denied = client.post(
        f"/api/v1/escalations/{escalation_id}/hand_back/", {"note": "x"}, content_type="application/json"
    )
    assert denied.status_code == 403

    client.force_login(setup["specialist"])
    listed = client.get("/api/v1/escalations/?status=open").json()["results"]
    assert [e["ticket"] for e in listed] == [ticket.number]
    handed = client.post(
        f"/api/v1/escalations/{escalation_id}/hand_back/", {"note": "Corrigido"}, content_type="application/json"
    )
    assert handed.status_code == 200 and handed.json()["status"] == "handed_back"
    assert ticket.messages.filter(direction=Message.Direction.NOTE, body_text="Corrigido").exists()


def test_sla_policies_api_is_read_for_leads_and_write_for_admins(client, setup):
    payload = {
        "name": "Urgente",
        "queue": "suporte",
        "priority": Ticket.Priority.URGENT,
        "first_response_minutes": 30,
        "business_hours": {"mon": [["09:00", "18:00"]]},
        "holidays": ["2025-12-25"],
    }
    client.force_login(setup["lead"])
    assert client.get("/api/v1/sla-policies/").status_code == 200
    assert client.post("/api/v1/sla-policies/", payload, content_type="application/json").status_code == 403
    client.force_login(setup["agent"])
    assert client.get("/api/v1/sla-policies/").status_code == 403
    admin = UserFactory(username="root", role=Role.ADMIN)
    client.force_login(admin)
    bad = client.post(
        "/api/v1/sla-policies/",
        {**payload, "business_hours": {"mon": [["18:00", "09:00"]]}},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert client.post("/api/v1/sla-policies/", payload, content_type="application/json").status_code == 201
    assert SlaPolicy.objects.get(name="Urgente").business_hours == {"mon": [["09:00", "18:00"]]}
    rule = client.post(
        "/api/v1/escalation-rules/",
        {
            "name": "Breach → Engenharia",
            "trigger": "sla_breach",
            "queues": ["suporte"],
            "escalate_to_queue": "engenharia",
        },
        content_type="application/json",
    )
    assert rule.status_code == 201, rule.content
