"""Who else is on a ticket: each open ticket page reports in every few seconds; entries expire by themselves.

One Redis hash per ticket, one field per user ("viewing" or "typing" and when), with a short TTL on the
hash: a closed tab disappears within `PRESENCE_TTL` seconds without any clean-up job. While Redis is away
nobody shows as present and reports are dropped: the ticket page works without it.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache, wraps
from typing import cast

import redis
from django.conf import settings
from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
PRESENCE_TTL = 20
VIEWING, TYPING = "viewing", "typing"


def _without_redis(fallback):
    """Presence is a nicety: with Redis unreachable, answer `fallback` instead of failing the page."""

    def decorate(function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (redis.RedisError, OSError) as exc:
                logger.warning("presence unavailable: %s", exc)
                return fallback() if callable(fallback) else fallback

        return wrapper

    return decorate


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _key(ticket_id: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "acolhe")
    return f"{prefix}:presence:ticket:{ticket_id}"


@_without_redis(None)
def report(ticket_id: int, user: User, state: str = VIEWING) -> None:
    """Say that `user` is on the ticket page (and whether they are typing)."""
    client = _client(settings.REDIS_URL)
    entry = json.dumps(
        {
            "state": TYPING if state == TYPING else VIEWING,
            "name": user.get_full_name() or user.get_username(),
            "at": time.time(),
        }
    )
    pipe = client.pipeline()
    pipe.hset(_key(ticket_id), str(user.pk), entry)
    pipe.expire(_key(ticket_id), PRESENCE_TTL)
    pipe.execute()


@_without_redis(None)
def leave(ticket_id: int, user: User) -> None:
    _client(settings.REDIS_URL).hdel(_key(ticket_id), str(user.pk))


@_without_redis(list)
def others(ticket_id: int, user: User) -> list[dict]:
    """The other people on the ticket right now: [{"user_id", "name", "state"}], typists first."""
    client = _client(settings.REDIS_URL)
    now = time.time()
    found, stale = [], []
    # redis-py types the answers of its sync and asyncio clients as one union.
    entries = cast("dict[bytes, bytes]", client.hgetall(_key(ticket_id)))
    for raw_id, raw in entries.items():
        user_id = int(raw_id)
        try:
            entry = json.loads(raw)
        except ValueError:
            stale.append(raw_id)
            continue
        if now - entry.get("at", 0) > PRESENCE_TTL:
            stale.append(raw_id)
        elif user_id != user.pk:
            found.append({"user_id": user_id, "name": entry.get("name", "?"), "state": entry.get("state", VIEWING)})
    if stale:
        client.hdel(_key(ticket_id), *[raw_id.decode() for raw_id in stale])
    return sorted(found, key=lambda e: (e["state"] != TYPING, e["name"]))
