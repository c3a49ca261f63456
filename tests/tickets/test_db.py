"""Twin tests of the persistence shortcuts (`tickets/db.py`): each shortcut and the ORM path it replaces
run on the same input, and every concrete column of what they write (or read) must match, so a field, a
default or a constraint added to one of these models cannot be skipped by a shortcut without a failing test.
The models they write must not gain a custom `save()`, a `pre_save`/`post_save` receiver or a database
default either: the shortcut would skip it."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchConfig, SearchHeadline, SearchQuery, SearchRank
from django.db.models import (
    NOT_PROVIDED,
    Case,
    Exists,
    F,
    FloatField,
    Func,
    Model,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Left
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from tests.factories import (
    MessageFactory,
    ProfileFactory,
    QueueFactory,
    RequesterFactory,
    TeamFactory,
    TicketFactory,
    associate,
)
from tickets import db, selectors
from tickets.models import (
    SEARCH_CONFIGS,
    Escalation,
    ExposureBudget,
    ExposureEntry,
    InboundEmail,
    Message,
    Notification,
    Profile,
    Queue,
    Requester,
    Role,
    SlaAlert,
    SlaClock,
    TeamWellbeingPolicy,
    Ticket,
    TicketEvent,
    unaccent,
)

pytestmark = pytest.mark.django_db

# Models a shortcut writes rows of (Ticket: updated by the claim, never inserted), and the custom save() each
# may have, with why skipping it is fine.
WRITTEN = {
    InboundEmail: None,
    TicketEvent: "refuses to update a saved event; a shortcut only inserts",
    Requester: None,
    Ticket: None,
    ExposureEntry: None,
    SlaAlert: None,
}
INSERTED = [InboundEmail, TicketEvent, Requester, ExposureEntry, SlaAlert]


def columns(model: type[Model], pk, *, leave_out: tuple[str, ...] = ("id",)) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in leave_out}


def fields_of(instance: Model, *, leave_out: tuple[str, ...] = ()) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
        if f.attname not in leave_out
    }


@pytest.mark.parametrize("model", list(WRITTEN), ids=lambda model: model.__name__)
def test_models_written_by_shortcuts_have_nothing_a_shortcut_would_skip(model):
    if model in INSERTED:
        assert [f.name for f in model._meta.concrete_fields if f.db_default is not NOT_PROVIDED] == []
    assert not pre_save.has_listeners(model) and not post_save.has_listeners(model)
    assert (model.save is not Model.save) == (WRITTEN[model] is not None)


def test_insert_row_writes_what_create_writes():
    now = timezone.now()
    fields = {
        "esp": "postmark",
        "raw": b"From: a@example.com\r\n\r\nOi",
        "raw_sha256": "a" * 64,
        "message_id": "<a@example.com>",
        "envelope_recipient": "suporte@acolhe.example",
        "envelope_sender": "a@example.com",
        "spam_detected": True,
        "spam_score": 4.5,
        "received_at": now,
    }
    shortcut = InboundEmail(dedupe_key="<a@example.com>", **fields)
    assert db.insert_row(shortcut, on_conflict="(dedupe_key) DO NOTHING")
    orm = InboundEmail.objects.create(dedupe_key="<b@example.com>", **fields)
    leave_out = ("id", "dedupe_key")
    assert columns(InboundEmail, shortcut.pk, leave_out=leave_out) == columns(InboundEmail, orm.pk, leave_out=leave_out)
    # The instance reads as a saved one, as after save().
    assert fields_of(shortcut, leave_out=(*leave_out, "raw")) == fields_of(
        InboundEmail.objects.get(pk=shortcut.pk), leave_out=(*leave_out, "raw")
    )
    assert not shortcut._state.adding
    # The conflict clause inserts nothing and says so.
    assert not db.insert_row(
        InboundEmail(dedupe_key="<a@example.com>", **fields), on_conflict="(dedupe_key) DO NOTHING"
    )


def events_for(ticket: Ticket, message: Message, actor, at) -> list[TicketEvent]:
    return [
        TicketEvent(ticket=ticket, kind=TicketEvent.Kind.CREATED, new_value={"queue": "suporte"}, created_at=at),
        TicketEvent(ticket=ticket, kind=TicketEvent.Kind.MESSAGE_RECEIVED, message=message, created_at=at),
        TicketEvent(ticket=ticket, kind=TicketEvent.Kind.ASSIGNED, actor=actor, new_value={"id": 1}, created_at=at),
    ]


def test_insert_events_writes_what_bulk_create_writes_in_the_same_order():
    ticket = TicketFactory()
    message = Message.objects.create(ticket=ticket, direction=Message.Direction.IN, body_text="Oi")
    agent = associate([ticket.queue])
    at = timezone.now() - timedelta(minutes=3)
    db.insert_events(events_for(ticket, message, agent, at))
    shortcut = list(TicketEvent.objects.filter(ticket=ticket).order_by("id"))
    TicketEvent.objects.bulk_create(events_for(ticket, message, agent, at))
    orm = list(TicketEvent.objects.filter(ticket=ticket).order_by("id"))[3:]
    assert [columns(TicketEvent, e.pk) for e in shortcut] == [columns(TicketEvent, e.pk) for e in orm]
    assert [e.kind for e in shortcut] == ["created", "message_received", "assigned"]


def test_upsert_requester_writes_and_returns_what_the_orm_would():
    now = timezone.now()
    made, created = db.upsert_requester("Paula@Example.com", "Paula Reis", "pt", now)
    assert created
    orm = Requester.objects.create(email="paula@example.org", name="Paula Reis", language="pt", created_at=now)
    assert columns(Requester, made.pk, leave_out=("id", "email")) == columns(
        Requester, orm.pk, leave_out=("id", "email")
    )
    assert fields_of(made) == fields_of(Requester.objects.get(pk=made.pk))
    # Known address, any case: a missing name is filled, the language given is taken, the spelling kept.
    Requester.objects.filter(pk=made.pk).update(name="")
    again, created = db.upsert_requester("PAULA@example.com", "Paula", "en", now)
    assert not created and again.pk == made.pk
    assert fields_of(again) == fields_of(Requester.objects.get(pk=made.pk))
    assert (again.email, again.name, again.language) == ("paula@example.com", "Paula", "en")


def test_finish_applied_mail_writes_what_three_orm_statements_write():
    def applied(dedupe_key):
        ticket = TicketFactory()
        inbound = InboundEmail.objects.create(esp="test", raw=b"x", dedupe_key=dedupe_key)
        inbound.status, inbound.reason, inbound.ticket_id = InboundEmail.Status.PROCESSED, "", ticket.pk
        inbound.processed_at, inbound.attempts = timezone.now(), 2
        ticket.last_message_at = ticket.updated_at = timezone.now() - timedelta(hours=1)
        return ticket, inbound

    ticket, inbound = applied("<s@example.com>")
    events = [TicketEvent(ticket=ticket, kind=TicketEvent.Kind.MESSAGE_RECEIVED, created_at=inbound.processed_at)]
    db.finish_applied_mail(inbound, events, touch=ticket)
    twin, twin_inbound = applied("<o@example.com>")
    twin_inbound.processed_at, twin.last_message_at, twin.updated_at = (
        inbound.processed_at,
        ticket.last_message_at,
        ticket.updated_at,
    )
    TicketEvent.objects.bulk_create(
        [TicketEvent(ticket=twin, kind=TicketEvent.Kind.MESSAGE_RECEIVED, created_at=inbound.processed_at)]
    )
    Ticket.objects.filter(pk=twin.pk).update(last_message_at=twin.last_message_at, updated_at=twin.updated_at)
    twin_inbound.save(update_fields=["status", "reason", "ticket", "processed_at", "attempts"])

    mail_columns = ("id", "dedupe_key", "ticket_id", "received_at")
    assert columns(InboundEmail, inbound.pk, leave_out=mail_columns) == columns(
        InboundEmail, twin_inbound.pk, leave_out=mail_columns
    )
    touched = ("last_message_at", "updated_at")
    assert Ticket.objects.filter(pk=ticket.pk).values(*touched).get() == {
        "last_message_at": ticket.last_message_at,
        "updated_at": ticket.updated_at,
    }
    assert [
        columns(TicketEvent, e.pk, leave_out=("id", "ticket_id")) for e in TicketEvent.objects.filter(ticket=ticket)
    ] == [columns(TicketEvent, e.pk, leave_out=("id", "ticket_id")) for e in TicketEvent.objects.filter(ticket=twin)]


def test_finish_applied_mails_writes_what_each_mails_own_statement_writes_in_turn():
    # A worker batch: two mails on one ticket (the later one read the ticket before the first was written),
    # an ignored mail (no events, no ticket), a mail on another ticket; then the same, one statement each.
    now = timezone.now()

    def batch(tag):
        first, other = TicketFactory(), TicketFactory()
        mails = [
            InboundEmail.objects.create(esp="test", raw=b"x", dedupe_key=f"<{tag}{n}@example.com>") for n in range(4)
        ]
        outcomes = [("processed", "", first), ("processed", "", first), ("ignored", "auto-reply", None),
                    ("processed", "", other)]  # fmt: skip
        for mail, (status, reason, ticket) in zip(mails, outcomes, strict=True):
            mail.status, mail.reason, mail.processed_at, mail.attempts = status, reason, now, 1
            mail.ticket_id = ticket.pk if ticket else None
        # (ticket, last_message_at, updated_at) each mail leaves, and its events.
        touches = [
            (first, now - timedelta(minutes=2), now - timedelta(minutes=1)),
            (first, now - timedelta(minutes=3), now),
            None,
            (other, now - timedelta(minutes=5), now - timedelta(minutes=4)),
        ]
        events = [
            [TicketEvent(ticket=first, kind=TicketEvent.Kind.MESSAGE_RECEIVED, created_at=now)],
            [
                TicketEvent(ticket=first, kind=TicketEvent.Kind.REOPENED, created_at=now),
                TicketEvent(ticket=first, kind=TicketEvent.Kind.MESSAGE_RECEIVED, created_at=now),
            ],
            [],
            [TicketEvent(ticket=other, kind=TicketEvent.Kind.MESSAGE_RECEIVED, created_at=now)],
        ]
        return (first, other), mails, touches, events

    tickets, mails, touches, events = batch("b")
    db.finish_applied_mails(
        mails,
        [e for mail_events in events for e in mail_events],
        [(t.pk, at, up) for t, at, up in filter(None, touches)],
    )
    twins, twin_mails, twin_touches, twin_events = batch("t")
    for mail, touch, mail_events in zip(twin_mails, twin_touches, twin_events, strict=True):
        ticket = None
        if touch is not None:
            # What `_apply` leaves on the ticket it read: the latest of its and the mail's time.
            ticket = Ticket.objects.get(pk=touch[0].pk)
            ticket.last_message_at = max(touch[1], ticket.last_message_at or touch[1])
            ticket.updated_at = touch[2]
        db.finish_applied_mail(mail, mail_events, touch=ticket)

    mail_columns = ("id", "dedupe_key", "ticket_id", "received_at")
    for mail, twin_mail in zip(mails, twin_mails, strict=True):
        assert columns(InboundEmail, mail.pk, leave_out=mail_columns) == columns(
            InboundEmail, twin_mail.pk, leave_out=mail_columns
        )
    touched = ("last_message_at", "updated_at")
    for ticket, twin in zip(tickets, twins, strict=True):
        assert Ticket.objects.filter(pk=ticket.pk).values(*touched).get() == (
            Ticket.objects.filter(pk=twin.pk).values(*touched).get()
        )
        assert [
            columns(TicketEvent, e.pk, leave_out=("id", "ticket_id"))
            for e in TicketEvent.objects.filter(ticket=ticket).order_by("id")
        ] == [
            columns(TicketEvent, e.pk, leave_out=("id", "ticket_id"))
            for e in TicketEvent.objects.filter(ticket=twin).order_by("id")
        ]
    assert Ticket.objects.get(pk=tickets[0].pk).last_message_at == now - timedelta(minutes=2)


def _orm_hints(mid, parents, done, referenced, number) -> tuple:
    """The thread lookups of a mail through the ORM, one query each, in the order of the hints."""
    return (
        Message.objects.filter(message_id=mid).exclude(message_id="").values_list("ticket_id", flat=True).first(),
        InboundEmail.objects.filter(dedupe_key__in=parents).exclude(status__in=done).exists(),
        Message.objects.filter(message_id__in=referenced)
        .exclude(message_id="")
        .order_by("-created_at")
        .values_list("ticket_id", flat=True)
        .first(),
        Ticket.objects.filter(number=number).values_list("id", flat=True).first(),
        Ticket.objects.filter(number=number).values_list("requester_id", flat=True).first(),
        Message.objects.filter(in_reply_to=mid).values_list("ticket_id", flat=True).first(),
    )


def test_thread_hints_answer_what_the_orm_lookups_answer():
    requester = RequesterFactory()
    ticket = TicketFactory(requester=requester)
    Message.objects.create(ticket=ticket, direction=Message.Direction.IN, message_id="<parent@example.com>")
    Message.objects.create(
        ticket=ticket, direction=Message.Direction.IN, message_id="<child@example.com>", in_reply_to="<new@example.com>"
    )
    InboundEmail.objects.create(esp="test", raw=b"x", dedupe_key="<waiting@example.com>")
    lookups = ("<new@example.com>", ["<waiting@example.com>"], [InboundEmail.Status.PROCESSED])
    hints, requester_row = db.thread_hints_and_requester(
        *lookups, ["<parent@example.com>"], ticket.number,
        email="nova@example.com", name="", language="pt", now=timezone.now(), wait_for_parents=True,
    )  # fmt: skip
    expected = _orm_hints(*lookups, ["<parent@example.com>"], ticket.number)
    assert hints == expected and requester_row is None
    assert expected == (None, True, ticket.pk, ticket.pk, requester.pk, ticket.pk)


def test_thread_hints_and_requester_answer_what_the_two_statements_answer_in_turn():
    requester = RequesterFactory(email="joana@example.com", name="", language="pt")
    ticket = TicketFactory(requester=requester)
    Message.objects.create(ticket=ticket, direction=Message.Direction.IN, message_id="<parent@example.com>")
    InboundEmail.objects.create(esp="test", raw=b"x", dedupe_key="<waiting@example.com>")
    now = timezone.now()
    done = [InboundEmail.Status.PROCESSED]

    def both(mid, parents, email, name, language, *, wait):
        return db.thread_hints_and_requester(
            mid, parents, done, ["<parent@example.com>"], ticket.number,
            email=email, name=name, language=language, now=now, wait_for_parents=wait,
        )  # fmt: skip

    # A known address in another case: the name is filled, the language taken, the row returned as read.
    hints, (found, created) = both("<new@example.com>", [], "Joana@Example.com", "Joana", "en", wait=True)
    assert hints == _orm_hints("<new@example.com>", [], done, ["<parent@example.com>"], ticket.number)
    assert hints == (None, False, ticket.pk, ticket.pk, requester.pk, None)
    assert not created and found.pk == requester.pk
    assert fields_of(found) == fields_of(Requester.objects.get(pk=requester.pk))
    assert (found.email, found.name, found.language) == ("joana@example.com", "Joana", "en")
    # A new address: created as `upsert_requester` creates it.
    hints, (made, created) = both("<other@example.com>", [], "Paula@Example.com", "Paula Reis", "pt", wait=True)
    twin, twin_created = db.upsert_requester("Paula@Example.org", "Paula Reis", "pt", now)
    assert created and twin_created
    assert columns(Requester, made.pk, leave_out=("id", "email")) == columns(
        Requester, twin.pk, leave_out=("id", "email")
    )
    assert fields_of(made) == fields_of(Requester.objects.get(pk=made.pk))
    # A duplicate, or a mail whose parent waits when it waits for it: the requester is left alone.
    before = Requester.objects.count()
    hints, none = both("<parent@example.com>", [], "nova@example.com", "Nova", "pt", wait=True)
    assert hints[0] == ticket.pk and none is None
    hints, none = both("<reply@example.com>", ["<waiting@example.com>"], "nova@example.com", "Nova", "pt", wait=True)
    assert hints[1] is True and none is None
    assert Requester.objects.count() == before
    # The same mail applied as a parent, which waits for nothing.
    hints, (made, created) = both(
        "<reply@example.com>", ["<waiting@example.com>"], "nova@example.com", "Nova", "pt", wait=False
    )
    assert hints[1] is True and created and made.email == "nova@example.com"


def test_claim_returns_the_rows_as_the_orm_reads_them_after_it():
    queue = QueueFactory()
    agent = associate([queue])
    ticket = TicketFactory(queue=queue, status=Ticket.Status.NEW)
    eligible = (
        Ticket.objects.filter(queue=queue, assignee__isnull=True)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", "status")[:1]
    )
    sql, params = db.claim_sql(eligible)
    old_status, stored_check, claimed = db.claim(sql, params, assignee_id=agent.pk, now=timezone.now())
    assert (old_status, stored_check) == (Ticket.Status.NEW, None)
    assert fields_of(claimed) == fields_of(Ticket.objects.get(pk=ticket.pk))
    assert (claimed.assignee_id, claimed.status) == (agent.pk, Ticket.Status.OPEN)
    assert fields_of(claimed.queue) == fields_of(queue.__class__.objects.get(pk=queue.pk))
    assert fields_of(claimed.requester) == fields_of(Requester.objects.get(pk=ticket.requester_id))
    assert db.claim(sql, params, assignee_id=agent.pk, now=timezone.now()) is None


def test_locked_budget_and_profile_facts_read_what_the_orm_reads():
    agent = associate([QueueFactory()])
    assert db.locked_budget(agent.pk) is None
    budget = ExposureBudget.objects.create(user=agent)
    assert fields_of(db.locked_budget(agent.pk)) == fields_of(ExposureBudget.objects.get(pk=budget.pk))
    profile = Profile.objects.filter(user=agent).first() or ProfileFactory(user=agent)
    Profile.objects.filter(pk=profile.pk).update(languages=["pt", "en"], skills=["billing"])
    assert db.profile_facts(agent.pk) == Profile.objects.filter(user=agent).values_list("languages", "skills").first()


def test_add_intake_writes_what_get_or_create_writes_and_finds_an_existing_entry():
    queue = QueueFactory()
    agent = associate([queue])
    flagged = TicketFactory(queue=queue, sensitivity=["self_harm"])
    twin = TicketFactory(queue=queue, sensitivity=["self_harm"])
    now = timezone.now()
    entry = db.add_intake(agent, flagged, now)
    orm, _ = ExposureEntry.objects.get_or_create(
        user=agent, ticket=twin, defaults={"sensitive": True, "categories": ["self_harm"], "taken_at": now}
    )
    leave_out = ("id", "ticket_id")
    assert columns(ExposureEntry, entry.pk, leave_out=leave_out) == columns(ExposureEntry, orm.pk, leave_out=leave_out)
    assert fields_of(entry) == fields_of(ExposureEntry.objects.get(pk=entry.pk))
    again = db.add_intake(agent, flagged, now + timedelta(minutes=5))
    assert again.pk == entry.pk and again.taken_at == entry.taken_at


def test_shift_entries_count_what_the_orm_counts():
    team = TeamFactory()
    queue = QueueFactory()
    agent = associate([queue])
    Profile.objects.update_or_create(user=agent, defaults={"team": team})
    policy = TeamWellbeingPolicy.objects.create(team=team, tickets_per_shift=4, minutes_per_shift=90)
    now = timezone.now()
    for minutes, sensitive, seconds in ((50, True, 30), (40, False, 0), (30, True, 60), (600, True, 99)):
        ExposureEntry.objects.create(
            user=agent,
            ticket=TicketFactory(queue=queue),
            sensitive=sensitive,
            seconds=seconds,
            taken_at=now - timedelta(minutes=minutes),
        )
    since = now - timedelta(hours=2)
    taken, seconds, latest, read_policy = db.shift_entries(agent.pk, since, 2)
    shift = ExposureEntry.objects.filter(user=agent, taken_at__gte=since)
    assert taken == shift.filter(sensitive=True).count() == 2
    assert seconds == sum(shift.filter(sensitive=True).values_list("seconds", flat=True)) == 90
    assert latest == list(shift.order_by("-taken_at", "-id").values_list("sensitive", flat=True)[:2]) == [True, False]
    assert fields_of(read_policy) == fields_of(TeamWellbeingPolicy.objects.get(pk=policy.pk))


def test_capped_counts_count_what_the_orm_counts():
    queue = QueueFactory()
    agent = associate([queue])
    TicketFactory.create_batch(3, queue=queue)
    TicketFactory(queue=queue, assignee=agent)
    querysets = {
        "all": Ticket.objects.filter(queue=queue),
        "mine": Ticket.objects.filter(assignee=agent),
        "none": Ticket.objects.filter(queue=queue, status=Ticket.Status.CLOSED),
    }
    assert db.capped_counts(querysets, 2) == {"all": 3, "mine": 1, "none": 0}
    assert db.capped_counts(querysets, 1000) == {name: qs.count() for name, qs in querysets.items()}


def _counting_cast():
    """Two queues of one associate's, tickets of every kind the sidebar counts, a child-safety report she may
    not read, and a queue of someone else's."""
    from tickets.models import Queue

    mine, also = QueueFactory(slug="mine"), QueueFactory(slug="also")
    agent = associate([mine, also])
    TicketFactory.create_batch(3, queue=mine)
    TicketFactory(queue=mine, assignee=agent, status=Ticket.Status.OPEN)
    TicketFactory(queue=also, status=Ticket.Status.PENDING)
    TicketFactory(queue=also, status=Ticket.Status.SOLVED)
    TicketFactory(queue=mine, sensitivity=["child_safety"])
    TicketFactory(queue=QueueFactory(slug="other"))
    return agent, Queue.objects.filter(slug__in=["mine", "also", "other"]).order_by("slug")


def test_capped_counts_where_count_what_the_orm_counts():
    from django.contrib.auth.models import Group
    from django.db.models import Q
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory
    from tickets import selectors
    from tickets.models import Role

    agent, _queues = _counting_cast()
    active = ["new", "open", "pending", "on_hold"]
    conditions = {
        "open": Q(status__in=active),
        "mine": Q(assignee=agent, status__in=active),
        "pending": Q(status="pending"),
        "nothing": Q(pk__in=[]),
    }
    # An admin who is also a specialist sees every ticket: the visibility rule has no condition at all.
    everyone = UserFactory(username="chefe", role=Role.ADMIN)
    everyone.groups.add(Group.objects.get_or_create(name=Role.SPECIALIST)[0])
    users = (agent, everyone, associate([], username="nobody"), associate([], username="gone", is_active=False))
    for user in users:
        visible = selectors.tickets_visible_to(user)
        for cap in (2, 1000):
            orm = {name: min(visible.filter(condition).count(), cap + 1) for name, condition in conditions.items()}
            assert db.capped_counts_where(db.ticket_where(visible), conditions, cap) == orm
    from django.db import connection

    with CaptureQueriesContext(connection) as captured:
        counted = db.capped_counts_where(db.ticket_where(selectors.tickets_visible_to(agent)), conditions, 1000)
    assert counted == {"open": 5, "mine": 1, "pending": 1, "nothing": 0} and len(captured) == 1


def test_capped_ticket_count_counts_what_the_orm_counts_per_queue():
    from django.db.models import Q

    from tickets import selectors

    agent, queues = _counting_cast()
    for user in (agent, associate([], username="gone", is_active=False)):
        visible = selectors.tickets_visible_to(user)
        for cap in (2, 1000):
            for condition in (Q(status__in=["new", "open", "pending", "on_hold"]), Q(pk__in=[])):
                counted = queues.annotate(n=db.capped_ticket_count(db.ticket_where(visible), condition, cap))
                orm = [min(visible.filter(condition, queue=queue).count(), cap + 1) for queue in queues]
                assert [queue.n for queue in counted] == orm
    visible = selectors.tickets_visible_to(agent)
    assert [q.n for q in queues.annotate(n=db.capped_ticket_count(db.ticket_where(visible), Q(), 1000))] == [2, 4, 0]


def test_ticket_where_refuses_a_filter_that_joins_another_table():
    with pytest.raises(ValueError):
        db.ticket_where(Ticket.objects.filter(queue__slug="mine"))


def test_serial_rows_read_what_the_orm_reads_and_leave_the_planner_as_it_was():
    from django.db import connection

    queue = QueueFactory()
    for n in range(3):
        TicketFactory(queue=queue, subject=f"Conta bloqueada {n}")
    TicketFactory(queue=queue, subject="Senha")
    query = orm_search_query("conta")
    subjects = Ticket.objects.filter(search_document=query).order_by("-pk").values_list("pk", "subject")[:2]
    everything = subjects.union(Ticket.objects.filter(subject="Senha").values_list("pk", "subject"), all=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        (before,) = cursor.fetchone()
        # The test runs inside a transaction, as a caller inside `atomic` would.
        rows = db.serial_rows(*everything.query.sql_with_params())
        assert sorted(rows) == sorted(everything) and len(list(everything)) == 3
        assert db.serial_rows(*subjects.query.sql_with_params()) == list(subjects)
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == (before,)


def test_insert_alerts_writes_what_create_writes_and_skips_what_is_recorded():
    ticket = TicketFactory()
    now = timezone.now()
    due = [(ticket, SlaClock.ESCALATION, 7, SlaAlert.Kind.BREACH, now - timedelta(minutes=1))]
    [alert] = db.insert_alerts(due, now)
    assert fields_of(alert, leave_out=("ticket_id",)) == fields_of(
        SlaAlert.objects.get(pk=alert.pk), leave_out=("ticket_id",)
    )
    other = TicketFactory()
    orm = SlaAlert.objects.create(
        ticket=other,
        clock=SlaClock.ESCALATION,
        cycle=7,
        kind=SlaAlert.Kind.BREACH,
        due_at=now - timedelta(minutes=1),
        recorded_at=now,
        queue_id=other.queue_id,
        policy_id=other.sla_policy_id,
    )
    leave_out = ("id", "ticket_id", "queue_id")
    assert columns(SlaAlert, alert.pk, leave_out=leave_out) == columns(SlaAlert, orm.pk, leave_out=leave_out)
    assert db.insert_alerts(due, now) == []


def test_access_rows_reads_what_the_orm_reads(settings):
    """`access_rows` against the ORM queries it replaces, for members, leads (with and without the role, whose
    led queues only count with it) and someone with no queue; escalations open and handed back."""
    team, other = TeamFactory(name="Equipe"), TeamFactory(name="Outra")
    queues = [QueueFactory(team=team), QueueFactory(team=team), QueueFactory(team=other), QueueFactory()]
    trust = QueueFactory(slug=settings.ACOLHE_TRUST_SAFETY_QUEUE, team=other, kind=Queue.Kind.CROSS_FUNCTIONAL)
    users = [associate(queues=[queues[0]]), associate(queues=[queues[1], trust]), associate(queues=[])]
    users.append(associate(queues=[queues[3]]))
    team.leads.add(users[2], users[3])
    other.leads.add(users[3])
    for index, queue in enumerate([*queues, trust]):
        for status in (Escalation.Status.OPEN, Escalation.Status.HANDED_BACK):
            ticket = TicketFactory(queue=queues[index % 4])
            Escalation.objects.create(
                ticket=ticket, from_queue=ticket.queue, target_queue=queue, reason="r", status=status
            )
    lead_group = Group.objects.get_or_create(name=Role.TEAM_LEAD)[0]
    checked = 0
    for user, lead, limit in itertools.product(users, (False, True), (100, 2)):
        user = User.objects.get(pk=user.pk)
        (user.groups.add if lead else user.groups.remove)(lead_group)
        roles = set(user.groups.values_list("name", flat=True))
        members = set(Queue.members.through.objects.filter(user_id=user.pk).values_list("queue_id", flat=True))
        led = set(Queue.objects.filter(team__leads=user).values_list("pk", flat=True)) if lead else set()
        rows = Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue_id__in=members | led)
        escalations = set(rows.values_list("ticket_id", "target_queue__slug"))
        got_roles, got_members, got_led, got_escalations = db.access_rows(
            user.pk, lead_role=Role.TEAM_LEAD, open_status=Escalation.Status.OPEN, limit=limit
        )
        assert (got_roles, got_members, got_led) == (roles, members, led)
        assert len(got_escalations) == min(limit, len(escalations)) and set(got_escalations) <= escalations
        checked += bool(escalations) + bool(led)
    assert checked >= 10


def test_navigation_counts_read_what_the_orm_reads():
    """`navigation_counts` against the ORM queries it replaces: escalations open (not handed back) to a queue
    the user belongs to, not to one of a team they lead; unread notices (not read ones), about no ticket, an
    ordinary one, a child-safety one or one under legal hold, of the user and of someone else."""
    team = TeamFactory()
    mine, led, other = QueueFactory(team=team), QueueFactory(team=team), QueueFactory()
    ana, bia = associate(queues=[mine]), associate(queues=[mine, other])
    team.leads.add(ana)
    tickets = [
        TicketFactory(queue=mine),
        TicketFactory(queue=other, sensitivity=["child_safety"]),
        TicketFactory(queue=mine, sensitivity=["self_harm"]),
        TicketFactory(queue=other, legal_hold=True),
    ]
    for queue, status in itertools.product((mine, led, other), (Escalation.Status.OPEN, Escalation.Status.HANDED_BACK)):
        ticket = TicketFactory(queue=mine)
        Escalation.objects.create(ticket=ticket, from_queue=mine, target_queue=queue, reason="r", status=status)
    read = timezone.now()
    for user, ticket, read_at in itertools.product((ana, bia), [None, *tickets], (None, read)):
        Notification.objects.create(user=user, ticket=ticket, kind="sla", text="t", read_at=read_at)
    Notification.objects.create(user=ana, ticket=tickets[1], kind="sla", text="t")
    restricted = ("child_safety",)
    for user in (ana, bia, associate(queues=[])):
        escalations = Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue__members=user).count()
        unread = Notification.objects.filter(user=user, read_at=None)
        restricted_unread = unread.filter(Q(ticket__sensitivity__overlap=list(restricted)) | Q(ticket__legal_hold=True))
        expected = (escalations, unread.count(), restricted_unread.count())
        assert db.navigation_counts(user.pk, open_status=Escalation.Status.OPEN, restricted=restricted) == expected
    assert db.navigation_counts(ana.pk, open_status=Escalation.Status.OPEN, restricted=restricted) == (1, 6, 3)
    assert db.navigation_counts(bia.pk, open_status=Escalation.Status.OPEN, restricted=restricted) == (2, 5, 2)


def test_ticket_page_facts_read_what_the_orm_reads():
    """`ticket_page_facts` against the ORM queries it replaces on the ticket page: the newest event id of the
    ticket (not of another ticket, 0 with none) and whether it has any escalation, open or handed back."""
    queue = QueueFactory()
    quiet, events_only, handed_back, open_now = (TicketFactory(queue=queue) for _ in range(4))
    other = TicketFactory(queue=queue)
    for ticket in (events_only, handed_back, open_now, other, events_only):
        TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.CREATED)
    Escalation.objects.create(
        ticket=handed_back, from_queue=queue, target_queue=queue, reason="r", status=Escalation.Status.HANDED_BACK
    )
    Escalation.objects.create(ticket=open_now, from_queue=queue, target_queue=queue, reason="r")
    for ticket in (quiet, events_only, handed_back, open_now):
        newest = ticket.events.order_by("-pk").values_list("pk", flat=True).first() or 0
        expected = (newest, ticket.escalations.exists())
        assert db.ticket_page_facts(ticket.pk) == expected
    assert db.ticket_page_facts(quiet.pk) == (0, False)
    assert db.ticket_page_facts(events_only.pk) == (events_only.events.latest("pk").pk, False)
    assert db.ticket_page_facts(handed_back.pk)[1] is True


# Search: the ORM's version of the statements `search_candidates` and `search_snippets` write out --------------


def orm_search_query(folded: str) -> SearchQuery:
    first, second = (SearchQuery(folded, config=config, search_type="websearch") for config in SEARCH_CONFIGS)
    return first | second


def orm_candidates(user: User, folded: str, address: str | None, limit: int) -> list[tuple[int, float]]:
    query, visible = orm_search_query(folded), selectors.tickets_visible_to(user)
    subject_rows = (
        visible.filter(search_document=query)
        .order_by("-pk")
        .annotate(rank=SearchRank(F("search_document"), query) * Value(2.0))
        .values_list("pk", "rank")[:limit]
    )
    message_rows = (
        Message.objects.filter(search_document=query)
        .filter(Exists(visible.filter(pk=OuterRef("ticket_id"))))
        .order_by("-pk")
        .annotate(rank=SearchRank(F("search_document"), query))
        .values_list("ticket_id", "rank")[: limit * 2]
    )
    candidates = subject_rows.union(message_rows, all=True)
    if address is not None:
        address_rows = (
            visible.filter(requester__email__iexact=address)
            .order_by("-pk")
            .annotate(rank=Value(10.0, output_field=FloatField()))
            .values_list("pk", "rank")[:limit]
        )
        candidates = candidates.union(address_rows, all=True)
    return list(candidates)


def orm_snippets(folded: str, options: dict, excerpt_chars: int) -> dict:
    query = orm_search_query(folded)
    source = Coalesce(F("search_excerpt"), Left("body_text", excerpt_chars))

    def config(language_field: str) -> SearchConfig:
        return SearchConfig(
            Case(When(**{language_field: "en"}, then=Value(SEARCH_CONFIGS[1])), default=Value(SEARCH_CONFIGS[0]))
        )

    named = {
        "start_sel": options["StartSel"], "stop_sel": options["StopSel"], "max_words": options["MaxWords"],
        "min_words": options["MinWords"], "max_fragments": options["MaxFragments"],
        "fragment_delimiter": options["FragmentDelimiter"],
    }  # fmt: skip
    best_message = (
        Message.objects.filter(ticket_id=OuterRef("pk"), search_document=query)
        .annotate(rank=SearchRank(F("search_document"), query))
        .order_by("-rank", "pk")
        .annotate(
            headline_and_opening=Func(
                SearchHeadline(unaccent(source), query, config=config("ticket__language"), **named),
                source,
                template="ARRAY[%(expressions)s]",
                output_field=ArrayField(TextField()),
            )
        )
        .values("headline_and_opening")[:1]
    )
    return {
        "snippet": SearchHeadline(unaccent(F("subject")), query, config=config("language"), **named),
        "body_snippet": Subquery(best_message, output_field=ArrayField(TextField())),
    }


@pytest.fixture
def searched_world():
    """Two queues, an associate of each, a specialist and an admin; matches in subjects, in bodies (a long one
    with its stored excerpt, one in English, one accented), a child-safety ticket escalated to Trust & Safety,
    and a requester found by address."""
    suporte, contas = QueueFactory(slug="suporte"), QueueFactory(slug="contas")
    safety = QueueFactory(slug="trust-safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    ana, bia, specialist = associate(queues=[suporte]), associate(queues=[contas]), associate(queues=[safety])
    specialist.groups.add(Group.objects.get_or_create(name=Role.SPECIALIST)[0])
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    person = RequesterFactory(email="Pessoa@Example.com")
    tickets = [
        TicketFactory(queue=suporte, subject="Conta bloqueada", requester=person),
        TicketFactory(queue=suporte, subject="Senha", language="en"),
        TicketFactory(queue=contas, subject="Conta hackeada", requester=person),
        TicketFactory(queue=contas, subject="Vídeo", sensitivity=["child_safety"]),
        TicketFactory(queue=suporte, subject="Outra conta", sensitivity=["child_safety"]),
    ]
    MessageFactory(ticket=tickets[1], body_text="My account was locked, conta travada " + "filler words " * 900)
    MessageFactory(ticket=tickets[1], body_text="the account again")
    MessageFactory(ticket=tickets[2], body_text="Minha conta foi invadida, não consigo entrar na conta")
    MessageFactory(ticket=tickets[3], body_text="conta de uma criança")
    MessageFactory(ticket=tickets[4], body_text="a conta mostra um vídeo")
    Escalation.objects.create(ticket=tickets[4], from_queue=suporte, target_queue=safety, reason="r")
    return [ana, bia, specialist, admin], tickets


@pytest.mark.parametrize("text", ["conta", "conta travada", "account", "video", "pessoa@example.com", "nada"])
def test_search_candidates_read_what_the_orm_union_reads(searched_world, text):
    from tickets.workspace.search import MAX_RESULTS, folded_query

    users, _tickets = searched_world
    folded = folded_query(text)
    address = text if "@" in text else None
    for user in users:
        visible = db.ticket_where(selectors.tickets_visible_to(user))
        for limit in (MAX_RESULTS, 1):
            written = db.search_candidates(visible, folded, limit=limit, address=address)
            expected = orm_candidates(user, folded, address, limit)
            assert sorted(written) == pytest.approx(sorted(expected)), (user, text, limit)
    everyone = db.ticket_where(selectors.tickets_visible_to(users[3]))
    assert db.search_candidates(None, folded, limit=5) == []
    if text == "conta":
        assert len(db.search_candidates(everyone, folded, limit=MAX_RESULTS)) >= 4


@pytest.mark.parametrize("text", ["conta", "account", "conta travada", "invadida"])
def test_search_snippets_read_what_the_orm_expressions_read(searched_world, text):
    from tickets.workspace.search import HEADLINE_OPTIONS, SNIPPET_SOURCE_CHARS, folded_query

    _users, tickets = searched_world
    folded = folded_query(text)
    found = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).order_by("pk")
    written = list(
        found.annotate(**db.search_snippets(folded, HEADLINE_OPTIONS, 40)).values_list("snippet", "body_snippet")
    )
    expected = list(found.annotate(**orm_snippets(folded, HEADLINE_OPTIONS, 40)).values_list("snippet", "body_snippet"))
    assert written == expected
    assert any(body for _subject, body in written)
    full = db.search_snippets(folded, HEADLINE_OPTIONS, SNIPPET_SOURCE_CHARS)
    assert list(found.annotate(**full).values_list("body_snippet", flat=True)) == list(
        found.annotate(**orm_snippets(folded, HEADLINE_OPTIONS, SNIPPET_SOURCE_CHARS)).values_list(
            "body_snippet", flat=True
        )
    )
