"""Whole pages: what a view renders, plus the navigation every page shows.

Each app contributes its part of the navigation (the SLA and escalation counts, the metrics links, the
must-read banner) by registering a provider in its `AppConfig.ready()`; a view that renders a whole page calls
`render_page`, which reads them for the signed-in user. Template tags and context processors read nothing,
and a page served from the short page cache reads no navigation either."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

Provider = Callable[[User], Any]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Contribute `nav.<name>` to every page. Registering a name again replaces its provider."""
    _providers[name] = provider


def navigation(user: User | AnonymousUser) -> dict[str, Any]:
    """{name: what its provider read for the user}; nothing for a visitor who is not signed in."""
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    return {name: provider(user) for name, provider in _providers.items()}


def render_page(
    request: HttpRequest, template_name: str, context: dict[str, Any] | None = None, *, status: int | None = None
) -> HttpResponse:
    """`render` for a template that extends base.html: the context plus `nav`."""
    return render(request, template_name, {**(context or {}), "nav": navigation(request.user)}, status=status)
