"""Prometheus metrics at /metrics (helpdesk/prometheus.py): off by default, then every promised figure,
read back through Prometheus' own text parser."""

import uuid

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailAPIError
from prometheus_client.parser import text_string_to_metric_families

from helpdesk.celery import app as celery_app
from tests.factories import QueueFactory, TicketFactory, associate
from tickets import tasks
from tickets.email.inbound import store_inbound
from tickets.models import InboundEmail
from tickets.workspace import services


class DownESP(AnymailTestBackend):
    """The ESP answering 503 to every send."""

    def post_to_esp(self, payload, message):
        raise AnymailAPIError("ESP unavailable: 503 Service Unavailable")


def raw_mail(n: int) -> bytes:
    return (
        f"From: Renata Alves <renata{n}@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Conta {n}\r\n"
        f"Message-ID: <prometheus-{n}-{uuid.uuid4()}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Não consigo entrar na minha conta.\r\n"
    ).encode()


@pytest.fixture
def prometheus(settings):
    settings.ACOLHE_PROMETHEUS_ENABLED = True
    settings.ALLOWED_HOSTS = ["acolhe.example"]


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape, sent as Prometheus does: to the pod's address."""
    response = client.get("/metrics", HTTP_HOST="10.1.2.3:8000", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_are_off_unless_switched_on(client, db, settings):
    settings.ALLOWED_HOSTS = ["acolhe.example"]
    assert client.get("/metrics", HTTP_HOST="10.1.2.3:8000").status_code == 400  # the host check applies
    assert client.get("/metrics", HTTP_HOST="acolhe.example").status_code == 301  # to the dashboards at /metrics/


def test_request_latency_is_recorded_per_view_and_status_class(client, db, prometheus):
    before = scrape(client).get(
        ("acolhe_http_request_duration_seconds_count", (("method", "GET"), ("status", "2xx"), ("view", "login"))), 0
    )
    for _ in range(3):
        assert client.get("/login/", HTTP_HOST="acolhe.example").status_code == 200
    client.get("/tickets/999999/", HTTP_HOST="acolhe.example")
    figures = scrape(client)
    labels = (("method", "GET"), ("status", "2xx"), ("view", "login"))
    assert figures[("acolhe_http_request_duration_seconds_count", labels)] == before + 3
    assert figures[("acolhe_http_request_duration_seconds_sum", labels)] > 0
    # The URL name, never the path: a ticket number makes no series of its own.
    assert not any("999999" in str(key) for key in figures)


def test_the_inbound_backlog_counts_stored_mail_until_a_worker_applies_it(client, db, prometheus):
    QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    for n in range(3):
        store_inbound(raw_mail(n), esp="test", enqueue=False)
    figures = scrape(client)
    assert figures[("acolhe_inbound_waiting", ())] == 3
    assert figures[("acolhe_inbound_oldest_waiting_seconds", ())] >= 0
    InboundEmail.objects.filter(pk=InboundEmail.objects.order_by("pk").first().pk).update(status="failed")
    tasks.process_waiting_inbound()
    figures = scrape(client)
    assert figures[("acolhe_inbound_waiting", ())] == 0
    assert figures[("acolhe_inbound_oldest_waiting_seconds", ())] == 0
    assert figures[("acolhe_inbound_failed", ())] == 1


def test_the_sla_sweep_duration_and_task_runs_are_reported_by_any_web_process(client, db, prometheus):
    task = (("task", "tickets.tasks.sla_sweep"),)
    before = scrape(client).get(("acolhe_celery_task_runs_total", task), 0)
    tasks.sla_sweep.delay()
    tasks.sla_sweep.delay()
    figures = scrape(client)
    assert figures[("acolhe_celery_task_runs_total", task)] == before + 2
    assert 0 < figures[("acolhe_celery_task_last_duration_seconds", task)] < 60
    assert figures[("acolhe_celery_task_last_end_timestamp_seconds", task)] > 0


def test_failed_sends_to_the_esp_are_counted(
    client, db, prometheus, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    settings.EMAIL_BACKEND = "tests.helpdesk.test_prometheus.DownESP"
    queue = QueueFactory()
    agent = associate([queue])
    before = scrape(client).get(("acolhe_outbound_send_failures_total", ()), 0)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(TicketFactory(queue=queue).number, "Olá, já desbloqueamos.", actor=agent)
    figures = scrape(client)
    assert figures[("acolhe_outbound_send_failures_total", ())] == before + 7  # the first try and six retries
    assert figures[("acolhe_outbound_waiting", (("state", "queued"),))] == 0


def test_the_queue_depth_is_read_from_the_broker(client, db, prometheus, monkeypatch):
    # This test process's own queue (tests/conftest.py gives each process one). Not a queue set for the test:
    # Celery keeps the queues it declared, so a worker started later in this process would listen to that one.
    queue = celery_app.conf.task_default_queue
    key = ("acolhe_celery_queue_messages", (("queue", queue),))
    before = scrape(client)[key]
    monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
    try:
        for _ in range(4):
            tasks.requeue_stale_inbound.apply_async(queue=queue)
        figures = scrape(client)
        assert figures[key] == before + 4
        assert figures[("acolhe_celery_broker_up", ())] == 1
    finally:
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)


def test_with_a_token_a_scrape_without_it_is_refused(client, db, prometheus, settings):
    settings.ACOLHE_PROMETHEUS_TOKEN = "scrape-secret"
    assert client.get("/metrics", HTTP_HOST="10.1.2.3:8000").status_code == 401
    wrong = client.get("/metrics", HTTP_HOST="10.1.2.3:8000", HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.status_code == 401
    assert scrape(client, HTTP_AUTHORIZATION="Bearer scrape-secret")[("acolhe_celery_broker_up", ())] == 1
