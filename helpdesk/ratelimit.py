"""A fixed-window request counter in the shared cache, for public pages outside the API's throttling."""

from __future__ import annotations

import time

from django.core.cache import cache


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def allow(scope: str, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one request for `key` in the current window; False once `limit` is passed. Fails open if the
    cache is down: a rate limit must not take the page down with it."""
    bucket = f"ratelimit:{scope}:{key}:{int(time.time() // window_seconds)}"
    try:
        if cache.add(bucket, 1, timeout=window_seconds + 1):
            return True
        return cache.incr(bucket) <= limit
    except Exception:
        return True
