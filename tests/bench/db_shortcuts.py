"""Each persistence shortcut of `tickets/db.py` against the ORM path it replaces, on the exact operation:
microseconds per call (best of 3 rounds of N calls, each round inside a transaction that is rolled back)
and the ratio. The figures named in `tickets/db.py` come from this.

Run with `python -m tests.bench.db_shortcuts [--quick]` against a migrated database (DATABASE_URL); it
writes nothing that stays.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

ROUNDS = 3


class Rollback(Exception):
    pass


def timed(setup: Callable[[], Callable[[int], object]], calls: int) -> float:
    """Microseconds per call of the function `setup()` returns, best of ROUNDS, each round rolled back."""
    from django.db import transaction

    best = float("inf")
    for _ in range(ROUNDS):
        try:
            with transaction.atomic():
                call = setup()
                started = time.perf_counter()
                for index in range(calls):
                    call(index)
                best = min(best, (time.perf_counter() - started) / calls * 1e6)
                raise Rollback
        except Rollback:
            pass
    return best


def main(quick: bool) -> dict[str, dict[str, float]]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from tickets import db
    from tickets.models import (
        ExposureBudget,
        ExposureEntry,
        InboundEmail,
        Message,
        Profile,
        Queue,
        Requester,
        SlaCheck,
        Ticket,
        TicketEvent,
    )

    calls = 100 if quick else 500
    run = uuid.uuid4().hex[:8]
    User = get_user_model()

    def world():
        queue = Queue.objects.create(slug=f"bench-{run}", name="Bench", languages=["pt"])
        user = User.objects.create(username=f"bench-{run}")
        Profile.objects.create(user=user, languages=["pt"], skills=[])
        queue.members.add(user)
        ExposureBudget.objects.create(user=user)
        requester = Requester.objects.create(email=f"bench-{run}@example.com")
        ticket = Ticket.objects.create(requester=requester, queue=queue, subject="Bench", language="pt")
        inbound = InboundEmail.objects.create(esp="bench", raw=b"x", dedupe_key=f"bench-{run}")
        return queue, user, requester, ticket, inbound

    def inbound_row(index):
        return InboundEmail(esp="bench", raw=b"x" * 2000, raw_sha256="0" * 64, dedupe_key=f"<{run}-{index}@b>")

    results: dict[str, dict[str, float]] = {}

    def compare(name: str, shortcut, orm) -> None:
        fast, slow = timed(shortcut, calls), timed(orm, calls)
        results[name] = {"shortcut_us": round(fast), "orm_us": round(slow), "orm_over_shortcut": round(slow / fast, 2)}
        print(f"{name:<24} shortcut {fast:8.0f} us   orm {slow:8.0f} us   x{slow / fast:5.2f}", flush=True)

    # The webhook's insert-unless-stored.
    def insert_inbound_raw():
        return lambda i: db.insert_row(inbound_row(i), on_conflict="(dedupe_key) DO NOTHING")

    def insert_inbound_orm():
        def call(i):
            row = inbound_row(i)
            InboundEmail.objects.get_or_create(
                dedupe_key=row.dedupe_key, defaults={"esp": row.esp, "raw": row.raw, "raw_sha256": row.raw_sha256}
            )

        return call

    compare("insert_inbound", insert_inbound_raw, insert_inbound_orm)

    # An inbound message.
    def message_setup(save):
        def setup():
            _queue, _user, _requester, ticket, _inbound = world()

            def call(i):
                message = Message(
                    ticket=ticket, direction=Message.Direction.IN, from_address="a@example.com",
                    body_text="Olá " * 100, message_id=f"<m{run}-{i}@b>", language="pt",
                )  # fmt: skip
                save(message)

            return call

        return setup

    compare(
        "insert_message (removed)",
        message_setup(db.insert_row),
        message_setup(lambda message: message.save(force_insert=True)),
    )

    # The requester of each mail: half new, half known.
    def upsert_raw():
        now = timezone.now()
        return lambda i: db.upsert_requester(f"r{run}-{i // 2}@example.com", "Nome", "pt", now)

    def upsert(email: str) -> None:
        found = Requester.objects.select_for_update().filter(email__iexact=email).first()
        if found is None:
            with transaction.atomic():
                Requester.objects.create(email=email, name="Nome", language="pt")
        else:
            found.language = "pt"
            found.save(update_fields=["language"])

    def upsert_orm():
        return lambda i: upsert(f"r{run}-{i // 2}@example.com")

    compare("upsert_requester", upsert_raw, upsert_orm)

    # The thread lookups of a reply and its requester (half new, half known).
    def hints_raw():
        world()
        now = timezone.now()
        return lambda i: db.thread_hints_and_requester(
            f"<x{i}@b>", [f"<p{i}@b>"], ["processed"], [f"<p{i}@b>"], 10**8 + i,
            email=f"h{run}-{i // 2}@example.com", name="Nome", language="pt", now=now, wait_for_parents=True,
        )  # fmt: skip

    def hints_orm():
        world()

        def call(i):
            mid, parents = f"<x{i}@b>", [f"<p{i}@b>"]
            Message.objects.filter(message_id=mid).exclude(message_id="").values_list("ticket_id").first()
            InboundEmail.objects.filter(dedupe_key__in=parents).exclude(status="processed").exists()
            Message.objects.filter(message_id__in=parents).order_by("-created_at").values_list("ticket_id").first()
            Ticket.objects.filter(number=10**8 + i).values_list("id").first()
            Ticket.objects.filter(number=10**8 + i).values_list("requester_id").first()
            Message.objects.filter(in_reply_to=mid).order_by("created_at", "id").values_list("ticket_id").first()
            upsert(f"h{run}-{i // 2}@example.com")

        return call

    compare("thread_hints_and_requester", hints_raw, hints_orm)

    # The end of a mail: its status, three events, the ticket touched.
    def finish_setup(shortcut: bool):
        def setup():
            _queue, _user, _requester, ticket, inbound = world()

            def call(i):
                events = [TicketEvent(ticket=ticket, kind=TicketEvent.Kind.MESSAGE_RECEIVED) for _ in range(3)]
                inbound.status, inbound.processed_at, inbound.ticket_id = "processed", timezone.now(), ticket.pk
                ticket.last_message_at = ticket.updated_at = timezone.now()
                if shortcut:
                    db.finish_applied_mail(inbound, events, touch=ticket)
                else:
                    TicketEvent.objects.bulk_create(events)
                    Ticket.objects.filter(pk=ticket.pk).update(
                        last_message_at=ticket.last_message_at, updated_at=ticket.updated_at
                    )
                    inbound.save(update_fields=["status", "reason", "ticket", "processed_at", "attempts"])

            return call

        return setup

    compare("finish_applied_mail", finish_setup(True), finish_setup(False))

    # Next ticket: claim one of many eligible tickets.
    def claim_setup(shortcut: bool):
        def setup():
            queue, user, requester, _ticket, _inbound = world()
            Ticket.objects.bulk_create(
                Ticket(requester=requester, queue=queue, subject=f"t{n}", language="pt", status=Ticket.Status.NEW)
                for n in range(calls)
            )
            eligible = (
                Ticket.objects.filter(queue=queue, assignee__isnull=True, status__in=["new", "open"])
                .order_by("created_at", "id")
                .select_for_update(skip_locked=True, of=("self",))
            )
            sql, params = db.claim_sql(eligible.values_list("id", "status")[:1])

            def call(i):
                if shortcut:
                    db.claim(sql, params, assignee_id=user.pk, now=timezone.now())
                    return
                ticket = eligible.select_related("queue", "requester").first()
                SlaCheck.objects.filter(ticket=ticket).values_list("next_check_at", flat=True).first()
                ticket.assignee_id, ticket.status = user.pk, Ticket.Status.OPEN
                ticket.solved_at = ticket.closed_at = None
                ticket.save(update_fields=["assignee", "status", "solved_at", "closed_at", "updated_at"])

            return call

        return setup

    compare("claim", claim_setup(True), claim_setup(False))

    def budget_setup(shortcut: bool):
        def setup():
            user = world()[1]
            if shortcut:
                return lambda i: db.locked_budget(user.pk)
            return lambda i: ExposureBudget.objects.select_for_update().filter(user_id=user.pk).first()

        return setup

    compare("locked_budget", budget_setup(True), budget_setup(False))

    def intake_setup(shortcut: bool):
        def setup():
            queue, user, requester, _ticket, _inbound = world()
            tickets = Ticket.objects.bulk_create(
                Ticket(requester=requester, queue=queue, subject=f"t{n}", language="pt") for n in range(calls)
            )
            if shortcut:
                return lambda i: db.add_intake(user, tickets[i], timezone.now())
            return lambda i: ExposureEntry.objects.get_or_create(
                user=user, ticket=tickets[i], defaults={"sensitive": False, "categories": []}
            )

        return setup

    compare("add_intake", intake_setup(True), intake_setup(False))

    def shift_setup(shortcut: bool):
        def setup():
            user = world()[1]
            since = timezone.now() - timedelta(hours=8)
            if shortcut:
                return lambda i: db.shift_entries(user.pk, since, 2)

            def call(i):
                from django.db.models import Count, Q, Sum

                from tickets.models import TeamWellbeingPolicy

                ExposureEntry.objects.filter(user_id=user.pk, taken_at__gte=since).aggregate(
                    taken=Count("id", filter=Q(sensitive=True)), seconds=Sum("seconds", filter=Q(sensitive=True))
                )
                list(
                    ExposureEntry.objects.filter(user_id=user.pk, taken_at__gte=since)
                    .order_by("-taken_at", "-id")
                    .values_list("sensitive", flat=True)[:2]
                )
                TeamWellbeingPolicy.objects.filter(team__members__user_id=user.pk).order_by("team__members__id").first()

            return call

        return setup

    compare("shift_entries", shift_setup(True), shift_setup(False))

    def counts_setup(shortcut: bool):
        def setup():
            queue, user, *_ = world()
            querysets = {
                "mine": Ticket.objects.filter(assignee=user),
                "unassigned": Ticket.objects.filter(assignee__isnull=True, queue=queue),
                "queue": Ticket.objects.filter(queue=queue),
                "open": Ticket.objects.filter(status="open"),
            }
            if shortcut:
                return lambda i: db.capped_counts(querysets, 1000)
            return lambda i: {name: qs.order_by().values("pk")[:1001].count() for name, qs in querysets.items()}

        return setup

    compare("capped_counts", counts_setup(True), counts_setup(False))

    def profile_setup(shortcut: bool):
        def setup():
            user = world()[1]
            if shortcut:
                return lambda i: db.profile_facts(user.pk)
            return (
                lambda i: Profile.objects.filter(user_id=user.pk)
                .order_by("id")
                .values_list("languages", "skills")
                .first()
            )

        return setup

    compare("profile_facts", profile_setup(True), profile_setup(False))

    def events_setup(shortcut: bool):
        def setup():
            ticket = world()[3]

            def call(i):
                events = [TicketEvent(ticket=ticket, kind=TicketEvent.Kind.ASSIGNED) for _ in range(2)]
                if shortcut:
                    db.insert_events(events)
                else:
                    TicketEvent.objects.bulk_create(events)

            return call

        return setup

    compare("insert_events", events_setup(True), events_setup(False))
    return results


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
