"""Option menus written once and kept with their values.

A list's bulk assignee menu and a ticket's assignee menu hold the people of the reader's queues, a few hundred
names read from the cache on every page (`selectors.queue_members`). Escaping and writing each `<option>` on
every page was about a millisecond of a queue list; a `Menu` writes them when its values are read from the
database and is kept with them, so a page joins strings. The `options` template tag and filter take one as
they take any (value, label) pairs."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from html import escape
from typing import Any


class Menu(list):
    """(value, label) pairs, each with its `<option>` written as the `options` tags write it."""

    def __init__(self, choices: Iterable[tuple[Any, Any]] = ()) -> None:
        super().__init__(choices)
        self.options = [f'<option value="{escape(str(value))}">{escape(str(label))}</option>' for value, label in self]

    def html(self, chosen: Collection[str] = (), leave_out: Any = None) -> str:
        """The `<option>`s, those whose value (as text) is in `chosen` selected, any whose value is `leave_out`
        left out."""
        if not chosen and leave_out is None:
            return "".join(self.options)
        return "".join(
            option.replace('">', '" selected>', 1) if chosen and str(value) in chosen else option
            for (value, _label), option in zip(self, self.options, strict=True)
            if leave_out is None or value != leave_out
        )
