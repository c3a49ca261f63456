"""The mail-in pipeline, case by case: threading, reopening, routing, limits, the loop guard."""

import mailbox
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import time_machine
from anymail.signals import inbound as anymail_inbound
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from tests.factories import QueueFactory
from tests.fixtures.mail.big_attachment import build_big_attachment_email
from tickets import services
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import InboundEmail, Message, Ticket

pytestmark = pytest.mark.django_db

PT_BODY = "Olá, não consigo acessar minha conta desde ontem. Já tentei trocar a senha, mas o código não chega."
EN_BODY = "Hello, I cannot log into my account since yesterday. I tried resetting my password but no code arrives."


@pytest.fixture
def suporte():
    return QueueFactory(
        slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True, auto_acknowledge=True
    )


@pytest.fixture
def support():
    return QueueFactory(slug="support", languages=["en"], addresses=["support@acolhe.example"])


def make_mail(body=PT_BODY, *, subject="Conta bloqueada", sender="Paula Reis <paula@example.com>",
              to="suporte@acolhe.example", message_id=None, in_reply_to=None, headers=None) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def deliver(raw: bytes) -> InboundEmail:
    inbound, _ = store_inbound(raw, esp="test", enqueue=False)
    return process_inbound(inbound.pk)


def test_new_mail_opens_a_ticket_in_the_queue_of_its_address_and_language(suporte, support):
    inbound = deliver(make_mail(EN_BODY, to="support@acolhe.example", subject="Locked out"))
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert (ticket.queue, ticket.language, ticket.status) == (support, "en", "new")
    assert ticket.requester.language == "en"


def test_address_shared_by_two_queues_is_split_by_language(suporte):
    english = QueueFactory(slug="support", languages=["en"], addresses=["suporte@acolhe.example"])
    assert Ticket.objects.get(pk=deliver(make_mail(EN_BODY)).ticket_id).queue == english
    assert Ticket.objects.get(pk=deliver(make_mail(PT_BODY)).ticket_id).queue == suporte


def test_mail_to_an_unknown_address_lands_in_the_queue_of_its_language(suporte, support):
    english = deliver(make_mail(EN_BODY, to="help@elsewhere.example"))
    portuguese = deliver(make_mail(PT_BODY, to="help@elsewhere.example"))
    assert Ticket.objects.get(pk=english.ticket_id).queue == support
    assert Ticket.objects.get(pk=portuguese.ticket_id).queue == suporte


def test_the_address_decides_before_the_language(suporte, support):
    inbound = deliver(make_mail(EN_BODY, to="suporte@acolhe.example"))
    assert Ticket.objects.get(pk=inbound.ticket_id).queue == suporte


def test_a_cross_functional_queue_never_takes_mail_by_its_language(suporte):
    QueueFactory(slug="legal", kind="cross_functional", languages=["en"], addresses=["legal@acolhe.example"])
    inbound = deliver(make_mail(EN_BODY, to="help@elsewhere.example"))
    assert Ticket.objects.get(pk=inbound.ticket_id).queue == suporte


def test_mail_to_an_unknown_address_in_a_language_no_queue_takes_lands_in_the_default_queue(suporte):
    inbound = deliver(make_mail(EN_BODY, to="help@elsewhere.example"))
    assert Ticket.objects.get(pk=inbound.ticket_id).queue == suporte


def test_reply_to_our_mail_threads_by_in_reply_to(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail()).ticket_id)
    ours = ticket.messages.get(direction="out")  # the acknowledgement
    reply = deliver(make_mail("Obrigada, consegui entrar.", subject="Re: outra coisa", in_reply_to=ours.message_id))
    assert reply.ticket_id == ticket.pk
    assert ticket.messages.filter(direction="in").count() == 2


def test_reply_with_only_the_subject_tag_threads_when_the_sender_is_the_requester(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail()).ticket_id)
    same = deliver(make_mail("Mais uma informação.", subject=f"RES: {ticket.tag} Conta bloqueada"))
    stranger = deliver(make_mail("Oi", subject=f"RES: {ticket.tag} x", sender="Outra <outra@example.com>"))
    assert same.ticket_id == ticket.pk
    assert stranger.ticket_id != ticket.pk


def test_reply_prefixes_in_both_languages_match_an_open_ticket_by_subject(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail(subject="Pagamento não caiu")).ticket_id)
    for prefix in ["Re:", "RES:", "ENC:", "Fwd: RE:"]:
        inbound = deliver(make_mail("Alguma novidade?", subject=f"{prefix} Pagamento não caiu"))
        assert inbound.ticket_id == ticket.pk, prefix


def test_reply_to_a_solved_ticket_reopens_it(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail()).ticket_id)
    services.update_ticket(ticket, actor=None, status=Ticket.Status.SOLVED)
    deliver(make_mail("Voltou a acontecer.", subject=f"Re: {ticket.tag} Conta bloqueada"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.events.filter(kind="reopened").count() == 1


def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail()).ticket_id)
    services.update_ticket(ticket, actor=None, status=Ticket.Status.CLOSED)
    inbound = deliver(make_mail("De novo!", subject=f"Re: {ticket.tag} Conta bloqueada"))
    follow_up = Ticket.objects.get(pk=inbound.ticket_id)
    assert follow_up != ticket
    assert follow_up.follow_up_of == ticket
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_reply_processed_before_its_parent_still_lands_on_the_parents_ticket(suporte):
    parent_id = make_msgid(domain="example.com")
    parent = make_mail(message_id=parent_id)
    child = make_mail("Esqueci de dizer: meu usuário é @paula.", subject="Re: Conta bloqueada", in_reply_to=parent_id)
    stored_parent, _ = store_inbound(parent, esp="test", enqueue=False)
    stored_child, _ = store_inbound(child, esp="test", enqueue=False)
    process_inbound(stored_child.pk)  # the child first: out-of-order delivery
    process_inbound(stored_parent.pk)  # a no-op by now
    stored_parent.refresh_from_db()
    stored_child.refresh_from_db()
    assert stored_parent.ticket_id == stored_child.ticket_id
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 2


def test_parent_arriving_after_its_reply_joins_the_replys_ticket(suporte):
    parent_id = make_msgid(domain="example.com")
    child = deliver(make_mail("Complemento.", subject="Re: Conta bloqueada", in_reply_to=parent_id))
    parent = deliver(make_mail(message_id=parent_id, subject="Assunto diferente"))
    assert parent.ticket_id == child.ticket_id


def test_same_message_id_twice_is_one_message(suporte):
    raw = make_mail(message_id="<same@example.com>")
    first, created = store_inbound(raw, esp="test", enqueue=False)
    again, created_again = store_inbound(raw, esp="test", enqueue=False)
    assert created and not created_again
    assert first.pk == again.pk


def test_mail_without_message_id_is_deduplicated_by_its_bytes(suporte):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "suporte@acolhe.example", "Oi"
    message.set_content(PT_BODY)
    raw = message.as_bytes()
    first, _ = store_inbound(raw, esp="test", enqueue=False)
    _, created = store_inbound(raw, esp="test", enqueue=False)
    assert not created
    assert first.dedupe_key.startswith("sha256:")


def test_processing_twice_changes_nothing(suporte):
    inbound = deliver(make_mail())
    process_inbound(inbound.pk)
    assert Message.objects.filter(direction="in").count() == 1
    assert Ticket.objects.count() == 1


def test_a_thirty_megabyte_attachment_is_replaced_by_a_note_and_the_mail_kept(suporte, settings):
    settings.ACOLHE_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
    raw = build_big_attachment_email()
    assert len(raw) > 30 * 1024 * 1024
    inbound = deliver(raw)
    assert inbound.status == "processed"
    assert len(bytes(InboundEmail.objects.get(pk=inbound.pk).raw)) == len(raw)
    attachment = Message.objects.get(inbound_email=inbound).attachments.get()
    assert attachment.size == 30 * 1024 * 1024
    assert not attachment.file
    assert "25 MB" in attachment.omitted_reason
    # A system text: each reader gets it in their language, the stored text stays in English.
    with translation.override("pt-br"):
        assert "25 MB" in attachment.omitted_text and "não foi guardado" in attachment.omitted_text
    with translation.override("en"):
        assert attachment.omitted_text == attachment.omitted_reason


def test_acknowledgement_goes_once_per_requester_per_hour_in_their_language(
    suporte, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = Ticket.objects.get(pk=deliver(make_mail(subject="Primeiro")).ticket_id)
        deliver(make_mail(subject="Segundo assunto sem relação"))
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert first.tag in sent.subject
    assert "Recebemos sua mensagem" in sent.body
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    with time_machine.travel(timezone.now() + timedelta(hours=2)), django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(subject="Terceiro, horas depois"))
    assert len(mail.outbox) == 2


def test_no_acknowledgement_to_mail_that_asks_for_none(suporte, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound = deliver(make_mail(headers={"X-Auto-Response-Suppress": "All"}))
    assert inbound.status == "processed"
    assert mail.outbox == []


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"X-Autoreply": "yes"}, {"Precedence": "junk"}],
)
def test_automatic_mail_never_opens_a_ticket(suporte, headers):
    inbound = deliver(make_mail(headers=headers))
    assert inbound.status == "ignored"
    assert not Ticket.objects.exists()


def test_auto_reply_to_a_ticket_does_not_reopen_it(suporte):
    ticket = Ticket.objects.get(pk=deliver(make_mail()).ticket_id)
    services.update_ticket(ticket, actor=None, status=Ticket.Status.SOLVED)
    deliver(make_mail("Estou de férias.", subject=f"Resposta automática: {ticket.tag} Conta bloqueada"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED


def test_windows_paths_survive_8bit_bodies_byte_for_byte(suporte):
    body = "O arquivo está em C:\\Users\\joao\\Vídeos\\novo e também em C:\\new\\table, não sei qual enviar."
    raw = (
        "From: joao@example.com\r\nTo: suporte@acolhe.example\r\nSubject: caminho\r\nMessage-ID: <p@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n"
    ).encode()
    inbound = deliver(raw)
    assert Message.objects.get(inbound_email=inbound).body_text == body


def test_mail_with_no_sender_fails_with_a_reason_and_is_kept(suporte):
    inbound = deliver(b"Subject: nobody\r\nMessage-ID: <n@example.com>\r\n\r\nhello")
    assert inbound.status == "failed"
    assert "no sender" in inbound.reason
    assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw).endswith(b"hello")


def test_failed_mail_can_be_reprocessed_from_the_command_line(suporte):
    raw = make_mail()
    stored, _ = store_inbound(raw, esp="test", enqueue=False)
    InboundEmail.objects.filter(pk=stored.pk).update(status="failed", reason="database restarted")
    call_command("reprocess_inbound")
    stored.refresh_from_db()
    assert stored.status == "processed"
    assert stored.ticket_id is not None


def test_spam_can_be_released_by_reprocessing_it(suporte):
    stored, _ = store_inbound(make_mail(), esp="test", enqueue=False, spam_detected=True, spam_score=8.0)
    assert process_inbound(stored.pk).status == "spam"
    call_command("reprocess_inbound", stored.pk)
    stored.refresh_from_db()
    assert stored.status == "processed"


def test_import_mail_reads_eml_mbox_and_maildir_through_the_same_pipeline(suporte, tmp_path, capsys):
    eml = tmp_path / "one.eml"
    eml.write_bytes(make_mail(subject="Do arquivo eml"))
    box = mailbox.mbox(tmp_path / "archive.mbox")
    box.add(make_mail(subject="Do mbox 1"))
    box.add(make_mail(subject="Do mbox 2", headers={"Auto-Submitted": "auto-replied"}))
    box.flush()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(make_mail(subject="Do maildir"))
    call_command("import_mail", str(eml), str(tmp_path / "archive.mbox"), str(tmp_path / "Maildir"), verbosity=0)
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Do arquivo eml", "Do maildir", "Do mbox 1"]
    assert "4 mail(s): 1 ignored, 3 processed" in capsys.readouterr().out
    call_command("import_mail", str(eml), verbosity=0)
    assert "1 duplicate" in capsys.readouterr().out


def test_webhook_receiver_stores_what_anymail_hands_it(suporte, django_capture_on_commit_callbacks):
    from anymail.inbound import AnymailInboundMessage
    from anymail.signals import AnymailInboundEvent

    message = AnymailInboundMessage.parse_raw_mime_bytes(make_mail())
    message.envelope_recipient = "suporte@acolhe.example"
    message.spam_score = 1.5
    with django_capture_on_commit_callbacks(execute=True):
        anymail_inbound.send(
            sender=object, event=AnymailInboundEvent(event_type="inbound", message=message), esp_name="Test"
        )
    stored = InboundEmail.objects.get()
    assert (stored.esp, stored.envelope_recipient, stored.spam_score) == ("Test", "suporte@acolhe.example", 1.5)
    assert stored.status == "processed"


def test_bounce_without_a_matching_outbound_message_is_ignored_quietly(suporte):
    bounce = make_mail(
        "Delivery to the following recipient failed permanently.", sender="MAILER-DAEMON@mx.example.net",
        subject="Undelivered Mail Returned to Sender",
    )  # fmt: skip
    inbound = deliver(bounce)
    assert inbound.status == "ignored"
    assert "bounce" in inbound.reason
    assert not Ticket.objects.exists()


def test_nul_bytes_in_headers_and_body_are_dropped_not_fatal(suporte):
    raw = (
        b"From: Nul\x00 Person <nul@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Conta\x00 travada\r\n"
        b"Message-ID: <nul\x00@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Minha conta\x00 travou depois da atualiza\xc3\xa7\xc3\xa3o e n\xc3\xa3o consigo mais entrar nela.\r\n"
    )
    inbound = deliver(raw)
    assert inbound.status == "processed"
    message = Message.objects.get(inbound_email=inbound)
    assert message.subject == "Conta travada"
    assert message.body_text.startswith("Minha conta travou")
    assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw) == raw
