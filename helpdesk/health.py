"""`/healthz`: 200 when PostgreSQL, Redis (the cache) and the Celery broker all answer, 503 naming the parts
that do not, always with the same JSON body. It is answered by `ProbeMiddleware`, first in the
middleware list, so it never reads the session, the signed-in user or the Host header: a load balancer's
probe, with or without a session cookie, gets this answer and nothing else. `/metrics`, when Prometheus
metrics are on, is answered the same way: a container health check, a Kubernetes probe or a Prometheus
scrape calls the container's own address, which ALLOWED_HOSTS rightly does not list."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers

PATH = "/healthz"
TIMEOUT_SECONDS = 1


def _postgres_ok() -> bool:
    # Infrastructure, not persistence: the probe asks the server to answer, through the connection the
    # app itself would use; there is no model to read and no ORM path to compare (see tickets/db.py).
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        # Drop the broken connection so the next request opens a fresh one: recovery needs no restart.
        try:
            connection.close()
        except Exception:
            connection.connection = None
        return False


def _ping_redis(url: str) -> bool:
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS, retry_on_timeout=False
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def _redis_ok() -> bool:
    return _ping_redis(settings.REDIS_URL)


def _broker_ok() -> bool:
    """The broker Celery publishes to, which may be another Redis (or RabbitMQ) than the cache."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis+socket://"):
        return _ping_redis("unix://" + url.removeprefix("redis+socket://"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _ping_redis(url)
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
        return True
    except Exception:
        return False


def health() -> tuple[dict, int]:
    """(The JSON body, the status code)."""
    checks = {"postgres": _postgres_ok(), "redis": _redis_ok(), "broker": _broker_ok()}
    down = [name for name, ok in checks.items() if not ok]
    body: dict = {
        "status": "ok" if not down else "down",
        "checks": {name: "ok" if ok else "down" for name, ok in checks.items()},
    }
    if down:
        body["down"] = down
    return body, 503 if down else 200


def healthz(request):
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"status": "method not allowed"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    body, status = health()
    response = JsonResponse(body, status=status)
    add_never_cache_headers(response)
    return response


class ProbeMiddleware:
    """Answers `/healthz` (and `/metrics` when on) before any other middleware runs (see the module docstring).
    Nothing else is served before the host check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") == PATH:
            return healthz(request)
        if request.path_info == "/metrics" and settings.ACOLHE_PROMETHEUS_ENABLED:
            from helpdesk.prometheus import metrics_view

            return metrics_view(request)
        return self.get_response(request)
