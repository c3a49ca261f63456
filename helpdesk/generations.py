"""Values kept in the cache until what they are read from changes.

Some things every page shows change seldom while tickets change all the time: the procedures that apply to
a ticket's queue, tags and language; the people of a set of queues, for the assignee menus; the queues'
names; a person's saved views and must-read banner; a reader's dashboard figures. Each such family has a
generation token in the cache, and every kept value is stored with the token it was read under. Any change to
what the family is read from replaces the token (`replace`, connected to the models' signals by the app that
owns the family, or called by the service that writes without signals):
at once, so that the writing transaction reads its own change, and again once it commits, so that a value
kept between the two, from the rows before the change, is not served past the commit. Old values are never
deleted, they expire (`seconds`).

What this does not see: a change made in raw SQL or a queryset `update()` fires no signal, and one made
while Redis is away cannot replace the token. Either shows once the values kept before it expire.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.template.loader import get_template

T = TypeVar("T")

# The families whose token a signal replaces; the test suite forgets them all between tests (a rolled-back
# test database drops rows without a signal).
_families: set[str] = set()


def _token_key(family: str) -> str:
    return f"generation:{family}"


def current(family: str) -> str | None:
    """The family's token, made on first use; None while the cache is away."""
    key = _token_key(family)
    return _made(key, cache.get(key))


def _made(key: str, token: str | None) -> str | None:
    if token is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        token = cache.get(key)
    return token


def kept(family: str, shape: str, read: Callable[[], T], seconds: int) -> T:
    """`read()`, kept for `seconds` under the family's current token and `shape` (everything else the value
    depends on). `read` must not return None. Without the cache, read every time.

    The value is stored with the token it was read under, and the token and the value come in one round trip:
    a value stored under an older token is read again, not served."""
    token_key = _token_key(family)
    digest = hashlib.blake2b(shape.encode(), digest_size=20).hexdigest()
    key = f"kept:{family}:{digest}"
    found = cache.get_many([token_key, key])
    token = _made(token_key, found.get(token_key))
    if token is None:
        return read()
    held = found.get(key)
    if held is not None and held[0] == token:
        return held[1]
    value = read()
    cache.set(key, (token, value), seconds)
    return value


@functools.cache
def template_digest(name: str) -> str:
    """A digest of a template's source, for the keys of HTML kept from it: HTML rendered by another version
    of the template is never served (a deploy changes the key instead of invalidating anything)."""
    source = get_template(name).template.source  # type: ignore[attr-defined]
    return hashlib.blake2b(source.encode(), digest_size=8).hexdigest()


def replace(family: str) -> None:
    """Start a new generation of the family: now, and again when the current transaction commits."""
    key = _token_key(family)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)


# Saves of an account that change nothing a kept value shows: every sign-in writes `last_login`.
SIGN_IN_FIELDS = frozenset({"last_login", "password"})


def replacer(family: str, *, unless_only: frozenset[str] = frozenset()) -> Callable[..., None]:
    """A signal receiver that replaces the family's token (keep a reference: signals hold receivers weakly
    unless connected with `weak=False`); not for a save of only `unless_only` fields (`update_fields`)."""
    _families.add(family)

    def receiver(update_fields=None, **kwargs) -> None:
        if update_fields and unless_only and set(update_fields) <= unless_only:
            return
        replace(family)

    return receiver


def forget_all() -> None:
    """Drop every family's token (for the test suite)."""
    cache.delete_many([_token_key(family) for family in _families])
