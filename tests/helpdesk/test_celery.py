"""A task executed by a real Celery worker, consuming from the real Redis broker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from helpdesk.celery import app
from tickets.email.inbound import store_inbound
from tickets.models import InboundEmail, Ticket

RAW = (
    b"From: Renata Alves <renata@example.com>\r\nTo: suporte@acolhe.example\r\n"
    b"Subject: =?utf-8?q?N=C3=A3o_consigo_entrar?=\r\nMessage-ID: <worker-test-1@example.com>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Ol\xc3\xa1, desde ontem n\xc3\xa3o consigo entrar na minha conta. O aplicativo diz que a senha est\xc3\xa1"
    b" errada, mas tenho certeza de que est\xc3\xa1 certa.\r\n"
)


@pytest.fixture
def real_worker(transactional_db):
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.conf.task_always_eager = True


def test_inbound_mail_is_processed_by_a_real_worker(real_worker):
    with transaction.atomic():
        inbound, created = store_inbound(RAW, esp="test")
    assert created
    # The worker picks the task from Redis (there is no result backend): poll the row, up to 90 s. It ends as
    # soon as the worker is through; the first mail loads the language models, which takes a loaded machine
    # (the suite runs one process per core beside this worker) a while.
    for _ in range(1800):
        inbound.refresh_from_db()
        if inbound.status != InboundEmail.Status.RECEIVED:
            break
        time.sleep(0.05)
    assert inbound.status == InboundEmail.Status.PROCESSED
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert ticket.subject == "Não consigo entrar"
    assert ticket.language == "pt"


def test_a_stream_of_mail_is_all_processed_by_the_drain_tasks_a_real_worker_runs(real_worker):
    from django.core.cache import cache

    from tickets.email.inbound import _wake_key

    rows = []
    for n in range(30):
        raw = RAW.replace(b"worker-test-1@", f"worker-stream-{n}@".encode()).replace(b"renata@", f"renata{n}@".encode())
        with transaction.atomic():  # one webhook request each
            rows.append(store_inbound(raw, esp="test")[0])
    waiting = InboundEmail.objects.filter(pk__in=[row.pk for row in rows], status=InboundEmail.Status.RECEIVED)
    # Up to 90 s: it ends as soon as the worker is through, but a loaded machine (the suite runs one process
    # per core beside this worker) can take a while over 30 mails.
    for _ in range(1800):
        if not waiting.exists():
            break
        time.sleep(0.05)
    assert not waiting.exists()
    assert InboundEmail.objects.filter(pk__in=[row.pk for row in rows], status="processed").count() == 30
    assert Ticket.objects.filter(requester__email__startswith="renata").count() == 30
    # The last drain task took the wake-up flag down: the next mail queues a task again.
    assert cache.get(_wake_key()) is None
