"""The timeline reads as sentences in the reader's language, and system-written texts (escalation reasons,
notices) follow the reader's language, not the writer's."""

import html
import re

import pytest
from django.utils import translation

from tests.factories import (
    EscalationRuleFactory,
    ProfileFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
    associate,
)
from tickets import services
from tickets.escalations import services as escalations
from tickets.models import Escalation, Notification, Queue, Role, Ticket, TicketEvent
from tickets.wellbeing import services as wellbeing
from tickets.wellbeing.services import CHILD_SAFETY_RULE_NAME
from tickets.workspace.timeline import sentence

pytestmark = pytest.mark.django_db
PYTHON_LITERALS = re.compile(r"\[\]|\{'|\bNone\b|→|\['")


@pytest.fixture
def suporte():
    return QueueFactory(slug="suporte", name="Suporte", languages=["pt"])


@pytest.fixture
def trust_and_safety(settings):
    settings.ACOLHE_TRUST_SAFETY_QUEUE = "trust-safety"
    return QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)


def text_of(event: TicketEvent, language: str) -> str:
    with translation.override(language):
        return html.unescape(re.sub(r"<[^>]+>", "", str(sentence(event))))


def latest(ticket: Ticket, kind: str) -> TicketEvent:
    return ticket.events.filter(kind=kind).select_related("actor").latest("id")


def test_a_status_change_reads_as_a_sentence_with_labels_in_each_language(suporte):
    ana = associate([suporte], username="ana.souza", first_name="Ana", last_name="Souza")
    ticket = TicketFactory(queue=suporte, status=Ticket.Status.OPEN)
    services.update_ticket(ticket, actor=ana, status=Ticket.Status.PENDING)
    event = latest(ticket, TicketEvent.Kind.STATUS_CHANGED)

    assert text_of(event, "pt-br") == "Ana Souza mudou o status de Aberto para Pendente"
    assert text_of(event, "en") == "Ana Souza changed the status from Open to Pending"


def test_assignment_priority_queue_and_tags_never_show_stored_values(suporte):
    ana = associate([suporte], username="ana.souza", first_name="Ana", last_name="Souza")
    other = QueueFactory(slug="support", name="Support (English)")
    ticket = TicketFactory(queue=suporte, priority=Ticket.Priority.NORMAL)
    services.update_ticket(ticket, actor=ana, assignee=ana)
    services.update_ticket(ticket, actor=ana, priority=Ticket.Priority.URGENT, tags=["pagamento"])
    services.update_ticket(ticket, actor=ana, queue=other, tags=[])

    texts = [text_of(event, "en") for event in ticket.events.select_related("actor")]
    assert "Ana Souza took the ticket" in texts
    assert "Ana Souza changed the priority from Normal to Urgent" in texts
    assert "Ana Souza added the tags pagamento" in texts
    assert "Ana Souza removed the tags pagamento" in texts
    assert "Ana Souza moved the ticket from Suporte to Support (English)" in texts
    assert not [text for text in texts if PYTHON_LITERALS.search(text)]


def test_the_scanner_flag_and_its_escalation_read_in_the_readers_language(suporte, trust_and_safety):
    ticket = TicketFactory(queue=suporte)
    with translation.override("pt-br"):  # the worker writes in Portuguese
        wellbeing.flag_ticket(ticket, ["self_harm", "child_safety"])

    flagged = latest(ticket, TicketEvent.Kind.SENSITIVITY_FLAGGED)
    assert text_of(flagged, "pt-br") == "O detector marcou: automutilação ou suicídio, segurança infantil"
    assert text_of(flagged, "en") == "The scanner flagged: self-harm or suicide, child safety"
    escalated = latest(ticket, TicketEvent.Kind.ESCALATED)
    # The built-in child-safety rule escalates it, and the timeline names the rule in the reader's language.
    assert text_of(escalated, "en") == "Escalated to Trust & Safety by the rule “Child-safety content → Trust & Safety”"
    assert text_of(escalated, "pt-br") == (
        "Escalado para Trust & Safety pela regra “Conteúdo de segurança infantil → Trust & Safety”"
    )
    # So does the event of the rule being applied.
    fired = latest(ticket, TicketEvent.Kind.RULE_FIRED)
    assert text_of(fired, "en").startswith("The rule “Child-safety content → Trust & Safety” applied")
    assert text_of(fired, "pt-br").startswith("A regra “Conteúdo de segurança infantil → Trust & Safety” foi aplicada")
    escalation = Escalation.objects.get(ticket=ticket)
    with translation.override("en"):
        assert escalation.display_reason == "Escalation rule “Child-safety content → Trust & Safety”"
    with translation.override("pt-br"):
        assert escalation.display_reason.endswith("“Conteúdo de segurança infantil → Trust & Safety”")


def test_an_escalation_by_rule_names_the_rule(suporte, trust_and_safety):
    EscalationRuleFactory(
        name="Conteúdo infantil",
        trigger="sensitive_content",
        sensitivity=["child_safety"],
        escalate_to_queue=trust_and_safety,
    )
    ticket = TicketFactory(queue=suporte)
    wellbeing.flag_ticket(ticket, ["child_safety"])

    event = latest(ticket, TicketEvent.Kind.ESCALATED)
    assert text_of(event, "pt-br") == "Escalado para Trust & Safety pela regra “Conteúdo infantil”"
    assert text_of(event, "en") == "Escalated to Trust & Safety by the rule “Conteúdo infantil”"


def test_a_hand_back_notice_follows_the_readers_language_of_the_moment(suporte):
    security = QueueFactory(slug="account-security", name="Account Security", kind=Queue.Kind.CROSS_FUNCTIONAL)
    ana = associate([suporte], username="ana")
    specialist = UserFactory(username="sergio")
    security.members.add(specialist)
    ticket = TicketFactory(queue=suporte, assignee=ana)
    escalation = escalations.escalate(ticket, target_queue=security, reason="Conta invadida", actor=ana)
    escalations.hand_back(escalation.pk, actor=specialist, note="Sessões encerradas.")

    notice = Notification.objects.get(user=ana, kind=Notification.Kind.HANDED_BACK)
    with translation.override("en"):
        assert notice.display_text == f"Account Security handed ticket #{ticket.number} back: Sessões encerradas."
    with translation.override("pt-br"):
        assert notice.display_text.startswith(f"Account Security devolveu o chamado #{ticket.number}")


def test_a_rule_notice_names_a_built_in_rule_in_the_leads_language(
    suporte, django_capture_on_commit_callbacks, mailoutbox
):
    """A rule that tells the lead without escalating sends "Rule … applied"; the built-in rule's name is stored
    in English and reaches a Portuguese lead in Portuguese, in the page's notice and in the mail."""
    lead = UserFactory(username="lia", role=Role.TEAM_LEAD, queues=[suporte])
    ProfileFactory(user=lead, ui_language="pt-br")
    rule = EscalationRuleFactory(
        name=CHILD_SAFETY_RULE_NAME, trigger="sensitive_content", sensitivity=["self_harm"], notify_team_lead=True
    )
    assert rule.escalate_to_queue is None
    ticket = TicketFactory(queue=suporte)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        wellbeing.flag_ticket(ticket, ["self_harm"])

    notice = Notification.objects.get(user=lead, code="notice_rule_applied")
    in_portuguese = f"Regra “Conteúdo de segurança infantil → Trust & Safety” aplicada ao chamado #{ticket.number}"
    assert notice.text == in_portuguese  # as written for the lead
    assert [in_portuguese in mail.body for mail in mailoutbox if lead.email in mail.to] == [True]
    with translation.override("pt-br"):
        assert notice.display_text == in_portuguese
    with translation.override("en"):
        assert notice.display_text == f"Rule “Child-safety content → Trust & Safety” applied to ticket #{ticket.number}"


def test_an_old_row_without_a_code_shows_its_stored_text(suporte):
    user = UserFactory()
    notice = Notification.objects.create(user=user, kind=Notification.Kind.SLA, text="Texto antigo")
    assert notice.display_text == "Texto antigo"


def test_an_event_of_an_unknown_shape_falls_back_to_its_label(suporte):
    ticket = TicketFactory(queue=suporte)
    event = services.record_event(ticket, TicketEvent.Kind.MERGED, new={"something": ["else"]})
    assert text_of(event, "en") == "Merged"


def test_the_timeline_page_has_no_python_literals(client, suporte):
    ana = associate([suporte], username="ana", first_name="Ana", last_name="Souza")
    ticket = TicketFactory(queue=suporte, status=Ticket.Status.NEW)
    services.update_ticket(ticket, actor=ana, status=Ticket.Status.OPEN, tags=["a", "b"], assignee=ana)
    client.force_login(ana)

    page = client.get(f"/tickets/{ticket.number}/timeline/", HTTP_ACCEPT_LANGUAGE="en")
    text = re.sub(r"<[^>]+>", "", page.content.decode())
    assert page.status_code == 200
    assert "Ana Souza changed the status from New to Open" in text
    assert not PYTHON_LITERALS.search(text)
