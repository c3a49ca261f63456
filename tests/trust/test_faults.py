"""Faults, each a real scenario: the ESP failing on send, a send task lost or a sender killed mid-send, the same
webhook five times at once, the PostgreSQL connection broken under the web app, Redis stopped while webhooks
arrive, a worker killed mid-task. Nothing is lost and nothing is done twice."""

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import time_machine
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailAPIError
from django.conf import settings
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from helpdesk.celery import app as celery_app
from tests.factories import QueueFactory, TicketFactory, associate
from tests.faults.stack import redis_executable
from tickets.email import outbound
from tickets.models import InboundEmail, Message, Ticket
from tickets.tasks import requeue_stale_inbound, requeue_stale_outbound
from tickets.workspace import services

ROOT = Path(__file__).resolve().parents[2]
BASIC = "Basic " + base64.b64encode(b"hook-user:hook-password").decode()


def raw_mail(n: int = 1) -> str:
    return (
        f"From: Carla Dias <carla{n}@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Conta bloqueada {n}\r\n"
        f"Message-ID: <fault-{n}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Olá, minha conta foi bloqueada depois que troquei de celular. Podem desbloquear?\r\n"
    )


class FlakyESP(AnymailTestBackend):
    """The ESP, down for the next `failures` calls (the outside world; our code is not touched)."""

    failures = 0

    def post_to_esp(self, payload, message):
        if FlakyESP.failures:
            FlakyESP.failures -= 1
            raise AnymailAPIError("ESP unavailable: 503 Service Unavailable")
        return super().post_to_esp(payload, message)


# The ESP and the outbox (in-process; Celery eager)


def test_the_esp_failing_retries_then_shows_failed_and_a_resend_goes_out_once(
    agent, suporte, settings, monkeypatch, django_capture_on_commit_callbacks, client
):
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    settings.EMAIL_BACKEND = "tests.trust.test_faults.FlakyESP"
    FlakyESP.failures = 100
    ticket = TicketFactory(queue=suporte)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reply(ticket.number, "Olá, já desbloqueamos.", actor=agent)
    message = Message.objects.get(pk=result.message.pk)
    assert message.delivery_status == Message.Delivery.FAILED
    assert message.send_attempts == 7  # the first try and six retries
    assert "ESP unavailable" in message.delivery_error
    assert mail.outbox == []
    client.force_login(agent)
    assert "ESP unavailable" in client.get(f"/tickets/{ticket.number}/").content.decode()  # visibly failed

    FlakyESP.failures = 0
    with django_capture_on_commit_callbacks(execute=True):
        services.resend(message.pk, actor=agent)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == message.message_id


def test_a_send_task_lost_after_the_reply_was_saved_is_sent_once_by_the_outbox_sweep(agent, suporte):
    ticket = TicketFactory(queue=suporte)
    # The transaction commits but its on-commit publish never happens (a crash, a broker outage).
    result = services.reply(ticket.number, "Olá!", actor=agent)
    assert Message.objects.get(pk=result.message.pk).delivery_status == Message.Delivery.QUEUED
    assert requeue_stale_outbound() == 0  # too fresh: its task may still be on the way
    # Re-driven within a minute (it took 20 minutes before the sweep's deadlines were shortened).
    with time_machine.travel(timezone.now() + timedelta(seconds=45)):
        assert requeue_stale_outbound() == 1
        assert requeue_stale_outbound() == 0
    assert Message.objects.get(pk=result.message.pk).delivery_status == Message.Delivery.SENT
    assert len(mail.outbox) == 1


def test_a_sender_that_died_mid_send_is_retried_after_its_claim_goes_stale_and_never_doubled(agent, suporte):
    ticket = TicketFactory(queue=suporte)
    message = services.reply(ticket.number, "Olá!", actor=agent).message
    assert outbound._claim(message.pk)  # a worker claimed it... and was killed before the ESP answered
    assert not outbound._claim(message.pk)  # nobody else can claim it meanwhile
    outbound.deliver(message.pk)
    assert mail.outbox == []
    assert requeue_stale_outbound() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=20)):
        assert requeue_stale_outbound() == 0  # the sender may still be waiting on the ESP
    # Past the send task's time limit the claim is stale: re-driven within a minute (it took ten).
    with time_machine.travel(timezone.now() + timedelta(seconds=40)):
        assert requeue_stale_outbound() == 1
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts, len(mail.outbox)) == ("sent", 2, 1)


def test_a_reply_whose_retry_task_was_lost_goes_out_within_a_minute_of_its_due_time(agent, suporte, settings):
    settings.EMAIL_BACKEND = "tests.trust.test_faults.FlakyESP"
    FlakyESP.failures = 1
    ticket = TicketFactory(queue=suporte)
    message = services.reply(ticket.number, "Olá!", actor=agent).message
    with pytest.raises(AnymailAPIError):
        outbound.deliver(message.pk)  # the first attempt fails; its retry task is then lost with the worker
    message.refresh_from_db()
    assert message.delivery_status == "queued"
    due = message.send_claimed_at  # when the retry was due: ten seconds after the failure
    assert due - timezone.now() <= timedelta(seconds=11)
    with time_machine.travel(due + timedelta(seconds=5)):
        assert requeue_stale_outbound() == 0  # the retry may still be on its way
    with time_machine.travel(due + timedelta(seconds=45)):
        assert requeue_stale_outbound() == 1
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts, len(mail.outbox)) == ("sent", 2, 1)


def test_a_resent_message_goes_through_a_fresh_round_of_attempts_with_the_same_message_id(
    agent, suporte, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    settings.EMAIL_BACKEND = "tests.trust.test_faults.FlakyESP"
    ticket = TicketFactory(queue=suporte)
    message = services.reply(ticket.number, "Olá!", actor=agent).message
    Message.objects.filter(pk=message.pk).update(delivery_status="failed", send_attempts=7)
    FlakyESP.failures = 1
    with django_capture_on_commit_callbacks(execute=True):
        services.resend(message.pk, actor=agent)  # eager: the first attempt fails, its retry sends
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts) == ("sent", 2)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [message.message_id]


def test_the_sweeps_run_every_half_minute_at_most():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["inbound-requeue-stale"]["schedule"] <= 30
    assert schedule["outbox-requeue-stale"]["schedule"] <= 30
    # A lost task comes back within minutes, never the hour it used to take.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= 600


# Redis away: pages degrade instead of failing


def test_signed_in_pages_keep_working_while_redis_is_down(client, agent, suporte, settings):
    ticket = TicketFactory(queue=suporte)
    client.force_login(agent)  # the session is written to the database and the cache
    assert client.get("/work/mine/").status_code == 200
    dead = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.REDIS_URL = settings.CELERY_BROKER_URL = dead
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": dead}}
    assert client.get("/work/mine/").status_code == 200  # the session comes from the database
    page = client.get(f"/tickets/{ticket.number}/")
    assert page.status_code == 200 and page.context["user"] == agent
    presence = client.post(f"/tickets/{ticket.number}/presence/", {"typing": "1"})
    assert presence.status_code == 200  # nobody shows as present, nothing fails
    saved = client.post(f"/tickets/{ticket.number}/fields/", {"priority": "1"})
    assert saved.status_code == 302
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["down"] == ["redis", "broker"]


# Message-ID reuse


def test_a_different_mail_reusing_a_message_id_is_kept_and_processed_while_a_true_retry_stays_a_no_op(
    client, suporte, settings
):
    from tickets.email.inbound import process_waiting_inbound
    from tickets.models import TicketEvent

    settings.ACOLHE_INBOUND_ESPS = ["sendgrid"]
    first = raw_mail(31)
    # A forwarding service that stamps every mail with the same Message-ID: other sender, subject and text.
    second = (
        first.replace("carla31@example.com", "joao@example.com")
        .replace("Conta bloqueada 31", "=?utf-8?q?Pedido_4412_n=C3=A3o_chegou?=")
        .replace("minha conta foi bloqueada depois que troquei de celular", "meu pedido 4412 não chegou")
    )
    for raw in (first, second, second, first):  # each one, then an ESP retry of each
        data = {"email": raw, "to": "suporte@acolhe.example", "from": "x@example.com"}
        assert client.post("/anymail/sendgrid/inbound/", data, HTTP_AUTHORIZATION=BASIC).status_code == 200
    assert InboundEmail.objects.count() == 2
    process_waiting_inbound()
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {"processed"}
    subjects = set(Message.objects.filter(direction="in").values_list("subject", flat=True))
    assert subjects == {"Conta bloqueada 31", "Pedido 4412 não chegou"}
    reused = TicketEvent.objects.get(kind="message_id_reused")
    assert reused.new_value == "<fault-31@example.com>"
    assert reused.message.subject == "Pedido 4412 não chegou" and reused.message.message_id == ""
    assert Ticket.objects.count() == 2


# Send once


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_unreachable_send_saves_the_reply_and_a_second_press_makes_no_second_reply(client):
    suporte = QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    agent = associate([suporte], username="ana")
    ticket = TicketFactory(queue=suporte)
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.number}/")
    draft = page.context["reply_form"].initial["draft"]
    form = {"mode": "reply", "body": "Olá, já desbloqueamos sua conta.", "draft": draft}
    with celery_pointing_at("redis://127.0.0.1:1/0"):  # nothing listens there: every publish fails
        first = client.post(f"/tickets/{ticket.number}/reply/", form)
        assert first.status_code == 302  # not the 500 the associate used to see
        second = client.post(f"/tickets/{ticket.number}/reply/", form, follow=True)
        assert "já foi enviado" in second.content.decode() or "already sent" in second.content.decode()
    replies = Message.objects.filter(ticket=ticket, direction="out")
    assert replies.count() == 1 and replies.get().delivery_status == "queued"
    # The broker is back (eager here): the outbox sweep sends the reply within a minute, once.
    with time_machine.travel(timezone.now() + timedelta(seconds=45)):
        assert requeue_stale_outbound() == 1
    assert replies.get().delivery_status == "sent"
    assert len(mail.outbox) == 1


def test_a_draft_pressed_twice_makes_one_note_and_another_text_from_the_same_form_is_its_own_reply(agent, suporte):
    ticket = TicketFactory(queue=suporte)
    draft = "0123456789abcdef0123456789abcdef"
    first = services.reply(ticket.number, "Verificar o celular novo.", internal=True, draft=draft, actor=agent)
    again = services.reply(ticket.number, "Verificar o celular novo.", internal=True, draft=draft, actor=agent)
    assert again.repeated and again.message.pk == first.message.pk
    other = services.reply(ticket.number, "Outro texto, da mesma página.", internal=True, draft=draft, actor=agent)
    assert not other.repeated and other.message.pk != first.message.pk
    assert Message.objects.filter(ticket=ticket, direction="note").count() == 2


# Webhooks and the web app (live server)


@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_five_times_at_once_makes_one_message(live_server, settings):
    QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    settings.ACOLHE_INBOUND_ESPS = ["sendgrid"]
    data = {"email": raw_mail(5), "to": "suporte@acolhe.example", "from": "carla5@example.com"}
    barrier = threading.Barrier(5)
    statuses = []

    def post():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/anymail/sendgrid/inbound/", data=data, headers={"Authorization": BASIC}, timeout=30
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 5
    assert InboundEmail.objects.count() == 1
    assert Message.objects.count() == 1 and Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_a_broken_database_connection_then_recovers_without_a_restart(client):
    assert client.get("/healthz").status_code == 200
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with connections["default"].cursor():
        pass
    # Another session kills ours, as a PostgreSQL restart or failover would.
    killer = connection.copy()
    with killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    killer.close()
    broken = client.get("/healthz")
    assert broken.status_code == 503 and broken.json()["down"] == ["postgres"]
    assert client.get("/healthz").status_code == 200  # the next request reconnects by itself


# Redis and workers (a throwaway Redis and real worker processes)


class ThrowawayRedis:
    """A Redis of the test's own on a Unix socket in a fresh directory: no port to collide on when tests run
    in parallel, and stopping it disturbs nobody else."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="acolhe-redis-")
        self.socket = os.path.join(self.directory, "redis.sock")
        self.process = None

    @property
    def url(self) -> str:
        """The broker URL in kombu's spelling."""
        return f"redis+socket://{self.socket}"

    @property
    def client_url(self) -> str:
        return f"unix://{self.socket}"

    def start(self):
        self.process = subprocess.Popen(
            [
                redis_executable(),
                "--port",
                "0",
                "--unixsocket",
                self.socket,
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.settimeout(0.2)
                    sock.connect(self.socket)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def close(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def redis_server():
    server = ThrowawayRedis()
    server.start()
    yield server
    server.close()


@contextmanager
def celery_pointing_at(url: str):
    """The in-process app publishes to the throwaway broker (not eagerly) for the duration."""
    old_url = celery_app.conf.broker_url
    # Put back as found, or every later test of this process publishes without retries (a publish that
    # meets a stale pooled connection would then fail, and its mail wait for the sweep).
    old_retry = celery_app.conf.broker_connection_retry, celery_app.conf.task_publish_retry
    celery_app.conf.update(CELERY_BROKER_URL=url, broker_url=url, task_always_eager=False)
    celery_app.conf.update(broker_connection_retry=False, task_publish_retry=False)
    _forget_connections()
    try:
        yield
    finally:
        celery_app.conf.update(CELERY_BROKER_URL=old_url, broker_url=old_url, task_always_eager=True)
        celery_app.conf.update(broker_connection_retry=old_retry[0], task_publish_retry=old_retry[1])
        _forget_connections()


def _forget_connections():
    # Publishing reuses pooled connections to the broker the app first talked to.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def session_database_url() -> str:
    """The DATABASE_URL this test session runs on, naming the test database: its host, port or Unix socket
    (the embedded PostgreSQL listens on one), user and password exactly as given."""
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/acolhe"))
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


def worker_environment(broker_url: str, **extra: str) -> dict[str, str]:
    """What a worker or beat started by a test needs to share this session's database, cache and queue."""
    return {
        **os.environ,
        "DATABASE_URL": session_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "CELERY_BROKER_URL": broker_url,
        "ACOLHE_CELERY_QUEUE": celery_app.conf.task_default_queue,
        "ACOLHE_DEVELOPMENT": "1",
        # A task whose worker died goes back to the queue after this long (seven minutes in production).
        "ACOLHE_BROKER_VISIBILITY_TIMEOUT": "3",
        **extra,
    }


def start_worker(broker_url: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            celery_app.conf.task_default_queue,
            "-l",
            os.environ.get("ACOLHE_WORKER_LOG_LEVEL", "WARNING"),
        ],
        cwd=ROOT,
        env=worker_environment(broker_url, **extra),
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("ACOLHE_WORKER_LOG", os.devnull), "ab"),
    )


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_webhooks_arriving_while_redis_is_down_are_stored_and_processed_when_it_returns(client, settings, redis_server):
    QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    settings.ACOLHE_INBOUND_ESPS = ["sendgrid"]
    with celery_pointing_at(redis_server.url):
        redis_server.stop()
        for n in (1, 2, 3):
            data = {"email": raw_mail(n), "to": "suporte@acolhe.example", "from": f"carla{n}@example.com"}
            response = client.post("/anymail/sendgrid/inbound/", data, HTTP_AUTHORIZATION=BASIC)
            assert response.status_code == 200  # stored and acknowledged: the ESP does not need to retry
        assert InboundEmail.objects.filter(status="received").count() == 3
        assert client.get("/healthz").json()["checks"]["postgres"] == "ok"

        redis_server.start()
        worker = start_worker(redis_server.url)
        try:
            assert requeue_stale_inbound() == 0  # just stored: its wake-up may still be on the way
            # Beat's sweep takes mail that waited 35 s with no drain (it needed two minutes before).
            with time_machine.travel(timezone.now() + timedelta(seconds=35), tick=True):
                assert requeue_stale_inbound() == 3
            started = time.monotonic()
            assert wait_for(lambda: not InboundEmail.objects.exclude(status="processed").exists())
            assert time.monotonic() - started < 20
        finally:
            worker.kill()
            worker.wait()
    assert Ticket.objects.count() == 3 and Message.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_leaves_it_to_the_next_worker_which_processes_it_exactly_once(redis_server):
    QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    from tickets.email.inbound import store_inbound
    from tickets.tasks import process_inbound_email

    inbound, _ = store_inbound(raw_mail(7).encode(), esp="test", enqueue=False)
    # Hold the row lock the task needs, so the first worker is caught in the middle of the task.
    holder = connection.copy()
    holder.set_autocommit(False)
    workers = []
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM tickets_inboundemail WHERE id = %s FOR UPDATE", [inbound.pk])
            with celery_pointing_at(redis_server.url):
                process_inbound_email.delay(inbound.pk)
            workers.append(start_worker(redis_server.url))

            def waiting_on_the_lock() -> bool:
                # Activity statistics are a snapshot per transaction: refresh it on each look.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND query LIKE '%%tickets_inboundemail%%'"
                )
                return cursor.fetchone()[0] > 0

            assert wait_for(waiting_on_the_lock), "the worker never started the task"
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
        holder.rollback()
        assert InboundEmail.objects.get(pk=inbound.pk).status == "received"

        workers.append(start_worker(redis_server.url))
        assert wait_for(lambda: InboundEmail.objects.get(pk=inbound.pk).status == "processed")
        time.sleep(1)  # a second delivery, if there were one, would land now
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        holder.rollback()
        holder.close()
    assert Message.objects.filter(inbound_email=inbound).count() == 1
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_tasks_again_within_seconds_of_redis_coming_back(redis_server):
    QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    from tickets.email.inbound import store_inbound
    from tickets.tasks import process_inbound_email

    before, _ = store_inbound(raw_mail(21).encode(), esp="test", enqueue=False)
    worker = start_worker(redis_server.url)
    try:
        with celery_pointing_at(redis_server.url):
            process_inbound_email.delay(before.pk)
        assert wait_for(lambda: InboundEmail.objects.get(pk=before.pk).status == "processed")
        redis_server.stop()
        time.sleep(6.5)  # the worker keeps trying to reconnect meanwhile
        redis_server.start()
        back = time.monotonic()
        # Stored only now: a drain that ran earlier cannot have taken it along.
        after, _ = store_inbound(raw_mail(22).encode(), esp="test", enqueue=False)
        with celery_pointing_at(redis_server.url):
            process_inbound_email.delay(after.pk)
        assert wait_for(lambda: InboundEmail.objects.get(pk=after.pk).status == "processed", timeout=30)
        # kombu's default steps (retries 2, 6, 12, 20 ... s after the loss) left it idle for 5 s more here.
        assert time.monotonic() - back < 3.5
    finally:
        worker.kill()
        worker.wait()
