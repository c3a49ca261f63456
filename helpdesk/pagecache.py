"""A few seconds' cache of whole pages that people reload all day: the ticket lists, search, the lead
dashboard, the ticket page.

A cached page is kept per user, browser (the CSRF secret its forms carry), language, time zone and URL,
for `ACOLHE_PAGE_CACHE_SECONDS` (10 by default; 0 turns it off). It never hides a person's own work:
every write they make (a POST, PUT, PATCH or DELETE) moves their generation on, and pages kept under an
older generation are not served again. What other people change shows within those few seconds, as it would
on a page that polls. A hard reload (`Cache-Control: no-cache`, which browsers send) always renders afresh,
and so does a page with a flash message waiting to be shown.

Whatever a page records when it is read (the ticket page's access checks and audit) must happen before the
cache is asked: see `cached_response`.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone, translation

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _generation_key(user_id: int) -> str:
    return f"pagecache:gen:{user_id}"


def seconds() -> int:
    return settings.ACOLHE_PAGE_CACHE_SECONDS


def bump(user_id: int) -> None:
    """Pages cached for this user before now are stale."""
    # A timestamp, not a counter: no read-modify-write, and a lost key can never bring an old page back.
    cache.set(_generation_key(user_id), time.time_ns(), timeout=max(seconds(), 1) * 6)


def _kept(user_id: int, key: str, make: Callable[[], object], keep: Callable[[object], object | None]):
    """The value kept at `key` for the user's current generation, else `make()`, kept as `keep(value)`
    (None: not kept) for `seconds()`. Returns (value, whether it came from the cache)."""
    generation_key = _generation_key(user_id)
    found = cache.get_many([generation_key, key])
    generation = found.get(generation_key, 0)
    kept = found.get(key)
    if kept is not None and kept[0] == generation:
        return kept[1], True
    value = make()
    stored = keep(value)
    if stored is not None:
        cache.set(key, (generation, stored), timeout=seconds())
    return value, False


def per_user(user, name: str, compute):
    """A small value every page shows (the counts in the navigation, the must-read banner), kept by the
    same rules as a cached page: per user, for a few seconds, never past the user's own next write."""
    if seconds() <= 0 or not user.is_authenticated:
        return compute()
    value, _hit = _kept(user.pk, f"pagecache:value:{user.pk}:{name}", compute, lambda value: value)
    return value


def _page_key(request, version: str) -> str:
    parts = [
        request.get_full_path(),
        version,
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.META.get("CSRF_COOKIE", ""),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
    ]
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()
    return f"pagecache:page:{request.user.pk}:{digest}"


def _cacheable(request) -> bool:
    if request.method != "GET" or not request.user.is_authenticated:
        return False
    if "no-cache" in request.headers.get("Cache-Control", ""):
        return False
    # The page's forms carry a token made from the browser's CSRF secret: a browser that has none yet gets
    # one made for it, so that page is its own.
    if not request.COOKIES.get(settings.CSRF_COOKIE_NAME):
        return False
    waiting = getattr(request, "_messages", None)
    return not waiting or len(waiting) == 0


def cached_response(request, render: Callable[[], HttpResponse], version: str = "") -> HttpResponse:
    """`render()`'s 200 answer, kept by the rules above. `version` names the state of what the page shows
    (say, a ticket's last change): a page kept for another version is not served."""
    if seconds() <= 0 or not _cacheable(request):
        return render()

    def keep(response):
        if response.status_code != 200 or response.streaming or response.cookies:
            return None
        if hasattr(response, "render") and callable(response.render):
            response.render()
        response["X-Page-Cache"] = "miss"
        return response["Content-Type"], response.content

    kept, hit = _kept(request.user.pk, _page_key(request, version), render, keep)
    if not hit:
        return kept
    content_type, content = kept
    response = HttpResponse(content, content_type=content_type)
    response["X-Page-Cache"] = "hit"
    return response


def cached_page(view):
    """Serve the view's 200 answers from the short page cache described above."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        return cached_response(request, lambda: view(request, *args, **kwargs))

    return wrapper


def leaves_pages_alone(view):
    """For posts that change nothing a cached page shows (presence pings every few seconds, activity
    heartbeats): they must not throw away the user's cached pages."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request.leaves_pages_alone = True
        return view(request, *args, **kwargs)

    return wrapper


class WriteGenerationMiddleware:
    """After any write a signed-in user makes, their cached pages are stale (see `cached_page`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and seconds() > 0 and not getattr(request, "leaves_pages_alone", False):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                bump(user.pk)
        return response
