"""Prometheus metrics at `/metrics`, off unless `ACOLHE_PROMETHEUS_ENABLED` (docs/deploy.md, "Observability").

What a scrape returns, and where each figure comes from:

- `acolhe_http_request_duration_seconds{method,view,status}`: a histogram kept by each web process
  (`RequestMetricsMiddleware`). Several gunicorn workers share theirs through files when
  `PROMETHEUS_MULTIPROC_DIR` is set (`helpdesk/gunicorn_conf.py` cleans up after a worker that exits).
- `acolhe_celery_queue_messages{queue}`: tasks waiting in the broker, asked at scrape time.
- `acolhe_celery_task_*{task}`: runs, failures and seconds spent per task, and the last run's duration
  and end (the SLA sweep's duration is `acolhe_celery_task_last_duration_seconds{task="...sla_sweep"}`).
  Workers write them to Redis as tasks end, so any web process reports all workers' figures.
- `acolhe_inbound_waiting`, `acolhe_inbound_oldest_waiting_seconds`, `acolhe_inbound_failed`: stored mail
  not applied yet, how long the oldest has waited, mail that failed (read through the status index).
- `acolhe_outbound_waiting{state}` (queued, sending: partial indexes) and
  `acolhe_outbound_send_failures_total`: attempts to hand a message to the ESP that failed.

The endpoint answers whatever Host the scraper sends (it is served by `ProbeMiddleware`, before the host
check: Prometheus scrapes pod addresses); keep it off the public proxy, or set `ACOLHE_PROMETHEUS_TOKEN`
and scrape with that bearer token.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from functools import lru_cache
from typing import cast

import redis
from celery import signals
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

SEND_TASK = "tickets.tasks.send_message"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# This process's own metrics; `registry()` adds the figures read at scrape time.
PROCESS_REGISTRY = CollectorRegistry()
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    PROCESS_REGISTRY.register(_collector)
REQUEST_LATENCY = Histogram(
    "acolhe_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, view and status class.",
    ["method", "view", "status"],
    buckets=LATENCY_BUCKETS,
    registry=PROCESS_REGISTRY,
)


class RequestMetricsMiddleware:
    """Times every request (after the probes): the view is its URL name, never the path (one series per
    ticket number would be unbounded)."""

    def __init__(self, get_response):
        if not settings.ACOLHE_PROMETHEUS_ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match else "unmatched"
        REQUEST_LATENCY.labels(request.method, view, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


# Task figures: one Redis hash, fields "<task>|<figure>".


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _tasks_key() -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "acolhe")
    return f"{prefix}:prometheus:tasks"


# Runs in progress in this process, by task id and try (an eager retry runs inside the try it retries).
_started: dict[tuple[str, int], float] = {}


def _run_key(task_id, task) -> tuple[str, int]:
    return str(task_id), getattr(task.request, "retries", 0) or 0


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs) -> None:
    if settings.ACOLHE_PROMETHEUS_ENABLED and task_id and task is not None:
        _started[_run_key(task_id, task)] = time.perf_counter()


@signals.task_postrun.connect
def _task_ended(task_id=None, task=None, retval=None, state=None, **kwargs) -> None:
    if not task_id or task is None:
        return
    started = _started.pop(_run_key(task_id, task), None)
    if started is None:
        return
    seconds = time.perf_counter() - started
    name = task.name
    failed = state not in ("SUCCESS", None)
    try:
        pipe = _client(settings.REDIS_URL).pipeline(transaction=False)
        key = _tasks_key()
        pipe.hincrby(key, f"{name}|runs", 1)
        pipe.hincrbyfloat(key, f"{name}|seconds", seconds)
        pipe.hset(key, f"{name}|last_duration", repr(seconds))
        pipe.hset(key, f"{name}|last_end", repr(time.time()))
        if failed:
            pipe.hincrby(key, f"{name}|failures", 1)
        # A send that failed is retried (state RETRY) until the last try gives up and returns "failed".
        if name == SEND_TASK and (failed or retval == "failed"):
            pipe.hincrby(key, "outbound|send_failures", 1)
        pipe.execute()
    except (redis.RedisError, OSError):
        logger.warning("task metrics not recorded: Redis unreachable")


def task_figures() -> dict[str, dict[str, float]]:
    """{task name: {figure: value}} as the workers recorded them."""
    figures: dict[str, dict[str, float]] = {}
    # redis-py types the answers of its sync and asyncio clients as one union.
    recorded = cast("dict[bytes, bytes]", _client(settings.REDIS_URL).hgetall(_tasks_key()))
    for field, value in recorded.items():
        name, _, figure = field.decode().rpartition("|")
        figures.setdefault(name, {})[figure] = float(value)
    return figures


class AcolheCollector:
    """The figures read at scrape time from PostgreSQL, Redis and the broker."""

    def collect(self):
        yield from self._queue_depth()
        yield from self._tasks()
        yield from self._inbound()
        yield from self._outbound()

    def _queue_depth(self):
        from helpdesk.celery import app

        depth = GaugeMetricFamily("acolhe_celery_queue_messages", "Tasks waiting in the broker.", labels=["queue"])
        up = GaugeMetricFamily("acolhe_celery_broker_up", "1 when the broker answered this scrape.")
        queue = app.conf.task_default_queue
        try:
            with app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1)
                try:
                    _, waiting, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
                except connection.channel_errors:
                    waiting = 0  # Redis keeps no empty list: a queue with nothing waiting does not exist
            depth.add_metric([queue], waiting)
            up.add_metric([], 1)
        except Exception:
            logger.warning("broker unreachable for the queue depth", exc_info=True)
            up.add_metric([], 0)
        yield depth
        yield up

    def _tasks(self):
        runs = CounterMetricFamily("acolhe_celery_task_runs", "Task runs that ended, by task.", labels=["task"])
        failures = CounterMetricFamily(
            "acolhe_celery_task_failures", "Task runs that raised (retries included).", labels=["task"]
        )
        seconds = CounterMetricFamily(
            "acolhe_celery_task_seconds", "Seconds spent running the task, all runs.", labels=["task"]
        )
        last = GaugeMetricFamily(
            "acolhe_celery_task_last_duration_seconds", "How long the task's last run took.", labels=["task"]
        )
        last_end = GaugeMetricFamily(
            "acolhe_celery_task_last_end_timestamp_seconds", "When the task's last run ended.", labels=["task"]
        )
        send_failures = CounterMetricFamily(
            "acolhe_outbound_send_failures", "Attempts to hand an outbound message to the ESP that failed."
        )
        try:
            figures = task_figures()
        except (redis.RedisError, OSError):
            figures = {}
        send_failures.add_metric([], figures.pop("outbound", {}).get("send_failures", 0))
        for name, values in sorted(figures.items()):
            runs.add_metric([name], values.get("runs", 0))
            failures.add_metric([name], values.get("failures", 0))
            seconds.add_metric([name], values.get("seconds", 0))
            if "last_duration" in values:
                last.add_metric([name], values["last_duration"])
                last_end.add_metric([name], values["last_end"])
        yield from (runs, failures, seconds, last, last_end, send_failures)

    def _inbound(self):
        from tickets.models import InboundEmail

        by_status = dict(
            InboundEmail.objects.filter(status__in=[InboundEmail.Status.RECEIVED, InboundEmail.Status.FAILED])
            .order_by()
            .values_list("status")
            .annotate(Count("id"))
        )
        oldest = InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED).aggregate(at=Min("received_at"))["at"]
        yield GaugeMetricFamily(
            "acolhe_inbound_waiting",
            "Stored mail not applied yet.",
            value=by_status.get(InboundEmail.Status.RECEIVED, 0),
        )
        yield GaugeMetricFamily(
            "acolhe_inbound_oldest_waiting_seconds",
            "How long the oldest mail not applied yet has waited (0 when none waits).",
            value=max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "acolhe_inbound_failed",
            "Stored mail whose processing failed (see the admin).",
            value=by_status.get(InboundEmail.Status.FAILED, 0),
        )

    def _outbound(self):
        from tickets.models import Message

        waiting = GaugeMetricFamily(
            "acolhe_outbound_waiting", "Outbound messages not handed to the ESP yet.", labels=["state"]
        )
        for state in (Message.Delivery.QUEUED, Message.Delivery.SENDING):
            waiting.add_metric([state.value], Message.objects.filter(delivery_status=state).count())
        yield waiting


def registry() -> CollectorRegistry:
    """This process's metrics, or every web process's when they share a multiprocess directory."""
    combined = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(combined)
    else:
        combined.register(PROCESS_REGISTRY)
    combined.register(AcolheCollector())
    return combined


def metrics_view(request) -> HttpResponse:
    token = settings.ACOLHE_PROMETHEUS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    response = HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
