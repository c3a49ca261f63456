"""A macro does only what its user may do by hand, and its actions and the reply are one transaction:
the queue-move check applies when the macro is saved and again when it is applied (page and API), a
refused action refuses the reply, and mail (reply, satisfaction survey) goes out only after the commit,
for the final status."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from metrics.models import CsatSurvey
from sop import services
from sop.models import Macro
from tests.factories import MacroFactory, QueueFactory
from tickets.models import Message, Queue, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def trust_and_safety(settings):
    return QueueFactory(
        slug=settings.ACOLHE_TRUST_SAFETY_QUEUE, name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL
    )


def _reply(client, ticket, **data):
    return client.post(
        reverse("ticket_reply", args=[ticket.number]), {"mode": "reply", "body": "Oi!", "confirmed": "1", **data}
    )


def test_an_associate_cannot_save_a_macro_that_moves_tickets_to_a_queue_they_do_not_work_in(
    client, maria, trust_and_safety
):
    client.force_login(maria)
    response = client.post(
        reverse("sop:macro_new"), {"name": "Empurrar", "body_pt": "Oi", "set_queue": trust_and_safety.pk}
    )
    assert response.status_code == 200
    assert not Macro.objects.exists()
    with pytest.raises(ValidationError):
        services.save_macro(None, actor=maria, shared=False, name="Empurrar", body_pt="Oi", set_queue=trust_and_safety)
    assert not Macro.objects.exists()


def test_the_macros_api_refuses_a_queue_the_author_does_not_work_in(client, maria, trust_and_safety):
    client.force_login(maria)
    response = client.post(
        "/api/v1/macros/",
        {"name": "Empurrar", "body_pt": "Oi", "body_en": "", "set_queue": trust_and_safety.slug},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Trust & Safety" in str(response.json())
    assert not Macro.objects.exists()


def test_a_macro_moving_to_a_queue_the_user_cannot_move_to_refuses_the_whole_reply(
    client, maria, pt_ticket, trust_and_safety, django_capture_on_commit_callbacks
):
    # A shared macro (or one saved before the check existed) is checked against whoever applies it.
    macro = MacroFactory(set_queue=trust_and_safety, set_status=Ticket.Status.PENDING)
    pt_ticket.assignee = maria
    pt_ticket.save()
    client.force_login(maria)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _reply(client, pt_ticket, macro_id=macro.pk)
    assert response.status_code == 302
    pt_ticket.refresh_from_db()
    assert pt_ticket.queue.slug == "suporte" and pt_ticket.assignee == maria
    assert pt_ticket.status == Ticket.Status.NEW
    assert not pt_ticket.messages.exists()
    assert callbacks == [] and mail.outbox == []
    assert Macro.objects.get(pk=macro.pk).usage_count == 0


def test_send_and_solve_with_a_macro_that_sets_pending_sends_no_satisfaction_survey(
    client, maria, pt_ticket, django_capture_on_commit_callbacks
):
    macro = MacroFactory(set_status=Ticket.Status.PENDING, add_tags=["aguardando-documento"])
    client.force_login(maria)
    with django_capture_on_commit_callbacks(execute=True):
        _reply(client, pt_ticket, macro_id=macro.pk, set_status="solved")
    pt_ticket.refresh_from_db()
    assert pt_ticket.status == Ticket.Status.PENDING
    assert pt_ticket.solved_at is None
    assert not CsatSurvey.objects.exists()
    assert not pt_ticket.events.filter(kind=TicketEvent.Kind.STATUS_CHANGED, new_value="solved").exists()
    assert [m.body.splitlines()[0] for m in mail.outbox] == ["Oi!"]
    assert list(pt_ticket.messages.values_list("direction", flat=True)) == [Message.Direction.OUT]


def test_the_api_reply_applies_a_macro_in_the_same_transaction(
    client, maria, pt_ticket, django_capture_on_commit_callbacks
):
    macro = MacroFactory(set_status=Ticket.Status.PENDING, add_tags=["aguardando-documento"])
    client.force_login(maria)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/tickets/{pt_ticket.number}/reply/",
            {"body": "Pode enviar o documento?", "set_status": "solved", "macro": macro.pk},
            content_type="application/json",
        )
    assert response.status_code == 201
    pt_ticket.refresh_from_db()
    assert pt_ticket.status == Ticket.Status.PENDING
    assert "aguardando-documento" in pt_ticket.tags
    assert not CsatSurvey.objects.exists()
    assert pt_ticket.events.filter(kind=TicketEvent.Kind.MACRO_APPLIED).count() == 1


def test_the_api_reply_refuses_a_macro_that_moves_where_the_user_cannot_and_sends_nothing(
    client, maria, pt_ticket, trust_and_safety, django_capture_on_commit_callbacks
):
    macro = MacroFactory(set_queue=trust_and_safety)
    client.force_login(maria)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/tickets/{pt_ticket.number}/reply/",
            {"body": "Oi", "macro": macro.pk},
            content_type="application/json",
        )
    assert response.status_code == 400
    assert "Trust & Safety" in str(response.json())
    pt_ticket.refresh_from_db()
    assert pt_ticket.queue.slug == "suporte"
    assert not pt_ticket.messages.exists() and mail.outbox == []


@pytest.mark.parametrize("macro", ["999999", "abc", "²", -1])
def test_the_api_reply_answers_400_to_an_unknown_macro(client, maria, pt_ticket, macro):
    client.force_login(maria)
    response = client.post(
        f"/api/v1/tickets/{pt_ticket.number}/reply/", {"body": "Oi", "macro": macro}, content_type="application/json"
    )
    assert response.status_code == 400
    assert not pt_ticket.messages.exists()
