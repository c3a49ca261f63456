"""Feed .eml files, mbox files and Maildir folders through the same pipeline as the webhooks."""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from tickets.email.inbound import mail_date, process_inbound, store_inbound
from tickets.email.parsing import parse_bytes


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]


def written_at(raw: bytes, now: datetime) -> datetime:
    """When a mail was written (its Date), or `now` when its Date is missing, unparseable or future."""
    try:
        headers = parse_bytes(header_block(raw))
    except Exception:  # a header block the parser cannot read: the mail is still imported, at `now`
        return now
    return mail_date(headers, now)[0]


def iter_raw_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message under `path`."""
    if _is_maildir(path):
        maildir = mailbox.Maildir(path, create=False)
        for key in maildir.iterkeys():
            yield f"{path}:{key}", maildir.get_bytes(key)
    elif path.is_dir():
        for child in sorted(path.rglob("*.eml")):
            yield str(child), child.read_bytes()
    elif _is_mbox(path):
        box = mailbox.mbox(path, create=False)
        for key in box.iterkeys():
            yield f"{path}:{key}", box.get_bytes(key)
    else:
        yield str(path), path.read_bytes()


class Command(BaseCommand):
    help = "Import mail from .eml files, mbox files or Maildir folders (processed inline unless --async)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--async", dest="run_async", action="store_true", help="Queue to the Celery workers.")
        parser.add_argument("--esp", default="import", help="Source name recorded on each stored mail.")

    def handle(self, *args, paths: list[Path], run_async: bool, esp: str, **options):
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"not found: {', '.join(missing)}")
        summary: Counter[str] = Counter()
        now = timezone.now()
        # Oldest first, each at the time it was written: the history keeps its order, and a reply finds
        # the mail it answers already applied.
        messages = sorted(
            ((written_at(raw, now), label, raw) for path in paths for label, raw in iter_raw_messages(path)),
            key=lambda item: item[0],
        )
        progress = tqdm(messages, desc="importing", unit="mail", disable=options["verbosity"] == 0)
        for written, label, raw in progress:
            with transaction.atomic():
                inbound, created = store_inbound(raw, esp=esp, enqueue=run_async, received_at=written)
            if not created:
                summary["duplicate"] += 1
                continue
            if run_async:
                summary["queued"] += 1
                continue
            try:
                summary[process_inbound(inbound.pk).status] += 1
            except Exception as exc:
                summary["failed"] += 1
                self.stderr.write(f"{label}: {type(exc).__name__}: {exc}")
        parts = ", ".join(f"{count} {status}" for status, count in sorted(summary.items()))
        self.stdout.write(f"{len(messages)} mail(s): {parts or 'nothing to do'}")
