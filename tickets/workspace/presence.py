"""Who else is on a ticket: each open ticket page reports in every few seconds; entries expire by themselves.

One Redis hash per ticket, one field per user ("viewing" or "typing" and when), with a short TTL on the
hash: a closed tab disappears within `PRESENCE_TTL` seconds without any clean-up job.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache

import redis
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

PRESENCE_TTL = 20
VIEWING, TYPING = "viewing", "typing"


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _key(ticket_id: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "acolhe")
    return f"{prefix}:presence:ticket:{ticket_id}"


def report(ticket_id: int, user: AbstractBaseUser, state: str = VIEWING) -> None:
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


def leave(ticket_id: int, user: AbstractBaseUser) -> None:
    _client(settings.REDIS_URL).hdel(_key(ticket_id), str(user.pk))


def others(ticket_id: int, user: AbstractBaseUser) -> list[dict]:
    """The other people on the ticket right now: [{"user_id", "name", "state"}], typists first."""
    client = _client(settings.REDIS_URL)
    now = time.time()
    found, stale = [], []
    for raw_id, raw in client.hgetall(_key(ticket_id)).items():
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
        client.hdel(_key(ticket_id), *stale)
    return sorted(found, key=lambda e: (e["state"] != TYPING, e["name"]))
