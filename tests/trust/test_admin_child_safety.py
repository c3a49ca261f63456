"""Admins and child safety (docs/wellbeing.md): reading child-safety content needs Trust & Safety (the
specialist group, or membership of the Trust & Safety queue it is escalated to). Admins manage the
structure: in the admin they see that such a ticket exists, subject masked, and each opening is logged."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory
from tickets import selectors
from tickets.models import Attachment, Role, SensitiveAccessLog
from tickets.wellbeing import services as wellbeing
from tickets.workspace import search

pytestmark = pytest.mark.django_db

SUBJECT = "assunto-sigiloso-8812"
BODY = "corpo-sigiloso-8812 relato"


@pytest.fixture
def admin():
    return UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def report(suporte, trust_and_safety):
    ticket = TicketFactory(queue=suporte, subject=SUBJECT)
    message = MessageFactory(ticket=ticket, body_text=BODY)
    attachment = Attachment(message=message, filename="prova.png", content_type="image/png", size=4, sha256="1" * 64)
    attachment.file.save("prova", ContentFile(b"\x89PNG"), save=True)
    wellbeing.flag_ticket(ticket, ["child_safety"])
    ticket.refresh_from_db()
    return ticket


def test_an_admin_outside_trust_and_safety_does_not_read_child_safety_content(report, admin, client):
    attachment = Attachment.objects.get(message__ticket=report)
    assert selectors.ticket_for(admin, report.number) is None
    assert selectors.attachment_for(admin, attachment.pk) is None
    assert search.search_tickets(admin, "corpo-sigiloso-8812")[0] == []

    client.force_login(admin)
    assert client.get(reverse("ticket", args=[report.number])).status_code == 404
    assert client.get(reverse("attachment", args=[attachment.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(admin)
    assert api.get(f"/api/v1/tickets/{report.number}/").status_code == 404


def test_an_admin_outside_trust_and_safety_cannot_clear_a_child_safety_flag(report, admin):
    with pytest.raises(PermissionDenied):
        wellbeing.clear_flag(report.number, "child_safety", actor=admin)
    report.refresh_from_db()
    assert "child_safety" in report.sensitivity


def test_the_admin_shows_that_the_ticket_exists_masked_and_logs_each_opening(report, admin, client):
    client.force_login(admin)
    listing = client.get(reverse("admin:tickets_ticket_changelist")).content.decode()
    assert f">{report.number}<" in listing
    assert SUBJECT not in listing

    page = client.get(reverse("admin:tickets_ticket_change", args=[report.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert SUBJECT not in content and "corpo-sigiloso" not in content
    assert SensitiveAccessLog.objects.filter(user=admin, ticket=report, detail__startswith="admin").count() == 1

    # A subject search cannot tell what the masked subject says.
    assert (
        f">{report.number}<"
        not in client.get(reverse("admin:tickets_ticket_changelist"), {"q": "assunto-sigiloso"}).content.decode()
    )
    for name in ["message", "inboundemail", "ticketevent", "escalation", "notification"]:
        page = client.get(reverse(f"admin:tickets_{name}_changelist")).content.decode()
        assert "corpo-sigiloso" not in page and SUBJECT not in page, name
    assert "corpo-sigiloso" not in client.get(reverse("admin:tickets_message_changelist"), {"q": ""}).content.decode()


def test_the_admin_can_still_lift_the_legal_hold_without_reading_the_ticket(report, admin, client):
    client.force_login(admin)
    page = client.get(reverse("admin:tickets_ticket_change", args=[report.pk]))
    form = page.context["adminform"].form
    assert "subject" not in form.fields and "legal_hold" in form.fields


def test_an_admin_in_the_specialist_group_reads_it(report, client):
    admin = UserFactory(username="root-ts", role=Role.ADMIN, is_staff=True)
    admin.groups.add(*UserFactory(username="x", role=Role.SPECIALIST).groups.all())
    admin = type(admin).objects.get(pk=admin.pk)
    assert selectors.ticket_for(admin, report.number) is not None


def test_admins_still_see_every_ordinary_ticket(suporte, admin):
    ordinary = TicketFactory(queue=QueueFactory(slug="financeiro"), subject="Boleto")
    assert selectors.ticket_for(admin, ordinary.number) is not None


def test_an_admin_outside_trust_and_safety_cannot_hand_back_a_child_safety_escalation(report, admin):
    from tickets.escalations import selectors as escalation_selectors
    from tickets.escalations import services as escalations
    from tickets.models import Escalation

    escalation = report.escalations.get(status=Escalation.Status.OPEN)
    assert not escalation_selectors.can_hand_back(admin, escalation)
    with pytest.raises(PermissionDenied):
        escalations.hand_back(escalation.pk, actor=admin, note="ok")
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_the_escalation_list_leaves_out_child_safety_escalations_for_an_admin_outside_trust_and_safety(
    report, admin, suporte, trust_and_safety, client
):
    from tickets.escalations import selectors as escalation_selectors
    from tickets.escalations import services as escalations

    ordinary = TicketFactory(queue=suporte, subject="Conta invadida")
    escalations.escalate(ordinary, target_queue=trust_and_safety, reason="razao-comum")
    listed = set(escalation_selectors.open_escalations_for_specialist(admin).values_list("ticket__number", flat=True))
    assert listed == {ordinary.number}
    client.force_login(admin)
    page = client.get(reverse("escalation_list")).content.decode()
    reason = report.escalations.get().reason
    assert "razao-comum" in page and reason not in page
    assert f"/tickets/{report.number}/" not in page


def test_an_admin_outside_trust_and_safety_cannot_export_a_child_safety_report(report, admin, client):
    from tickets.privacy import services as privacy

    with pytest.raises(PermissionDenied):
        privacy.export_requester(report.requester, actor=admin)
    client.force_login(admin)
    response = client.post(
        reverse("admin:tickets_requester_changelist"),
        {"action": "export_personal_data", "_selected_action": [report.requester.pk]},
        follow=True,
    )
    assert response["Content-Type"].startswith("text/html")
    assert f"#{report.number}" in response.content.decode()
    # Trust & Safety can.
    specialist = UserFactory(username="tessa", role=Role.SPECIALIST, queues=[report.queue])
    assert privacy.export_requester(report.requester, actor=specialist)[:2] == b"PK"
