"""Writing the audit log: one call per export, erasure, purge, sensitive read or account security change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from tickets.models import AuditLog


def record(actor: User | None, action: str, *, target: str = "", request=None, **detail: Any) -> AuditLog:
    """Append one entry. `actor` None means the system (a nightly task or a command without a user)."""
    ip_address = request.META.get("REMOTE_ADDR") if request is not None else None
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.get_username() if actor is not None and actor.is_authenticated else "system",
        action=action,
        target=target[:200],
        detail=detail,
        ip_address=ip_address or None,
    )
