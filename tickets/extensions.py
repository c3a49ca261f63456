"""What the apps built on tickets add to its pages and actions, registered from their `AppConfig.ready()`:
`tickets` imports neither `sop` nor `metrics` (tests/tickets/test_import_direction.py checks it), so where the
ticket page shows an upper app's panel, or a reply carries an upper app's macro, the core asks here.

- Ticket page panels: see `tickets.workspace.panels`.
- The reply with a macro: `register_macro_reply(reply_with_macro)`; the composer and the API send every
  reply through `reply`, which hands one written with a macro to it (`sop.services.reply_with_macro`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tickets.workspace import services as workspace_services

MacroReply = Callable[..., workspace_services.ReplyResult]

_macro_reply: list[MacroReply] = []


def register_macro_reply(reply_with_macro: MacroReply) -> None:
    """The function that replies with a macro: `reply_with_macro(number, body, *, actor, macro_id, **options)`,
    with the contract of `tickets.workspace.services.reply`."""
    _macro_reply[:] = [reply_with_macro]


def reply(
    number: int, body: str, *, actor: User, macro_id: int | str | None = None, **options: Any
) -> workspace_services.ReplyResult:
    """`tickets.workspace.services.reply` (checks access, locks), through the registered macro reply when one
    is registered, so that a macro's actions apply in the same transaction and with the same checks."""
    if _macro_reply:
        return _macro_reply[0](number, body, actor=actor, macro_id=macro_id, **options)
    if macro_id not in (None, ""):
        raise ValidationError(_("This macro is not available any more; choose another one."))
    return workspace_services.reply(number, body, actor=actor, **options)
