"""Periodic work runs once at a time, whatever number of workers and beats there are (helpdesk/locks.py)."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.locks import single_run, single_run_lock
from metrics import tasks as metric_tasks
from tests.factories import QueueFactory, RequesterFactory, SlaPolicyFactory
from tickets import services
from tickets import tasks as ticket_tasks
from tickets.models import SlaAlert, SlaCheck, Ticket


@pytest.fixture
def breached_ticket(db):
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    ticket = services.open_ticket(requester=RequesterFactory(), queue=queue, subject="Urgente", language="pt")
    past = timezone.now() - timedelta(minutes=5)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_warn_at=past - timedelta(minutes=10), first_response_due_at=past
    )
    SlaCheck.objects.update_or_create(ticket=ticket, defaults={"next_check_at": past - timedelta(minutes=10)})
    return ticket


def test_a_sweep_sent_by_a_second_beat_while_one_runs_does_nothing_and_the_next_one_runs(breached_ticket):
    other_beats_run = single_run_lock("sla-sweep", timeout=30)
    assert other_beats_run.acquire()
    try:
        assert ticket_tasks.sla_sweep() is None
        assert not SlaAlert.objects.filter(ticket=breached_ticket).exists()
    finally:
        other_beats_run.release()
    assert ticket_tasks.sla_sweep() == {"tickets": 1, "warnings": 1, "breaches": 1}
    assert SlaAlert.objects.filter(ticket=breached_ticket, kind=SlaAlert.Kind.BREACH).count() == 1


def test_a_rollup_and_the_weekly_qa_sample_skip_while_another_run_holds_them(db):
    for name, task in [
        ("rollup-today", metric_tasks.rollup_today),
        ("rollup-yesterday", metric_tasks.rollup_yesterday),
        ("sample-weekly-qa", metric_tasks.sample_weekly_qa),
    ]:
        lock = single_run_lock(name, timeout=30)
        assert lock.acquire()
        try:
            assert task() is None
        finally:
            lock.release()
        assert isinstance(task(), int)


def test_two_processes_starting_the_same_work_at_once_run_it_once():
    entered, finish = threading.Event(), threading.Event()
    runs = []

    @single_run("test-overlap", timeout=30)
    def work(who: str) -> str:
        runs.append(who)
        entered.set()
        finish.wait(10)
        return who

    first = threading.Thread(target=work, args=("first",))
    first.start()
    assert entered.wait(10)
    assert work("second") is None
    finish.set()
    first.join(10)
    assert runs == ["first"]
    assert work("third") == "third"
    assert runs == ["first", "third"]


def test_a_lock_left_by_a_killed_worker_expires_by_itself():
    @single_run("test-expiry", timeout=1)
    def work() -> str:
        return "ran"

    dead_workers_lock = single_run_lock("test-expiry", timeout=0.5)
    assert dead_workers_lock.acquire()  # and never released
    assert work() is None
    time.sleep(0.6)
    assert work() == "ran"


def test_without_redis_the_work_still_runs(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    @single_run("test-no-redis", timeout=30)
    def work() -> str:
        return "ran"

    assert work() == "ran"
