"""How a refused action reads: services raise Django's `ValidationError` or `PermissionDenied`; pages show
`error_text`, and the API answers through `exception_handler`, so no view converts them by hand."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def error_text(exc: ValidationError | PermissionDenied) -> str:
    """One line for a page's message: a ValidationError's messages, or the PermissionDenied's own words."""
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def exception_handler(exc: Exception, context: dict):
    """DRF's handler, which already answers a Django `PermissionDenied` 403 and `Http404` 404, plus a Django
    `ValidationError` from a service as a 400 `{"detail": [messages]}`."""
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError({"detail": exc.messages})
    return drf_exception_handler(exc, context)
