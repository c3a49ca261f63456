"""Bad input in a query string or a form field (a crafted cursor, an unknown sort key, `assignee=²`) answers
400 with a message the reader can act on, never a 500: parse with these, raise `InvalidInput`, and
`bad_request` (the project's handler400) shows the message on a page or as `{"detail": ...}` on the API."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as django_bad_request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Ids are PostgreSQL bigints.
MAX_ID = 2**63 - 1


class InvalidInput(BadRequest):
    """A request parameter that cannot be understood; its message is shown to the reader."""


def parse_id(raw: object, *, name: str) -> int:
    """A positive whole number written in ASCII digits. `int()` also takes "٣" and " 3 " and fails on "²",
    which `str.isdigit` accepts: neither is an id anyone typed."""
    text = str(raw).strip() if raw is not None else ""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise InvalidInput(_("“%(value)s” is not a valid %(name)s.") % {"value": text[:40], "name": name})
    return int(text)


def optional_id(raw: object, *, name: str) -> int | None:
    """`parse_id`, or None for a missing or empty parameter."""
    if raw is None or str(raw).strip() == "":
        return None
    return parse_id(raw, name=name)


WEBHOOK_PREFIX = "/anymail/"


class RejectNulCharactersMiddleware:
    """PostgreSQL text cannot hold NUL: a query or form value with one would fail deep in a query (a 500 on
    search, lists and SOPs). No one types it, so it is refused at the door."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(WEBHOOK_PREFIX):
            # ESPs post raw mail there: the webhook reads the body as bytes itself (a form read here would
            # consume the stream and decode 8-bit mail), and mail content never reaches a query unescaped.
            return self.get_response(request)
        form = request.POST if request.content_type in FORM_TYPES else None
        for params in (request.GET, form):
            if params is not None and any(_has_nul(key, values) for key, values in params.lists()):
                raise InvalidInput(_("The request contains a NUL character, which no field accepts."))
        return self.get_response(request)


def _has_nul(key: str, values: list) -> bool:
    return "\x00" in key or any(isinstance(value, str) and "\x00" in value for value in values)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not isinstance(exception, InvalidInput):
        return django_bad_request(request, exception)
    message = str(exception.args[0]) if exception.args else _("Bad request.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(render_to_string("400.html", {"message": message}, request=request))
