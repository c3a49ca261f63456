"""What the apps built on tickets add to its pages and actions, registered from their `AppConfig.ready()`:
`tickets` imports neither `sop` nor `metrics` (tests/tickets/test_import_direction.py checks it), so where the
ticket page shows an upper app's panel, or a reply carries an upper app's macro, the core asks here.

- Ticket page panels: `register_ticket_panel(name, build)`; `build(ticket, user)` returns what the page's
  template reads under `name`. The ticket was read through the user's access rules already.
- The reply with a macro: `register_macro_reply(reply_with_macro)`; the composer and the API send every
  reply through `reply`, which hands one written with a macro to it (`sop.services.reply_with_macro`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tickets.models import Ticket
from tickets.workspace import services as workspace_services

TicketPanel = Callable[[Ticket, AbstractBaseUser], Any]
MacroReply = Callable[..., workspace_services.ReplyResult]

_ticket_panels: dict[str, TicketPanel] = {}
_macro_reply: list[MacroReply] = []


def register_ticket_panel(name: str, build: TicketPanel) -> None:
    """Add a panel to the ticket page, as the template variable `name`. Registering a name again replaces it."""
    _ticket_panels[name] = build


def ticket_panels(ticket: Ticket, user: AbstractBaseUser) -> dict[str, Any]:
    """Every registered panel of this ticket for this user, by name."""
    return {name: build(ticket, user) for name, build in _ticket_panels.items()}


def register_macro_reply(reply_with_macro: MacroReply) -> None:
    """The function that replies with a macro: `reply_with_macro(number, body, *, actor, macro_id, **options)`,
    with the contract of `tickets.workspace.services.reply`."""
    _macro_reply[:] = [reply_with_macro]


def reply(
    number: int, body: str, *, actor: AbstractBaseUser, macro_id: int | str | None = None, **options: Any
) -> workspace_services.ReplyResult:
    """`tickets.workspace.services.reply` (checks access, locks), through the registered macro reply when one
    is registered, so that a macro's actions apply in the same transaction and with the same checks."""
    if _macro_reply:
        return _macro_reply[0](number, body, actor=actor, macro_id=macro_id, **options)
    if macro_id not in (None, ""):
        raise ValidationError(_("This macro is not available any more; choose another one."))
    return workspace_services.reply(number, body, actor=actor, **options)
