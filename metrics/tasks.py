"""Celery tasks: thin wrappers over `metrics.services`. Every one is safe to run again."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task

from helpdesk.locks import single_run

# The beat-driven tasks run one at a time (a second beat's run returns None at once): see helpdesk/locks.py.


@shared_task(acks_late=True)
@single_run("rollup-today", timeout=600)
def rollup_today() -> int:
    """Beat, every 5 minutes: rebuild today and the earlier days today's reopens changed."""
    from metrics import services
    from metrics.services.rollup import local_today

    return sum(result.rows for result in services.rollup_recent(local_today()))


@shared_task(acks_late=True)
@single_run("rollup-yesterday", timeout=3600)
def rollup_yesterday() -> int:
    """Beat, nightly: rebuild yesterday whole, with everything that arrived late for it."""
    from metrics import services
    from metrics.services.rollup import local_today

    return sum(result.rows for result in services.rollup_recent(local_today() - timedelta(days=1)))


@shared_task(acks_late=True)
def rollup_day(day: str) -> int:
    """Rebuild one day (ISO date), after a QA review or CSAT answer landed on it."""
    from metrics import services

    parsed = date.fromisoformat(day)
    return services.rollup_days(parsed, parsed).rows


@shared_task(acks_late=True)
@single_run("sample-weekly-qa", timeout=3600)
def sample_weekly_qa(per_associate: int = 3) -> int:
    """Beat, Monday mornings: sample last week's solved tickets for QA review."""
    from metrics import services
    from metrics.services.rollup import local_today

    return len(services.sample_week(local_today() - timedelta(days=7), per_associate))
