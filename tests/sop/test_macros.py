import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sop import services
from sop.models import Macro
from tests.factories import MacroFactory, QueueFactory, TicketFactory, associate
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_macro_fills_variables_in_the_tickets_language(pt_ticket, maria):
    rendered = services.render_macro(MacroFactory(), pt_ticket, actor=maria)
    assert rendered.text == f"Oi, João! Aqui é Maria, sobre o chamado #{pt_ticket.number}."
    assert rendered.language == "pt" and not rendered.fell_back and rendered.missing == []


def test_missing_variable_is_left_in_place_and_reported(suporte, maria):
    ticket = TicketFactory(queue=suporte, requester__name="")
    rendered = services.render_macro(MacroFactory(), ticket, actor=maria)
    assert rendered.text.startswith("Oi, {{ requester.first_name }}! Aqui é Maria")
    assert rendered.missing == ["requester.first_name"]


def test_unknown_names_are_not_evaluated(pt_ticket, maria):
    macro = MacroFactory(body_pt="{{ ticket.requester.email }} {{ agent.password }} {{ ticket.number }}")
    rendered = services.render_macro(macro, pt_ticket, actor=maria)
    assert rendered.text == f"{{{{ ticket.requester.email }}}} {{{{ agent.password }}}} {pt_ticket.number}"
    assert rendered.unknown == ["ticket.requester.email", "agent.password"]


def test_macro_without_a_body_in_the_tickets_language_falls_back_to_the_other(support, maria):
    ticket = TicketFactory(queue=support, language="en", requester__name="Emily Carter")
    rendered = services.render_macro(MacroFactory(body_en="  "), ticket, actor=maria)
    assert rendered.language == "pt" and rendered.fell_back
    assert rendered.text.startswith("Oi, Emily!")


def test_picker_finds_macros_by_name_and_escapes_html(client, suporte, maria):
    ticket = TicketFactory(queue=suporte, requester__name="<script>alert(1)</script> Silva")
    MacroFactory(name="Conta invadida — link seguro")
    MacroFactory(name="Pagamento devolvido")
    client.force_login(maria)
    response = client.get(reverse("sop:macro_search"), {"ticket": ticket.number, "macro_q": "conta link"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Conta invadida" in html and "Pagamento" not in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_picker_offers_shared_and_own_macros_only(client, pt_ticket, maria, suporte):
    other = associate([suporte], username="carla")
    MacroFactory(name="Compartilhada")
    MacroFactory(name="Minha", owner=maria)
    MacroFactory(name="Da Carla", owner=other)
    client.force_login(maria)
    html = client.get(reverse("sop:macro_search"), {"ticket": pt_ticket.number}).content.decode()
    assert "Compartilhada" in html and "Minha" in html and "Da Carla" not in html


def test_picker_refuses_a_ticket_one_cannot_see(client, pt_ticket, support):
    client.force_login(associate([support], username="john"))
    assert client.get(reverse("sop:macro_search"), {"ticket": pt_ticket.number}).status_code == 404


def test_actions_are_applied_on_send_and_usage_counted(pt_ticket, maria, suporte):
    fila = QueueFactory(slug="fila-documentos", languages=["pt", "en"])
    fila.members.add(maria)
    macro = MacroFactory(
        set_status=Ticket.Status.PENDING, set_priority=Ticket.Priority.HIGH, add_tags=["aguardando-documento"],
        set_queue=fila,
    )  # fmt: skip
    result = services.reply_with_macro(
        pt_ticket.number, "Pode enviar o documento?", macro_id=str(macro.pk), actor=maria
    )
    pt_ticket.refresh_from_db()
    macro.refresh_from_db()
    assert pt_ticket.status == Ticket.Status.PENDING
    assert pt_ticket.priority == Ticket.Priority.HIGH
    assert pt_ticket.tags == ["aguardando-documento", "conta-invadida"]
    assert pt_ticket.queue == fila
    assert macro.usage_count == 1 and macro.last_used_at is not None
    kinds = {event.kind for event in result.events}
    assert TicketEvent.Kind.MACRO_APPLIED in kinds and TicketEvent.Kind.QUEUE_CHANGED in kinds
    applied = pt_ticket.events.get(kind=TicketEvent.Kind.MACRO_APPLIED)
    assert applied.new_value == {"macro": macro.pk, "name": macro.name} and applied.actor == maria


@pytest.mark.parametrize("macro_id", [None, ""])
def test_a_reply_without_a_macro_applies_no_macro(pt_ticket, maria, macro_id):
    services.reply_with_macro(pt_ticket.number, "Oi", macro_id=macro_id, actor=maria)
    assert not pt_ticket.events.filter(kind=TicketEvent.Kind.MACRO_APPLIED).exists()


@pytest.mark.parametrize("macro_id", ["abc", "999999", "²"])
def test_an_unknown_macro_refuses_the_reply_with_a_clear_message(pt_ticket, maria, macro_id):
    with pytest.raises(ValidationError, match="macro"):
        services.reply_with_macro(pt_ticket.number, "Oi", macro_id=macro_id, actor=maria)
    assert not pt_ticket.events.exists()
    assert not pt_ticket.messages.exists()


def test_someone_elses_personal_macro_is_not_applied(pt_ticket, maria, suporte):
    macro = MacroFactory(owner=associate([suporte], username="carla"), set_status=Ticket.Status.SOLVED)
    with pytest.raises(ValidationError):
        services.reply_with_macro(pt_ticket.number, "Oi", macro_id=macro.pk, actor=maria)
    pt_ticket.refresh_from_db()
    assert pt_ticket.status == Ticket.Status.NEW
    assert Macro.objects.get(pk=macro.pk).usage_count == 0


def test_reply_sent_with_a_macro_applies_its_actions(client, pt_ticket, maria, django_capture_on_commit_callbacks):
    macro = MacroFactory(set_status=Ticket.Status.PENDING, add_tags=["aguardando-documento"])
    client.force_login(maria)
    page = client.get(reverse("ticket", args=[pt_ticket.number])).content.decode()
    assert 'name="macro_id"' in page and reverse("sop:macro_search") in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("ticket_reply", args=[pt_ticket.number]),
            {"mode": "reply", "body": "Oi, João! Pode enviar o documento?", "macro_id": macro.pk, "confirmed": "1"},
        )
    assert response.status_code == 302
    pt_ticket.refresh_from_db()
    assert pt_ticket.messages.filter(direction="out").exists()
    assert pt_ticket.status == Ticket.Status.PENDING
    assert "aguardando-documento" in pt_ticket.tags
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_associates_keep_personal_macros_and_leads_shared_ones(client, maria, lead):
    client.force_login(maria)
    data = {"name": "Minha saudação", "body_pt": "Oi!", "body_en": "", "add_tags": "", "shared": "on"}
    assert client.post(reverse("sop:macro_new"), data).status_code == 302
    assert Macro.objects.get(name="Minha saudação").owner == maria  # asked for shared, got personal
    client.force_login(lead)
    client.post(reverse("sop:macro_new"), {**data, "name": "Do time"})
    assert Macro.objects.get(name="Do time").is_shared
