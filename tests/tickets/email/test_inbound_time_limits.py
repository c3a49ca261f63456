"""A mail that takes too long to apply (a parser stuck on hostile input) ends failed with the reason, its
raw bytes kept, and the worker goes on with the next mail. Parsing is made slow by fault injection."""

import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache

from tests.factories import QueueFactory
from tests.tickets.email.test_inbound import PT_BODY, make_mail
from tickets import tasks
from tickets.email import inbound as inbound_module
from tickets.email.inbound import store_inbound
from tickets.language import detect_language
from tickets.models import InboundEmail, Ticket

pytestmark = pytest.mark.django_db

SLOW_MARK = b"X-Test-Slow: yes"


@pytest.fixture(autouse=True)
def suporte():
    return QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)


@pytest.fixture
def three_mails():
    """Three stored mails, the middle one marked for the fault to strike."""
    detect_language(PT_BODY)  # the detector loads once per process, in about a second: not within a limit
    raws = [
        make_mail(PT_BODY, sender="Ana <ana@example.com>"),
        make_mail(PT_BODY, sender="Bia <bia@example.com>", headers={"X-Test-Slow": "yes"}),
        make_mail(PT_BODY, sender="Caio <caio@example.com>"),
    ]
    rows = [store_inbound(raw, esp="test", enqueue=False)[0] for raw in raws]
    yield rows, raws
    for row in rows:
        cache.delete(inbound_module._starts_key(row))


def inject(monkeypatch, fault):
    """Make parsing the marked mail run `fault` first (sleep, or raise as a time limit or a kill would)."""
    parse = inbound_module.parse_email

    def parse_with_fault(raw: bytes):
        if SLOW_MARK in raw:
            fault()
        return parse(raw)

    monkeypatch.setattr(inbound_module, "parse_email", parse_with_fault)


def statuses(rows) -> list[str]:
    return [InboundEmail.objects.get(pk=row.pk).status for row in rows]


def test_a_mail_slower_than_the_limit_fails_with_the_reason_and_the_drain_goes_on(
    settings, monkeypatch, three_mails, django_capture_on_commit_callbacks
):
    rows, raws = three_mails
    # Generous for the other mails on a loaded machine; the slow one would take a minute.
    settings.ACOLHE_INBOUND_MAIL_SECONDS = 3
    inject(monkeypatch, lambda: time.sleep(60))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.process_waiting_inbound.delay()  # the eager worker runs the drain, then the fresh one it queues
    assert time.monotonic() - started < 30
    assert statuses(rows) == ["processed", "failed", "processed"]
    slow = InboundEmail.objects.get(pk=rows[1].pk)
    assert "MailTimeLimitExceeded" in slow.reason and "3 s time limit" in slow.reason
    assert bytes(slow.raw) == raws[1]
    assert Ticket.objects.count() == 2


def test_the_celery_soft_time_limit_fails_the_mail_being_applied_and_the_others_are_kept(
    monkeypatch, three_mails, django_capture_on_commit_callbacks
):
    rows, _ = three_mails

    def soft_limit():
        raise SoftTimeLimitExceeded()

    inject(monkeypatch, soft_limit)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.process_waiting_inbound.delay()
    assert statuses(rows) == ["processed", "failed", "processed"]
    assert "SoftTimeLimitExceeded" in InboundEmail.objects.get(pk=rows[1].pk).reason


def test_a_timed_out_mail_is_not_retried_by_its_own_task(settings, monkeypatch, three_mails):
    rows, _ = three_mails
    settings.ACOLHE_INBOUND_MAIL_SECONDS = 3
    inject(monkeypatch, lambda: time.sleep(60))
    assert tasks.process_inbound_email.delay(rows[1].pk).get() == "failed"
    assert InboundEmail.objects.get(pk=rows[1].pk).status == "failed"


def test_a_mail_that_killed_its_worker_twice_is_failed_and_the_others_applied(monkeypatch, three_mails):
    rows, raws = three_mails

    def killed():
        # What a hard time limit does to the process: nothing after this line runs, no cleanup in Python.
        raise SystemExit("killed by the hard time limit")

    inject(monkeypatch, killed)
    for _ in range(2):  # the broker hands the task out again after each kill (acks_late)
        with pytest.raises(SystemExit):
            inbound_module.process_waiting_inbound()
    assert statuses(rows) == ["received", "received", "received"]
    inbound_module.process_waiting_inbound()
    assert statuses(rows) == ["processed", "failed", "processed"]
    poison = InboundEmail.objects.get(pk=rows[1].pk)
    assert "never ended" in poison.reason
    assert bytes(poison.raw) == raws[1]


def test_inbound_tasks_have_soft_and_hard_time_limits(settings):
    for task in (tasks.process_waiting_inbound, tasks.process_inbound_email):
        assert (
            0 < task.soft_time_limit < task.time_limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        )


def test_mail_is_still_applied_when_the_cache_holding_start_counts_is_down(monkeypatch, three_mails):
    rows, _ = three_mails

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    for name in ("get_many", "set_many", "delete_many"):
        monkeypatch.setattr(inbound_module.cache, name, down)
    inbound_module.process_waiting_inbound()
    assert statuses(rows) == ["processed", "processed", "processed"]
