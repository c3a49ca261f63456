"""SLA policies on calendars, clocks on tickets, and the sweep that records warnings and breaches."""

from tickets.sla.clocks import (
    clock_views,
    escalation_due_at,
    next_check_at,
    on_public_reply,
    on_requester_message,
    on_status_change,
    policy_for,
    running_clocks,
    set_clocks,
    start_clocks,
    store_next_check,
)
from tickets.sla.sweep import SweepResult, sweep

__all__ = [
    "SweepResult",
    "clock_views",
    "escalation_due_at",
    "next_check_at",
    "on_public_reply",
    "on_requester_message",
    "on_status_change",
    "policy_for",
    "running_clocks",
    "set_clocks",
    "start_clocks",
    "store_next_check",
    "sweep",
]
