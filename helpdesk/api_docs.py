"""The API's descriptions in the reader's language.

An endpoint's description is written once, translatable, in its `extend_schema(description=...)`: the schema
and its docs pages (Swagger UI, ReDoc) read it there. DRF's browsable API would show the docstring instead,
which is English only; `view_description` (the `VIEW_DESCRIPTION_FUNCTION`) asks the same schema first."""

from __future__ import annotations

from django.utils.encoding import force_str
from drf_spectacular.openapi import AutoSchema
from rest_framework import views
from rest_framework.utils import formatting


def view_description(view, html: bool = False) -> str:
    """The description `extend_schema` gives this view's action, translated; else DRF's own (the docstring)."""
    declared = _declared_description(view)
    if declared is None:
        return views.get_view_description(view, html)
    text = formatting.dedent(force_str(declared))
    return formatting.markup_description(text) if html else text


def _declared_description(view):
    request = getattr(view, "request", None)
    if request is None:
        return None
    action = getattr(view, "action", None) or request.method.lower()
    handler = getattr(view, action, None)
    # The schema `extend_schema` put on the handler (as the schema generator reads it), else the view's.
    schema_class = getattr(handler, "kwargs", {}).get("schema") or type(getattr(type(view), "schema", None))
    if not isinstance(schema_class, type) or not issubclass(schema_class, AutoSchema):
        return None
    # A fresh inspector: the one on the view class is shared between requests.
    inspector = schema_class()
    inspector.view = view
    inspector.method = request.method.upper()
    description = inspector.get_description()
    return description or None
