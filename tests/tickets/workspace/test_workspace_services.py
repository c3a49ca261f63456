"""Workspace writes: replies, notes, field changes, merges, bulk actions, delivery tracking."""

import base64

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from helpdesk.celery import app as celery_app
from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory, associate
from tickets.email.inbound import process_inbound, store_inbound
from tickets.email.tracking import record_tracking_event
from tickets.models import Message, Role, Ticket, TicketEvent
from tickets.workspace import services

pytestmark = pytest.mark.django_db
Kind = TicketEvent.Kind


@pytest.fixture
def queue():
    return QueueFactory(
        slug="suporte",
        name="Suporte",
        addresses=["suporte@acolhe.example"],
        signatures={"pt": "Equipe Acolhe", "en": "The Acolhe team"},
    )


@pytest.fixture
def ticket(queue):
    ticket = TicketFactory(queue=queue, subject="Não consigo entrar", requester__email="ana@example.com")
    MessageFactory(ticket=ticket, message_id="<first@mail.example.com>", body_text="Minha conta está bloqueada")
    return ticket


@pytest.fixture
def agent(queue):
    return associate([queue], username="bia")


def test_reply_is_emailed_with_threading_headers_tag_and_queue_address(
    ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reply(ticket.number, "Desbloqueamos sua conta.", actor=agent)
    sent = mail.outbox[-1]
    assert sent.to == ["ana@example.com"]
    assert sent.subject == f"[#{ticket.number}] Não consigo entrar"
    assert "suporte@acolhe.example" in sent.from_email
    assert sent.reply_to == ["suporte@acolhe.example"]
    assert sent.extra_headers["In-Reply-To"] == "<first@mail.example.com>"
    assert sent.extra_headers["References"] == "<first@mail.example.com>"
    assert sent.extra_headers["Message-ID"] == result.message.message_id
    assert sent.body.endswith("-- \nEquipe Acolhe")
    result.message.refresh_from_db()
    assert result.message.delivery_status == Message.Delivery.SENT
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.assignee == agent
    assert ticket.first_responded_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.REPLY_SENT, actor=agent).exists()


def test_requester_answer_to_a_reply_lands_on_the_same_ticket(ticket, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reply(ticket.number, "Pode tentar de novo?", actor=agent)
    sent = mail.outbox[-1]
    # What a real mail client sends back: Re: subject, In-Reply-To and References to our Message-ID.
    raw = (
        "From: Ana <ana@example.com>\r\n"
        "To: suporte@acolhe.example\r\n"
        f"Subject: Re: {sent.subject}\r\n"
        "Message-ID: <answer@mail.example.com>\r\n"
        f"In-Reply-To: {result.message.message_id}\r\n"
        f"References: <first@mail.example.com> {result.message.message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Funcionou, obrigada!\r\n"
    ).encode()
    inbound, _ = store_inbound(raw, esp="test", enqueue=False)
    process_inbound(inbound.pk)
    inbound.refresh_from_db()
    assert inbound.ticket_id == ticket.pk
    assert ticket.messages.filter(message_id="<answer@mail.example.com>", direction="in").exists()


def test_send_and_solve_sets_status_in_the_same_step(ticket, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket.number, "Resolvido.", set_status=Ticket.Status.SOLVED, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
    assert ticket.solved_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.STATUS_CHANGED, new_value="solved").exists()


def test_internal_note_is_never_emailed(ticket, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reply(ticket.number, "Usuária já escreveu antes.", internal=True, actor=agent)
    assert mail.outbox == []
    assert result.message.direction == Message.Direction.NOTE
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.NOTE_ADDED).exists()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_reply_on_a_ticket_in_another_queue_is_denied(ticket):
    outsider = associate([QueueFactory(slug="outra")], username="carlos")
    with pytest.raises(PermissionDenied):
        services.reply(ticket.number, "Oi", actor=outsider)
    assert not ticket.messages.filter(direction="out").exists()


def test_reply_after_someone_else_replied_asks_for_confirmation(
    ticket, agent, queue, django_capture_on_commit_callbacks
):
    seen = ticket.messages.latest("id").pk
    colleague = associate([queue], username="davi")
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket.number, "Já respondi.", actor=colleague)
    with pytest.raises(services.ReplyConflict) as conflict:
        services.reply(ticket.number, "Eu também.", seen_message_id=seen, actor=agent)
    assert [m.author for m in conflict.value.messages] == [colleague]
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket.number, "Eu também.", seen_message_id=seen, confirmed=True, actor=agent)
    assert ticket.messages.filter(direction="out").count() == 2


def test_a_failing_send_ends_visibly_failed_and_can_be_resent(
    ticket, agent, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # Eager tasks run their retries in-process only when errors are not propagated.
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    # The ESP is unreachable: nothing listens on this port.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reply(ticket.number, "Olá", actor=agent)
    result.message.refresh_from_db()
    assert result.message.delivery_status == Message.Delivery.FAILED
    assert result.message.delivery_error
    assert "ConnectionRefusedError" in result.message.delivery_error
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.resend(result.message.pk, actor=agent)
    result.message.refresh_from_db()
    assert result.message.delivery_status == Message.Delivery.SENT
    assert len(mail.outbox) == 1


def test_tracking_events_record_delivered_and_a_later_delivered_does_not_hide_a_bounce(ticket):
    message = MessageFactory(ticket=ticket, direction="out", delivery_status="sent", esp_message_id="esp-1")
    record_tracking_event("esp-1", "delivered")
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.DELIVERED
    record_tracking_event("esp-1", "bounced", "mailbox full")
    record_tracking_event("esp-1", "delivered")
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_error) == ("bounced", "mailbox full")
    record_tracking_event("esp-1", "complained")
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.COMPLAINED
    assert ticket.events.filter(kind=Kind.DELIVERY_CHANGED).count() == 3


def test_field_changes_are_logged_one_event_each(ticket, agent):
    services.update_fields(ticket.number, priority=Ticket.Priority.URGENT, tags=["Conta", "bloqueio"], actor=agent)
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {Kind.PRIORITY_CHANGED, Kind.TAGS_CHANGED} <= kinds
    ticket.refresh_from_db()
    assert ticket.tags == ["bloqueio", "conta"]


def test_moving_to_a_queue_the_associate_is_not_in_is_denied(ticket, agent):
    other = QueueFactory(slug="trust-safety")
    with pytest.raises(PermissionDenied):
        services.update_fields(ticket.number, queue=other, actor=agent)


def test_assigning_to_someone_outside_the_queue_is_refused(ticket, agent):
    stranger = associate([QueueFactory(slug="vendas")], username="edu")
    with pytest.raises(ValidationError):
        services.update_fields(ticket.number, assignee=stranger, actor=agent)


def test_team_lead_sees_and_moves_within_led_queues(ticket, queue):
    lead = UserFactory(username="lead", role=Role.ADMIN)
    other = QueueFactory(slug="escalations")
    services.update_fields(ticket.number, queue=other, actor=lead)
    ticket.refresh_from_db()
    assert ticket.queue == other


def test_merge_moves_messages_closes_the_duplicate_and_tells_the_requester(
    ticket, agent, queue, django_capture_on_commit_callbacks
):
    duplicate = TicketFactory(queue=queue, requester__email="ana.2@example.com", language="pt")
    MessageFactory(ticket=duplicate, body_text="De novo: não entro")
    with django_capture_on_commit_callbacks(execute=True):
        target = services.merge(duplicate.number, ticket.number, actor=agent)
    duplicate.refresh_from_db()
    assert target == ticket
    assert duplicate.merged_into == ticket
    assert duplicate.status == Ticket.Status.CLOSED
    # Only the notice stays on the duplicate: it answers its requester on their own thread.
    assert list(duplicate.messages.values_list("direction", flat=True)) == [Message.Direction.OUT]
    assert ticket.messages.filter(body_text="De novo: não entro").exists()
    notice = mail.outbox[-1]
    assert notice.to == ["ana.2@example.com"]
    # Another requester's ticket: the notice names only the recipient's own.
    assert f"#{duplicate.number}" in notice.body and f"#{ticket.number}" not in notice.body
    assert ticket.events.filter(kind=Kind.MERGED).exists() and duplicate.events.filter(kind=Kind.MERGED).exists()


def test_merge_into_a_ticket_of_another_queue_is_denied(ticket, agent):
    foreign = TicketFactory(queue=QueueFactory(slug="financeiro"))
    with pytest.raises(PermissionDenied):
        services.merge(ticket.number, foreign.number, actor=agent)
    ticket.refresh_from_db()
    assert ticket.merged_into is None


def test_bulk_update_applies_to_all_or_refuses_the_whole_batch(queue, agent):
    mine = TicketFactory.create_batch(3, queue=queue)
    count = services.bulk_update([t.number for t in mine], add_tag="campanha", actor=agent)
    assert count == 3
    assert all(t.tags == ["campanha"] for t in Ticket.objects.filter(pk__in=[t.pk for t in mine]))
    foreign = TicketFactory(queue=QueueFactory(slug="juridico"))
    with pytest.raises(PermissionDenied):
        services.bulk_update([mine[0].number, foreign.number], status="solved", actor=agent)
    assert Ticket.objects.get(pk=mine[0].pk).status == Ticket.Status.NEW


def test_esp_tracking_webhook_marks_a_reply_delivered_then_bounced(ticket, client, settings):
    settings.ACOLHE_INBOUND_ESPS = ["postmark"]
    message = MessageFactory(ticket=ticket, direction="out", delivery_status="sent", esp_message_id="pm-42")
    auth = "Basic " + base64.b64encode(b"hook-user:hook-password").decode()
    url = "/anymail/postmark/tracking/"
    delivery = {"RecordType": "Delivery", "MessageID": "pm-42", "Recipient": "ana@example.com",
                "DeliveredAt": "2026-01-05T12:00:00Z", "Details": "", "Tag": "", "Metadata": {}}  # fmt: skip
    assert client.post(url, delivery, content_type="application/json", HTTP_AUTHORIZATION=auth).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.DELIVERED
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "MessageID": "pm-42",
              "Email": "ana@example.com", "Description": "The mailbox does not exist", "Details": "",
              "BouncedAt": "2026-01-05T12:01:00Z", "Tag": "", "Metadata": {}}  # fmt: skip
    assert client.post(url, bounce, content_type="application/json", HTTP_AUTHORIZATION=auth).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.BOUNCED


def test_a_file_sent_with_a_reply_is_kept_up_to_the_one_attachment_limit_and_refused_above_it(
    ticket, agent, settings, django_capture_on_commit_callbacks
):
    settings.ACOLHE_MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
    fits = SimpleUploadedFile("registro.txt", b"x" * (2 * 1024 * 1024), content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reply(ticket.number, "Segue o registro.", actor=agent, uploads=[fits])
    [kept] = result.message.attachments.all()
    assert kept.size == 2 * 1024 * 1024 and kept.file and not kept.omitted_reason

    too_large = SimpleUploadedFile("video.mp4", b"x" * (2 * 1024 * 1024 + 1), content_type="video/mp4")
    with translation.override("en"), pytest.raises(ValidationError, match=r"video\.mp4 is larger than 2 MB"):
        services.reply(ticket.number, "Segue o vídeo.", actor=agent, uploads=[too_large])
    assert not Message.objects.filter(body_text__startswith="Segue o vídeo").exists()
