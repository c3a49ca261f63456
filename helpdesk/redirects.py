"""Where to send the browser next, never off this site (no open redirects)."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_url(request, url: str | None, fallback: str) -> str:
    """`url` when it points at this site, else `fallback`."""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return fallback


def next_url(request, fallback: str) -> str:
    """The `next` the page posted (or asked for), when it is safe."""
    return safe_url(request, request.POST.get("next") or request.GET.get("next"), fallback)


def back_url(request, fallback: str) -> str:
    """Back to the page the form came from: its `next` field, else the referrer."""
    return safe_url(request, request.POST.get("next") or request.META.get("HTTP_REFERER"), fallback)
