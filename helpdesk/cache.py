"""The shared cache, degrading instead of failing while Redis is away.

Everything Acolhe keeps in the cache can be lost: cached pages and counts are rendered afresh, sessions are
read from the database (`cached_db`), the inbound wake-up flag is replaced by beat's sweep. So while Redis
does not answer, reads miss, writes are dropped, and `add` reports success (the caller goes ahead as if it
held the key: a wake-up is queued, a rate limit lets the request through). After one failure the cache is
not asked again for `PAUSE_SECONDS`, so a Redis that hangs instead of refusing costs one timeout per process
every few seconds, not one per call.
"""

from __future__ import annotations

import logging
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)
PAUSE_SECONDS = 3.0
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError)


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client of the Redis cache, which makes a `redis.Redis` for every operation (each building its
    table of some 160 reply handlers: about 80 µs, half of a GET's round trip on loopback), keeping one per
    connection pool instead. A `redis.Redis` is safe to share between threads: each command takes a
    connection of the pool for itself."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class TolerantRedisCache(RedisCache):
    """Django's Redis cache; see the module docstring for what changes while Redis is unreachable."""

    _down_until = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def _call(self, name: str, fallback, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return getattr(super(), name)(*args, **kwargs)
        except UNREACHABLE as exc:
            self._down_until = time.monotonic() + PAUSE_SECONDS
            logger.warning("cache unreachable, degrading for %ss: %s", PAUSE_SECONDS, exc)
            return fallback

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", [], data, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", True, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)
