"""SLA policies for the demo: every queue on a business-hours calendar in São Paulo with Brazil's national
holidays, so clocks, warnings and breaches show from the first run."""

from __future__ import annotations

from datetime import date, timedelta

from tickets.models import Queue, SlaPolicy, Ticket

BUSINESS_HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [["09:00", "13:00"]]
}
# queue kind -> (first response, next response, resolution) in business minutes; urgent tickets faster.
TARGETS: dict[str, dict[int | None, tuple[int, int, int]]] = {
    Queue.Kind.FRONT_LINE: {None: (240, 480, 2400), Ticket.Priority.URGENT: (60, 120, 600)},
    Queue.Kind.CROSS_FUNCTIONAL: {None: (480, 960, 1800), Ticket.Priority.URGENT: (60, 240, 480)},
}


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm in Meeus' Astronomical Algorithms)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    n = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * n) // 451
    month, day = divmod(h + n - 7 * m + 114, 31)
    return date(year, month, day + 1)


def national_holidays(year: int) -> list[date]:
    """Brazil's national holidays (Lei 662/1949, 6.802/1980, 10.607/2002, 14.759/2023) and Good Friday."""
    fixed = [(1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (11, 20), (12, 25)]
    return sorted([date(year, month, day) for month, day in fixed] + [easter(year) - timedelta(days=2)])


def load_demo_policies(queues: dict[str, Queue], today: date) -> int:
    """One policy per queue and one for its urgent tickets, unless the queue has its own already."""
    holidays = [day for year in (today.year - 1, today.year, today.year + 1) for day in national_holidays(year)]
    created = 0
    for queue in queues.values():
        if queue.sla_policies.exists():
            continue
        for priority, (first, following, resolution) in TARGETS[queue.kind].items():
            label = "urgente" if priority else "padrão"
            SlaPolicy.objects.create(
                name=f"{queue.name} · {label}",
                queue=queue,
                priority=priority,
                first_response_minutes=first,
                next_response_minutes=following,
                resolution_minutes=resolution,
                time_zone="America/Sao_Paulo",
                business_hours=BUSINESS_HOURS,
                holidays=holidays,
            )
            created += 1
    return created
