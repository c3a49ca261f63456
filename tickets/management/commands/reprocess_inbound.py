from django.core.management.base import BaseCommand

from tickets.email.inbound import reprocess
from tickets.models import InboundEmail


class Command(BaseCommand):
    help = "Run failed (or, with --status, ignored/spam) inbound mail through the pipeline again."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="InboundEmail ids; default: every row in --status.")
        parser.add_argument(
            "--status", action="append", choices=["failed", "ignored", "spam", "received"], default=None
        )

    def handle(self, *args, ids: list[int], status: list[str] | None, **options):
        if not ids:
            ids = list(
                InboundEmail.objects.filter(status__in=status or ["failed"]).order_by("pk").values_list("pk", flat=True)
            )
        counts = reprocess(ids)
        self.stdout.write(
            f"{len(ids)} mail(s): " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do")
        )
