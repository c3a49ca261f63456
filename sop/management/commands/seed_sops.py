from django.core.management.base import BaseCommand

from sop.demo import load_demo_sops


class Command(BaseCommand):
    help = "Load the demo SOPs and macros in pt-BR and en. Running it again changes nothing."

    def handle(self, *args, **options):
        created = load_demo_sops()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {created['sops']} SOPs, {created['versions']} versions and {created['macros']} macros."
            )
        )
