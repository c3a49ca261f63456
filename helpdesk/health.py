"""`/healthz`: 200 when PostgreSQL and Redis both answer, 503 naming the one that does not."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _postgres_ok() -> bool:
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


def _redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"postgres": _postgres_ok(), "redis": _redis_ok()}
    down = [name for name, ok in checks.items() if not ok]
    body = {
        "status": "ok" if not down else "down",
        "checks": {k: "ok" if v else "down" for k, v in checks.items()},
    }
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


class ProbeMiddleware:
    """`/healthz`, and `/metrics` when Prometheus metrics are on, answered first, whatever the Host header:
    a container health check, a Kubernetes probe or a Prometheus scrape calls the container's own address,
    which ALLOWED_HOSTS rightly does not list. Nothing else is served before the host check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        if request.path_info == "/metrics" and settings.ACOLHE_PROMETHEUS_ENABLED:
            from helpdesk.prometheus import metrics_view

            return metrics_view(request)
        return self.get_response(request)
