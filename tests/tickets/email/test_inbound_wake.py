"""Waking the worker for stored mail: one drain task queued at a time, however fast mail arrives, and no
mail left waiting behind it."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.cache import cache

from tests.factories import QueueFactory
from tickets import tasks
from tickets.email import inbound
from tickets.models import InboundEmail, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def suporte():
    return QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)


def raw_mail(n: int, subject: str = "Conta bloqueada") -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = f"pessoa{n}@example.com", "suporte@acolhe.example"
    message["Subject"], message["Message-ID"] = f"{subject} {n}", make_msgid(domain="example.com")
    message.set_content("Olá, não consigo acessar minha conta desde ontem. O código não chega.")
    return message.as_bytes()


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """Drain tasks queued, instead of being run: the test runs them when it chooses."""
    calls: list[str] = []
    monkeypatch.setattr(tasks.process_waiting_inbound, "delay", lambda: calls.append("drain"))
    return calls


def statuses(rows) -> list[str]:
    rows = InboundEmail.objects.filter(pk__in=[row.pk for row in rows]).order_by("pk")
    return list(rows.values_list("status", flat=True))


def test_a_stream_of_mail_queues_one_drain_task_until_it_starts(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rows = [inbound.store_inbound(raw_mail(n), esp="test")[0] for n in range(3)]
    assert queued == ["drain"]

    assert inbound.process_waiting_inbound() == 3
    assert statuses(rows) == ["processed"] * 3
    # The task took the flag down before looking: mail stored after that queues the next one.
    with django_capture_on_commit_callbacks(execute=True):
        later = inbound.store_inbound(raw_mail(9), esp="test")[0]
    assert queued == ["drain", "drain"]
    assert statuses([later]) == ["received"]


def test_mail_committed_while_the_flag_is_up_is_seen_by_the_queued_task(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = inbound.store_inbound(raw_mail(1), esp="test")[0]
        second = inbound.store_inbound(raw_mail(2), esp="test")[0]
    assert queued == ["drain"]
    # The one task queued looks after both were committed.
    inbound.process_waiting_inbound()
    assert statuses([first, second]) == ["processed", "processed"]


def test_a_drain_out_of_time_queues_a_fresh_task_for_the_rest(queued):
    rows = [inbound.store_inbound(raw_mail(n), esp="test", enqueue=False)[0] for n in range(5)]
    assert inbound.process_waiting_inbound(limit=2, drain_seconds=0) == 2
    assert statuses(rows) == ["processed", "processed", "received", "received", "received"]
    assert queued == ["drain"]
    # The fresh task takes the rest, and stops at the batch that was not full.
    assert inbound.process_waiting_inbound(limit=2, drain_seconds=60) == 3
    assert statuses(rows) == ["processed"] * 5
    assert queued == ["drain"]


def test_a_broker_error_takes_the_flag_down_so_the_next_mail_tries_again(monkeypatch):
    def broker_down():
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.process_waiting_inbound, "delay", broker_down)
    with pytest.raises(ConnectionError):
        inbound.wake_inbound_worker()
    assert cache.get(inbound._wake_key()) is None

    calls = []
    monkeypatch.setattr(tasks.process_waiting_inbound, "delay", lambda: calls.append(1))
    assert inbound.wake_inbound_worker() is True
    assert calls == [1]


def test_storing_mail_with_the_broker_down_still_keeps_it(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down():
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.process_waiting_inbound, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        row, created = inbound.store_inbound(raw_mail(1), esp="test")
    assert created and statuses([row]) == ["received"]


def test_a_mail_failing_in_a_drain_is_retried_by_a_task_of_its_own(monkeypatch, django_capture_on_commit_callbacks):
    real_scan = inbound.scan_message
    failures = []

    def scan_failing_in_the_drain(message, attachments=(), **options):
        # Twice: the batch's first run, then its rerun with a savepoint per mail.
        if "explode" in message.subject and len(failures) < 2:
            failures.append(message.subject)
            raise RuntimeError("scanner unavailable")
        return real_scan(message, attachments, **options)

    monkeypatch.setattr(inbound, "scan_message", scan_failing_in_the_drain)
    retries = []
    monkeypatch.setattr(
        tasks.process_inbound_email, "apply_async", lambda args, countdown: retries.append((args, countdown))
    )
    good = inbound.store_inbound(raw_mail(1), esp="test", enqueue=False)[0]
    bad = inbound.store_inbound(raw_mail(2, subject="explode"), esp="test", enqueue=False)[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound.process_waiting_inbound() == 2
    assert statuses([good, bad]) == ["processed", "failed"]
    assert retries == [((bad.pk,), inbound.RETRY_AFTER_SECONDS)]

    # That task, run: the scanner is back.
    assert tasks.process_inbound_email.run(bad.pk) == "processed"
    bad.refresh_from_db()
    assert bad.status == "processed" and bad.reason == "" and bad.ticket_id is not None


def test_the_stale_mail_sweep_queues_one_drain_for_mail_waiting_too_long(queued):
    from datetime import timedelta

    from django.utils import timezone

    rows = [inbound.store_inbound(raw_mail(n), esp="test", enqueue=False)[0] for n in range(3)]
    assert tasks.requeue_stale_inbound() == 0 and queued == []
    InboundEmail.objects.filter(pk__in=[r.pk for r in rows]).update(received_at=timezone.now() - timedelta(minutes=5))
    assert tasks.requeue_stale_inbound() == 3
    assert queued == ["drain"]


def test_a_drain_looks_queues_and_sla_policies_up_once_for_all_its_batches(suporte):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import SlaPolicyFactory

    SlaPolicyFactory(queue=suporte, priority=None, first_response_minutes=60)
    rows = [inbound.store_inbound(raw_mail(n), esp="test", enqueue=False)[0] for n in range(6)]
    with CaptureQueriesContext(connection) as queries:
        assert inbound.process_waiting_inbound(limit=2) == 6  # three batches, three transactions
    assert statuses(rows) == ["processed"] * 6
    policy_reads = [q for q in queries if 'FROM "tickets_slapolicy"' in q["sql"]]
    queue_reads = [q for q in queries if 'FROM "tickets_queue"' in q["sql"]]
    assert len(policy_reads) == 1 and len(queue_reads) == 1
    opened = Ticket.objects.filter(pk__in=InboundEmail.objects.filter(pk__in=[r.pk for r in rows]).values("ticket"))
    assert opened.count() == 6 and all(ticket.first_response_due_at for ticket in opened)
