from django.core.management.base import BaseCommand

from tickets.services import fill_search_excerpts


class Command(BaseCommand):
    help = (
        "Give the long message bodies written before search excerpts existed their excerpt, in batches "
        "(safe to stop and run again)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5_000)

    def handle(self, *args, batch_size: int, **options):
        after, filled = 0, 0
        while True:
            after, count = fill_search_excerpts(after=after, batch_size=batch_size)
            if not after:
                break
            filled += count
        self.stdout.write(f"{filled} message(s) given a search excerpt")
