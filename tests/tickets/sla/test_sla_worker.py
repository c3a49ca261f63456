"""Beat sends `sla_sweep` on its schedule, a real worker consumes it from Redis, and a breach is recorded."""

import threading
import time
from datetime import timedelta

import pytest
from celery.beat import Service
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from helpdesk.celery import app
from tests.factories import QueueFactory, RequesterFactory, SlaPolicyFactory
from tickets import services
from tickets.models import SlaAlert, SlaCheck, Ticket, TicketEvent


@pytest.fixture
def real_worker(transactional_db):
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def beat(real_worker, tmp_path):
    """Beat with the project's `sla-sweep` entry, ticking every second instead of every minute."""
    original = app.conf.beat_schedule
    # Under the CELERY_ namespace the project's value wins over a plain `beat_schedule` assignment.
    app.conf.update(CELERY_BEAT_SCHEDULE={"sla-sweep": {**settings.CELERY_BEAT_SCHEDULE["sla-sweep"], "schedule": 1.0}})
    service = Service(app, max_interval=0.5, schedule_filename=str(tmp_path / "beat-schedule"))
    thread = threading.Thread(target=service.start, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.stop()
        thread.join(timeout=5)
        app.conf.update(CELERY_BEAT_SCHEDULE=original)


def test_the_beat_schedule_runs_the_sweep_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["sla-sweep"]
    assert entry["task"] == "tickets.tasks.sla_sweep" and entry["schedule"] == 60.0


def test_beat_and_a_real_worker_record_a_breach_due_seconds_from_now(beat):
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None)
    ticket = services.open_ticket(requester=RequesterFactory(), queue=queue, subject="Urgente", language="pt")
    due = timezone.now() + timedelta(seconds=3)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_warn_at=due - timedelta(seconds=1), first_response_due_at=due
    )
    SlaCheck.objects.update_or_create(ticket=ticket, defaults={"next_check_at": due})
    assert not SlaAlert.objects.filter(ticket=ticket).exists()
    # No result backend: poll the database, up to 60 s (it ends at the breach; a loaded machine is slow).
    for _ in range(1200):
        if SlaAlert.objects.filter(ticket=ticket, kind=SlaAlert.Kind.BREACH).exists():
            break
        time.sleep(0.05)
    breach = SlaAlert.objects.get(ticket=ticket, kind=SlaAlert.Kind.BREACH)
    assert breach.clock == "first_response" and breach.due_at == due
    assert breach.recorded_at >= due
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.SLA_BREACH).count() == 1
