"""`manage.py privacy export|erase|retention`: the LGPD / GDPR tools from the command line."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from helpdesk.errors import error_text
from tickets.privacy import services as privacy


class Command(BaseCommand):
    help = "Export or erase everything held about a requester, or apply the retention periods now."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "erase", "retention"])
        parser.add_argument("requester", nargs="?", help="The requester's email address or id.")
        parser.add_argument("--output", help="Where to write the export zip (default: requester-<id>.zip).")
        parser.add_argument("--actor", help="Username recorded in the audit log as the one who asked.")
        parser.add_argument("--yes", action="store_true", help="Erase without asking for confirmation.")

    def handle(self, *args, action, requester, output, actor, yes, **options):
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"No user named {actor}.")
        if action == "retention":
            count = privacy.purge_expired_tickets()
            self.stdout.write(f"Scrubbed {count} expired tickets.")
            return
        if not requester:
            raise CommandError("Give the requester's email address or id.")
        found = privacy.find_requester(requester)
        if found is None:
            raise CommandError(f"No requester {requester}.")
        if action == "export":
            path = Path(output or f"requester-{found.pk}.zip")
            try:
                archive = privacy.export_requester(found, actor=user)
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from exc
            path.write_bytes(archive)
            self.stdout.write(f"Wrote {path} ({path.stat().st_size} bytes).")
            return
        if not yes and input(f"Erase {found.email} and all their messages? Type yes: ").strip() != "yes":
            raise CommandError("Not erased.")
        try:
            counts = privacy.erase_requester(found, actor=user)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from exc
        self.stdout.write(
            f"Erased requester {found.pk}: {counts['tickets']} tickets, {counts['messages']} messages, "
            f"{counts['files']} files."
        )
