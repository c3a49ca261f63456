"""Parts of the ticket page that apps above `tickets` contribute, such as the SOP panel of `sop`.

`tickets` imports neither `sop` nor `metrics`. An upper app registers a provider for its part in its
`AppConfig.ready()`; `selectors.ticket_page` calls every provider with the ticket and the viewer, after the
viewer's access to the ticket was checked, and the page's template reads each value under its name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User

from tickets.models import Ticket

Provider = Callable[[Ticket, User], Any]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Contribute the page's `name` (the variable its partial reads). Registering a name again replaces
    its provider, so a `ready()` that runs twice does no harm."""
    _providers[name] = provider


def contributed(ticket: Ticket, viewer: User) -> dict[str, Any]:
    """{name: what its provider read for this ticket and viewer}, in registration order."""
    return {name: provider(ticket, viewer) for name, provider in _providers.items()}
