"""Business-time arithmetic on a calendar: open hours per weekday, holidays, in a time zone.

All arithmetic happens in UTC on interval bounds converted from local wall-clock times, so days that are
shorter or longer than 24 hours (daylight saving changes) are counted as they really pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAY = ((time(0), None),)
# A calendar that never opens would loop forever; ten years without an open hour is a configuration error.
MAX_DAYS = 3660

Interval = tuple[time, time | None]  # None as the end means midnight at the end of the day


def _parse_time(value: str) -> time | None:
    if value in ("24:00", "24:00:00"):
        return None
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a time of day: {value!r}") from exc


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    hours: tuple[tuple[Interval, ...], ...]  # seven entries, Monday first
    holidays: frozenset[date]

    @classmethod
    def always_open(cls, timezone: str = "America/Sao_Paulo") -> Calendar:
        return cls(ZoneInfo(timezone), (ALL_DAY,) * 7, frozenset())

    @classmethod
    def parse(cls, timezone: str, business_hours: dict | None, holidays: Iterable[date | str] = ()) -> Calendar:
        """Build a calendar from a policy's fields; an empty `business_hours` means open 24x7."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {timezone!r}") from exc
        business_hours = business_hours or {}
        if not isinstance(business_hours, dict):
            raise ValueError("business hours must map weekdays to lists of [start, end]")
        unknown = set(business_hours) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekdays: {', '.join(sorted(unknown))} (use {', '.join(WEEKDAYS)})")
        hours: list[tuple[Interval, ...]] = []
        for day in WEEKDAYS:
            if not business_hours:
                hours.append(ALL_DAY)
                continue
            intervals: list[Interval] = []
            for pair in business_hours.get(day) or []:
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValueError(f"{day}: each interval is [start, end]")
                start, end = _parse_time(pair[0]), _parse_time(pair[1])
                if start is None or (end is not None and end <= start):
                    raise ValueError(f"{day}: {pair[0]}-{pair[1]} ends before it starts")
                intervals.append((start, end))
            intervals.sort(key=lambda i: i[0])
            for (_, end), (next_start, _) in pairwise(intervals):
                if end is None or end > next_start:
                    raise ValueError(f"{day}: intervals overlap")
            hours.append(tuple(intervals))
        if not any(hours):
            raise ValueError("the calendar has no open hours")
        days = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
        return cls(zone, tuple(hours), days)

    @property
    def is_24x7(self) -> bool:
        return all(day == ALL_DAY for day in self.hours) and not self.holidays

    def open_intervals(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in UTC, in order, from the local day of `since` on (the first may end before it)."""
        day = since.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            if day not in self.holidays:
                for start, end in self.hours[day.weekday()]:
                    local_start = datetime.combine(day, start, tzinfo=self.zone)
                    local_end = (
                        datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
                        if end is None
                        else datetime.combine(day, end, tzinfo=self.zone)
                    )
                    yield local_start.astimezone(UTC), local_end.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("the calendar has no open hours in the next ten years")

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of open time after `start` (a start outside hours waits for the opening)."""
        if seconds <= 0:
            return start
        if self.is_24x7:
            return start + timedelta(seconds=seconds)
        start = start.astimezone(UTC)
        remaining = timedelta(seconds=seconds)
        for open_at, close_at in self.open_intervals(start):
            if close_at <= start:
                continue
            open_at = max(open_at, start)
            if remaining <= close_at - open_at:
                return open_at + remaining
            remaining -= close_at - open_at
        raise AssertionError("unreachable")  # open_intervals raises first

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Open time from `start` to `end`, in whole seconds (0 when `end` is not after `start`)."""
        if end <= start:
            return 0
        if self.is_24x7:
            return int((end - start).total_seconds())
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta(0)
        for open_at, close_at in self.open_intervals(start):
            if open_at >= end:
                break
            overlap = min(close_at, end) - max(open_at, start)
            if overlap > timedelta(0):
                total += overlap
        return int(total.total_seconds())
