"""The worker's batches: one task applies its mail and the mail waiting behind it, each mail on its own."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EscalationRuleFactory, QueueFactory
from tickets.email import inbound as inbound_module
from tickets.email.inbound import process_inbound_batch, store_inbound
from tickets.models import EscalationRule, InboundEmail, Message, Requester, Ticket
from tickets.tasks import process_inbound_email

pytestmark = pytest.mark.django_db

PT_BODY = "Olá, não consigo acessar minha conta desde ontem. Já tentei trocar a senha, mas o código não chega."


@pytest.fixture(autouse=True)
def suporte():
    return QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)


def make_mail(subject="Conta bloqueada", *, sender="Paula Reis <paula@example.com>", message_id=None,
              in_reply_to=None, body=PT_BODY) -> tuple[bytes, str]:  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "suporte@acolhe.example", subject
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    return message.as_bytes(), message["Message-ID"]


def stored(raw: bytes) -> InboundEmail:
    return store_inbound(raw, esp="test", enqueue=False)[0]


def statuses(*rows: InboundEmail) -> list[str]:
    return [InboundEmail.objects.get(pk=row.pk).status for row in rows]


def test_one_task_applies_the_mail_waiting_behind_its_own():
    rows = [stored(make_mail(f"Pedido {n}", sender=f"p{n}@example.com")[0]) for n in range(5)]
    assert process_inbound_batch(rows[2].pk) == "processed"
    assert statuses(*rows) == ["processed"] * 5
    assert Ticket.objects.count() == 5
    # The tasks queued for the others find their mail applied and change nothing.
    assert process_inbound_email.delay(rows[0].pk).get() == "processed"
    assert Ticket.objects.count() == 5 and Message.objects.count() == 5


def test_a_batch_takes_at_most_its_limit_and_leaves_the_rest_waiting():
    rows = [stored(make_mail(f"Pedido {n}", sender=f"p{n}@example.com")[0]) for n in range(5)]
    process_inbound_batch(rows[4].pk, limit=3, drain_seconds=0)
    # Its own mail, then the oldest waiting.
    assert statuses(*rows) == ["processed", "processed", "received", "received", "processed"]


def test_draining_continues_with_further_batches():
    rows = [stored(make_mail(f"Pedido {n}", sender=f"p{n}@example.com")[0]) for n in range(7)]
    process_inbound_batch(rows[0].pk, limit=2, drain_seconds=60)
    assert statuses(*rows) == ["processed"] * 7


def test_a_mail_that_fails_in_a_batch_is_marked_failed_and_the_others_are_kept(monkeypatch):
    real_scan = inbound_module.scan_message

    def scan(message, attachments=(), **options):
        if "explode" in message.subject:
            raise RuntimeError("scanner unavailable")
        return real_scan(message, attachments, **options)

    monkeypatch.setattr(inbound_module, "scan_message", scan)
    first = stored(make_mail("Pedido 1", sender="a@example.com")[0])
    bad = stored(make_mail("explode", sender="b@example.com")[0])
    last = stored(make_mail("Pedido 3", sender="c@example.com")[0])

    assert process_inbound_batch(first.pk) == "processed"
    assert statuses(first, bad, last) == ["processed", "failed", "processed"]
    bad.refresh_from_db()
    assert bad.reason == "RuntimeError: scanner unavailable"
    # Nothing of the failed mail was kept, all of the others was.
    assert not Message.objects.filter(inbound_email=bad).exists()
    assert Message.objects.filter(inbound_email__in=[first, last]).count() == 2
    assert not Requester.objects.filter(email="b@example.com").exists()

    # Its own task retries it: it is failed, not done.
    monkeypatch.setattr(inbound_module, "scan_message", real_scan)
    assert process_inbound_batch(bad.pk) == "processed"


def test_the_tasks_own_mail_failing_is_raised_after_the_others_are_committed(monkeypatch):
    real_scan = inbound_module.scan_message

    def scan(message, attachments=(), **options):
        if "explode" in message.subject:
            raise RuntimeError("scanner unavailable")
        return real_scan(message, attachments, **options)

    monkeypatch.setattr(inbound_module, "scan_message", scan)
    bad = stored(make_mail("explode", sender="b@example.com")[0])
    other = stored(make_mail("Pedido 2", sender="c@example.com")[0])
    with pytest.raises(RuntimeError, match="scanner unavailable"):
        process_inbound_batch(bad.pk)
    assert statuses(bad, other) == ["failed", "processed"]


def test_a_reply_ahead_of_its_parent_in_one_batch_joins_the_parents_ticket_once():
    parent_raw, parent_id = make_mail("Conta bloqueada")
    child_raw, _ = make_mail("Re: Conta bloqueada", in_reply_to=parent_id)
    child = stored(child_raw)  # the reply arrived first
    parent = stored(parent_raw)
    process_inbound_batch(child.pk)
    assert statuses(child, parent) == ["processed", "processed"]
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(inbound_email=parent).count() == 1
    assert InboundEmail.objects.get(pk=child.pk).ticket_id == InboundEmail.objects.get(pk=parent.pk).ticket_id


def test_the_same_message_id_twice_is_a_duplicate_on_the_first_ones_ticket():
    raw, message_id = make_mail("Conta bloqueada")
    first = stored(raw)
    process_inbound_batch(first.pk)
    # Another ESP's copy of the same mail: a different raw source, the same Message-ID.
    copy = InboundEmail.objects.create(esp="other", raw=raw + b"\n", raw_sha256="x", dedupe_key="copy")
    process_inbound_batch(copy.pk)
    copy.refresh_from_db()
    assert copy.status == "processed" and copy.reason == "duplicate of a stored message"
    assert copy.ticket_id == InboundEmail.objects.get(pk=first.pk).ticket_id
    assert Message.objects.filter(message_id=message_id).count() == 1


def test_an_existing_requester_keeps_their_spelling_and_gains_a_missing_name():
    Requester.objects.create(email="Paula.Reis@Example.com", name="", language="en")
    row = stored(make_mail(sender="Paula Reis <paula.reis@example.com>")[0])
    process_inbound_batch(row.pk)
    requester = Requester.objects.get()
    assert (requester.email, requester.name, requester.language) == ("Paula.Reis@Example.com", "Paula Reis", "pt")
    assert Ticket.objects.get().requester == requester


def test_the_subject_tag_threads_only_mail_from_that_tickets_requester():
    first = stored(make_mail("Conta bloqueada", sender="paula@example.com")[0])
    process_inbound_batch(first.pk)
    ticket = Ticket.objects.get()
    from_requester = stored(make_mail(f"{ticket.tag} mais uma coisa", sender="PAULA@example.com")[0])
    from_stranger = stored(make_mail(f"{ticket.tag} mais uma coisa", sender="outra@example.com")[0])
    process_inbound_batch(from_requester.pk)
    assert InboundEmail.objects.get(pk=from_requester.pk).ticket_id == ticket.pk
    assert InboundEmail.objects.get(pk=from_stranger.pk).ticket_id != ticket.pk


def test_a_drain_reads_the_escalation_rules_once_and_runs_them_on_every_flagged_mail():
    EscalationRuleFactory(
        trigger=EscalationRule.Trigger.SENSITIVE_CONTENT, sensitivity=["violence"], add_tags=["ameaca"]
    )
    threat = "Ele disse que vai me matar amanhã."
    threats = [stored(make_mail(f"Ameaça {n}", sender=f"v{n}@example.com", body=threat)[0]) for n in range(2)]
    calm = stored(make_mail("Pedido", sender="calm@example.com")[0])

    with CaptureQueriesContext(connection) as queries:
        assert inbound_module.process_waiting_inbound() == 3
    rule_reads = [q for q in queries.captured_queries if 'FROM "tickets_escalationrule"' in q["sql"]]
    assert len(rule_reads) == 1
    tags = {row.pk: InboundEmail.objects.get(pk=row.pk).ticket.tags for row in [*threats, calm]}
    assert tags == {threats[0].pk: ["ameaca"], threats[1].pk: ["ameaca"], calm.pk: []}
