"""LGPD / GDPR: a requester's export holds everything about them; erasure anonymises them and their mail,
deletes their files and keeps the counts; retention scrubs old closed tickets per queue; legal hold wins;
every step is in the audit log."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from metrics.models import CsatSurvey
from tests.factories import MessageFactory, QueueFactory, RequesterFactory, TicketFactory, UserFactory, associate
from tickets.models import (
    AssistOutput,
    Attachment,
    AuditLog,
    InboundEmail,
    Message,
    Queue,
    Requester,
    Ticket,
    TicketEvent,
)
from tickets.privacy import services as privacy

pytestmark = pytest.mark.django_db


@pytest.fixture
def requester_with_history():
    requester = RequesterFactory(email="Maria@Example.com", name="Maria Silva")
    queue = QueueFactory(slug="suporte")
    ticket = TicketFactory(queue=queue, requester=requester, subject="Minha conta foi invadida")
    inbound = InboundEmail.objects.create(
        esp="test", raw=b"From: maria@example.com\r\n\r\nsegredo", raw_sha256="1" * 64, dedupe_key="<m1@x>"
    )
    incoming = MessageFactory(ticket=ticket, body_text="Meu CPF é 123.456.789-00", inbound_email=inbound)
    MessageFactory(
        ticket=ticket,
        direction="out",
        body_text="Olá Maria, vamos ajudar.",
        from_address="suporte@acolhe.example",
        to_addresses=[requester.email],
    )
    MessageFactory(ticket=ticket, direction="note", body_text="nota interna sobre a Maria", from_address="")
    attachment = Attachment(message=incoming, filename="rg-maria.jpg", content_type="image/jpeg", sha256="c" * 64)
    attachment.file.save("c" * 64, ContentFile(b"\xff\xd8 foto do documento"), save=True)
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.CREATED)
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.SUBJECT_CHANGED, old_value="Maria Silva", new_value="Conta"
    )
    CsatSurvey.objects.create(ticket=ticket, rating=4, comment="A Maria gostou", answered_at=timezone.now())
    other = TicketFactory(queue=queue, subject="Outra pessoa")
    return requester, ticket, attachment, other


def test_export_zips_the_requester_their_public_messages_and_their_files(requester_with_history):
    requester, ticket, _attachment, _other = requester_with_history
    admin = UserFactory(username="dpo")
    archive = zipfile.ZipFile(io.BytesIO(privacy.export_requester(requester, actor=admin)))
    document = json.loads(archive.read("requester.json"))
    assert document["requester"]["email"] == "Maria@Example.com"
    [exported] = document["tickets"]
    assert exported["number"] == ticket.number and exported["subject"] == "Minha conta foi invadida"
    bodies = [m["body_text"] for m in exported["messages"]]
    assert "Meu CPF é 123.456.789-00" in bodies and "Olá Maria, vamos ajudar." in bodies
    assert "nota interna sobre a Maria" not in json.dumps(document, ensure_ascii=False)
    assert exported["satisfaction"] == {"rating": 4, "comment": "A Maria gostou"}
    [file_name] = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert archive.read(file_name) == b"\xff\xd8 foto do documento"
    assert "Outra pessoa" not in archive.read("requester.json").decode()
    log = AuditLog.objects.get()
    assert (log.action, log.actor, log.target) == (
        AuditLog.Action.REQUESTER_EXPORTED,
        admin,
        f"requester:{requester.pk}",
    )


def test_erasure_anonymises_the_requester_and_deletes_files_but_keeps_counts(requester_with_history):
    requester, ticket, attachment, other = requester_with_history
    storage, stored_name = attachment.file.storage, attachment.file.name
    counts_before = (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count())

    privacy.erase_requester(requester, actor=UserFactory(username="dpo"))

    requester.refresh_from_db()
    assert "maria" not in requester.email.lower() and requester.name == ""
    # Only the subject-change event (it holds the old subject's text) goes.
    assert (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count() + 1) == counts_before
    ticket.refresh_from_db()
    assert ticket.subject == privacy.ERASED and ticket.personal_data_erased_at is not None
    texts = " ".join(
        f"{m.subject} {m.body_text} {m.body_html} {m.from_address} {m.to_addresses}" for m in ticket.messages.all()
    )
    assert "Maria" not in texts and "CPF" not in texts and "maria@example.com" not in texts.lower()
    assert not storage.exists(stored_name)
    assert Attachment.objects.get(pk=attachment.pk).filename == privacy.ERASED
    assert bytes(InboundEmail.objects.get().raw) == b""
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.SUBJECT_CHANGED).exists()
    survey = CsatSurvey.objects.get(ticket=ticket)
    assert (survey.rating, survey.comment) == (4, "")  # the score stays for the metrics
    other.refresh_from_db()
    assert other.subject == "Outra pessoa"
    assert AuditLog.objects.filter(action=AuditLog.Action.REQUESTER_ERASED, target=f"requester:{requester.pk}").exists()


def test_erasure_is_refused_while_a_ticket_is_on_legal_hold(requester_with_history):
    requester, ticket, _attachment, _other = requester_with_history
    if not hasattr(Ticket, "legal_hold"):
        pytest.skip("Ticket.legal_hold is not there yet")
    Ticket.objects.filter(pk=ticket.pk).update(legal_hold=True)
    with pytest.raises(ValidationError):
        privacy.erase_requester(requester, actor=None)
    assert Requester.objects.get(pk=requester.pk).name == "Maria Silva"


def test_the_command_exports_and_erases(requester_with_history, tmp_path):
    requester, _ticket, _attachment, _other = requester_with_history
    UserFactory(username="dpo")
    target = tmp_path / "export.zip"
    call_command("privacy", "export", "maria@example.com", "--output", str(target), "--actor", "dpo")
    assert "requester.json" in zipfile.ZipFile(target).namelist()
    call_command("privacy", "erase", str(requester.pk), "--yes", "--actor", "dpo")
    assert Requester.objects.get(pk=requester.pk).name == ""
    assert list(AuditLog.objects.values_list("actor_label", flat=True)) == ["dpo", "dpo"]


def test_admins_export_a_requester_from_the_admin(requester_with_history, admin_client):
    requester, *_ = requester_with_history
    response = admin_client.post(
        "/admin/tickets/requester/", {"action": "export_personal_data", "_selected_action": [requester.pk]}
    )
    assert response["Content-Type"] == "application/zip"
    assert "requester.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def test_retention_scrubs_closed_tickets_past_their_queues_period_only(requester_with_history):
    requester, ticket, _attachment, other = requester_with_history
    queue = ticket.queue
    queue.retention_days = 365
    queue.save()
    long_ago = timezone.now() - timedelta(days=400)
    Ticket.objects.filter(pk=ticket.pk).update(status="closed", closed_at=long_ago)
    Ticket.objects.filter(pk=other.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=30))
    kept_elsewhere = TicketFactory(queue=QueueFactory(slug="sem-prazo"), status="closed", closed_at=long_ago)

    from tickets.tasks import enforce_retention

    assert enforce_retention.delay().get() == 1
    assert Ticket.objects.get(pk=ticket.pk).subject == privacy.ERASED
    assert Ticket.objects.get(pk=other.pk).subject == "Outra pessoa"
    assert Ticket.objects.get(pk=kept_elsewhere.pk).subject != privacy.ERASED
    # The requester had nothing else, so they are anonymised too; a second night finds nothing to do.
    assert Requester.objects.get(pk=requester.pk).name == ""
    assert privacy.purge_expired_tickets() == 0
    assert AuditLog.objects.filter(action=AuditLog.Action.RETENTION_PURGED).count() == 1


def test_retention_skips_tickets_on_legal_hold(requester_with_history):
    _requester, ticket, _attachment, _other = requester_with_history
    if not hasattr(Ticket, "legal_hold"):
        pytest.skip("Ticket.legal_hold is not there yet")
    ticket.queue.retention_days = 1
    ticket.queue.save()
    Ticket.objects.filter(pk=ticket.pk).update(
        status="closed", closed_at=timezone.now() - timedelta(days=10), legal_hold=True
    )
    assert privacy.purge_expired_tickets() == 0
    assert Ticket.objects.get(pk=ticket.pk).subject == "Minha conta foi invadida"


@pytest.fixture
def assisted(requester_with_history, settings):
    """The requester's ticket after an associate asked the assistant (a stub provider on loopback) for a
    draft, a translation and a summary: what the export and erasure must carry."""
    from assist import services as assist
    from tests.assist.stub import StubProvider

    requester, ticket, _attachment, other = requester_with_history
    Queue.objects.filter(pk=ticket.queue_id).update(assist_enabled=True)
    user = UserFactory(username="carla", queues=[ticket.queue])
    with StubProvider() as stub:
        settings.ACOLHE_ASSIST_URL = stub.url
        settings.ACOLHE_ASSIST_MODEL = "stub-model"
        checked = assist.check_ticket(user, ticket.number)
        for ask in (assist.ask_draft, assist.ask_summary):
            assert ask(user, checked).text
        assert assist.ask_translation(user, checked, None).text
        assert assist.check_ticket(user, other.number)
        assert assist.ask_draft(user, other).text
    return requester, ticket, other


def test_export_carries_the_assistants_drafts_and_translations_and_says_where_the_rest_went(assisted):
    requester, ticket, _other = assisted
    archive = zipfile.ZipFile(io.BytesIO(privacy.export_requester(requester, actor=UserFactory(username="dpo"))))
    document = json.loads(archive.read("requester.json"))
    [exported] = document["tickets"]
    by_kind = {record["kind"]: record for record in exported["assistant"]}
    assert set(by_kind) == {"draft", "translation", "summary"}
    # The stub repeats the placeholders it was sent: the kept draft holds the CPF put back, as it was shown.
    assert (
        by_kind["draft"]["text"].startswith("Rascunho do assistente") and "123.456.789-00" in by_kind["draft"]["text"]
    )
    assert by_kind["translation"]["text"].startswith("Tradução do assistente")
    assert "text" not in by_kind["summary"]  # the staff's own reading of the case, like an internal note
    assert {record["model"] for record in exported["assistant"]} == {"stub-model"}
    assert all(record["provider"].startswith("127.0.0.1:") for record in exported["assistant"])
    # Only this requester's tickets: the other ticket's draft is not theirs.
    assert len(exported["assistant"]) == 3 and AssistOutput.objects.exclude(ticket=ticket).count() == 1


def test_erasure_and_retention_scrub_the_assistants_answers(assisted):
    requester, ticket, other = assisted
    privacy.erase_requester(requester, actor=None)
    kept = AssistOutput.objects.filter(ticket=ticket)
    assert kept.count() == 3 and set(kept.values_list("text", flat=True)) == {privacy.ERASED}
    assert AssistOutput.objects.get(ticket=other).text != privacy.ERASED
    other.queue.retention_days = 1
    other.queue.save()
    Ticket.objects.filter(pk=other.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=10))
    assert privacy.purge_expired_tickets() == 1
    assert AssistOutput.objects.get(ticket=other).text == privacy.ERASED


def test_an_erased_ticket_is_not_served_again_from_the_short_page_cache(requester_with_history, client, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 10
    requester, ticket, _attachment, _other = requester_with_history
    client.force_login(associate([ticket.queue], username="leo"))
    url = reverse("ticket", args=[ticket.number])
    client.get(url)  # the browser gets its CSRF cookie; pages are kept from then on
    client.get(url)
    kept = client.get(url)
    assert kept["X-Page-Cache"] == "hit" and "CPF" in kept.content.decode()
    privacy.erase_requester(requester, actor=UserFactory(username="dpo"))
    page = client.get(url).content.decode()
    assert "CPF" not in page and "Minha conta foi invadida" not in page
