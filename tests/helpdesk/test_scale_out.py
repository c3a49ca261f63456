"""Several workers at once, each with its own database connection (threads here, processes in production):
inbound drains share the waiting mail through row locks (SKIP LOCKED), rollups of the same days wait for each
other on an advisory lock. Nothing is applied twice, nothing is left behind. The beat-level guard (one run of
a periodic task at a time) is tested in test_locks.py."""

import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.db import connection, connections

from tests.factories import QueueFactory
from tickets.email.inbound import process_waiting_inbound, store_inbound
from tickets.models import InboundEmail, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = f"Paula Reis {n} <paula{n}@example.com>", "suporte@acolhe.example"
    message["Subject"], message["Message-ID"] = f"Conta bloqueada {n}", make_msgid(domain="example.com")
    message.set_content("Olá, não consigo acessar minha conta desde ontem. O código de verificação não chega.")
    return message.as_bytes()


@pytest.fixture
def suporte():
    return QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)


def run_at_once(count: int, work) -> list:
    """`work()` in `count` threads released together, each on its own connection; their results."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # reported below: an exception in a thread would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return results


def test_four_workers_draining_at_once_apply_every_mail_exactly_once(suporte):
    rows = [store_inbound(mail(n), esp="test", enqueue=False)[0] for n in range(60)]
    taken = run_at_once(4, lambda: process_waiting_inbound(limit=5))
    assert sum(taken) == 60
    assert set(InboundEmail.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {
        "processed"
    }
    assert Ticket.objects.count() == 60 and Message.objects.count() == 60


def test_a_drain_skips_the_mail_another_worker_holds_and_leaves_it_for_the_next(suporte):
    held, free = (store_inbound(mail(n), esp="test", enqueue=False)[0] for n in range(2))
    other_worker = connections.create_connection("default")
    other_worker.set_autocommit(False)
    try:
        with other_worker.cursor() as cursor:
            cursor.execute("SELECT id FROM tickets_inboundemail WHERE id = %s FOR UPDATE", [held.pk])
            assert process_waiting_inbound() == 1  # without waiting for the lock
        assert InboundEmail.objects.get(pk=held.pk).status == "received"
        assert InboundEmail.objects.get(pk=free.pk).status == "processed"
    finally:
        other_worker.rollback()
        other_worker.close()
    assert process_waiting_inbound() == 1
    assert InboundEmail.objects.get(pk=held.pk).status == "processed"


def test_two_rollups_of_the_same_days_at_once_write_what_one_writes():
    from metrics.models import QueueDay
    from metrics.services.rollup import local_today, rollup_days
    from tests.factories import TicketFactory

    queue = QueueFactory()
    for _ in range(5):
        TicketFactory(queue=queue)
    today = local_today()
    rollup_days(today, today)
    alone = sorted(QueueDay.objects.values_list("queue_id", "day", "backlog"))
    assert (queue.pk, today, 5) in alone
    results = run_at_once(2, lambda: rollup_days(today, today).rows)
    assert results[0] == results[1]
    assert sorted(QueueDay.objects.values_list("queue_id", "day", "backlog")) == alone
