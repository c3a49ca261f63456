"""One run at a time for periodic work, whatever number of workers and beats there are.

Beat is meant to run once, but a deployment can start two by mistake (two replicas, a rolling update that
overlaps), and any number of workers take tasks. The periodic tasks are correct however many run at once
(the SLA sweep claims tickets with SKIP LOCKED and records each alert under a unique constraint, rollups
rewrite day rows under a transaction-level advisory lock): this guard saves the repeated work. A run that
finds another one holding the lock returns at once.

A Redis lock rather than a PostgreSQL session lock: behind PgBouncer in transaction mode a session lock
would stay with whichever server connection took it. The lock expires by itself after `timeout` seconds,
so a worker killed mid-run holds nothing for long.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import ParamSpec, TypeVar

import redis
from django.conf import settings
from redis.lock import Lock

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def lock_key(name: str) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "acolhe")
    return f"{prefix}:lock:{name}"


def single_run_lock(name: str, timeout: float) -> Lock:
    """The lock a `single_run(name)` task takes (tests hold it to play the other beat's run)."""
    return _client(settings.REDIS_URL).lock(lock_key(name), timeout=timeout, blocking=False)


def single_run(name: str, *, timeout: float) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run the decorated function only while no other process runs it; otherwise return None at once."""

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(func)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
            lock = single_run_lock(name, timeout)
            try:
                acquired = lock.acquire()
            except (redis.RedisError, OSError):
                # Redis unreachable: run unguarded, the work is correct without the lock (see above).
                logger.warning("%s: Redis unreachable, running without the single-run lock", name)
                return func(*args, **kwargs)
            if not acquired:
                logger.info("%s: another run holds the lock, skipped", name)
                return None
            try:
                return func(*args, **kwargs)
            finally:
                try:
                    lock.release()
                except (redis.RedisError, OSError):
                    # It expired during a run longer than `timeout` (and another may hold it now): leave it.
                    logger.warning("%s: the run outlasted its %s s lock", name, timeout)

        return guarded

    return decorate
