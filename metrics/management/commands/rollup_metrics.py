"""Rebuild the daily metric rollups for a date range. Safe to run again: the result is the same."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from metrics import services
from metrics.services.rollup import local_today


class Command(BaseCommand):
    help = "Rebuild the daily metric rollups from the event log for every day from --from to --to (inclusive)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=date.fromisoformat, help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="last", type=date.fromisoformat, help="Last day (YYYY-MM-DD); today.")
        parser.add_argument("--chunk-days", type=int, default=7, help="Days rebuilt per transaction.")

    def handle(self, *args, first: date | None, last: date | None, chunk_days: int, **options):
        last = last or local_today()
        first = first or last
        if last < first:
            raise CommandError("--to is before --from")
        day = first
        tickets = rows = 0
        while day <= last:
            end = min(last, day + timedelta(days=max(chunk_days, 1) - 1))
            result = services.rollup_days(day, end)
            tickets += result.tickets
            rows += result.rows
            day = end + timedelta(days=1)
        self.stdout.write(self.style.SUCCESS(f"Rolled up {first} to {last}: {tickets} tickets, {rows} rows."))
