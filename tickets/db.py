"""Persistence shortcuts: the only hand-written SQL of the application, and the only place that uses
Django's private model API (`_meta` field lists, `_state`, `from_db`) to build or read rows itself.

Everything else goes through the ORM. A shortcut lives here only when `make bench` (or a micro-benchmark of
the exact operation against its ORM path, named in its docstring) shows it pays; each has a twin test in
tests/tickets/test_db.py that runs it and the ORM path it replaces and compares every concrete field of what
they write or read, so a new field, `db_default` or constraint that a shortcut would skip fails a test.
Shortcuts write rows of models without custom `save()`, signal receivers or database defaults: adding one of
those to such a model means changing its shortcut (tests/tickets/test_db.py lists those models and fails
when one gains any).

Gains are per call, shortcut against its ORM path, from `python -m tests.bench.db_shortcuts` (500 calls in a
rolled-back transaction, best of 3 rounds) on the shared 2-core development machine under heavy load from other work:
the ratio is what counts, not the absolute time; a `--quick` run (100 calls) led to the same choices (its inbound
`Message` insert came out slower than the ORM's, x0.88). The shortcuts sit on the paths `make bench` times: mail in
(`inbound_emails_per_s`, `webhook_accept_p95_ms`), Next ticket (`next_ticket_per_s`), the queue list and the SLA
sweep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import IntegerField, Model, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL

from tickets.models import (
    SEARCH_CONFIGS,
    ExposureBudget,
    ExposureEntry,
    InboundEmail,
    Message,
    Profile,
    Queue,
    Requester,
    SlaAlert,
    SlaCheck,
    TeamWellbeingPolicy,
    Ticket,
    TicketEvent,
)
from tickets.sla.clocks import next_check_sql, running_clocks_sql

M = TypeVar("M", bound=Model)

# Rows ------------------------------------------------------------------------------------------------------


def insert_row(row: Model, *, on_conflict: str = "") -> bool:
    """`row.save()` for a new row, as one plain INSERT (optionally `ON CONFLICT <on_conflict>`); False when
    the conflict clause inserted nothing. The ORM has no single statement for "insert unless the key is
    taken, and say which": `get_or_create` takes a savepoint, a SELECT and an INSERT.

    Used by the webhook (`store_inbound`) for the `InboundEmail` row, which must answer in milliseconds: 1.4 ms
    against 5.5 ms for `get_or_create` (x3.9). (An inbound `Message` went this way too; measured,
    `save(force_insert=True)` costs the same (3.1 ms against 3.8 ms per message, under 1% of a mail's processing), so
    it is saved by the ORM.)"""
    # Generated columns are computed by the database; as after `save()`, reading one loads it.
    fields = [f for f in type(row)._meta.concrete_fields if not f.primary_key and not f.generated]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    conflict = f"ON CONFLICT {on_conflict} " if on_conflict else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {type(row)._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
            f"{conflict}RETURNING id",
            [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return False
    row.pk = inserted[0]
    row._state.adding = False
    row._state.db = connection.alias
    return True


def _instance(model: type[M], values: Sequence[Any]) -> M:
    """A model instance from a row of all its concrete columns, in field order, as the ORM would load it."""
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in field.get_db_converters(connection):  # type: ignore[attr-defined]  # not in django-stubs
            value = converter(value, None, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _columns(model: type[Model], alias: str) -> list[str]:
    return [f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields]


# The event log ----------------------------------------------------------------------------------------------


def events_insert(events: Iterable[TicketEvent]) -> tuple[str, list[Any]]:
    """The INSERT of unsaved events, in one statement, and its parameters ("" when there is nothing to
    write), for a shortcut that runs it inside a statement of its own (`finish_applied_mail`). The sequence
    is drawn row by row in VALUES order, so the ids keep the order of the list."""
    fields = [f for f in TicketEvent._meta.concrete_fields if not f.primary_key]
    rows, params = [], []
    for event in events:
        rows.append(f"({', '.join(['%s'] * len(fields))})")
        params += [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in fields]
    if not rows:
        return "", []
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return f"INSERT INTO {TicketEvent._meta.db_table} ({columns}) VALUES {', '.join(rows)}", params


def insert_events(events: Iterable[TicketEvent]) -> None:
    """Write unsaved events in one INSERT, ids in the order given (`EventLog.flush`: every press of Next
    ticket, every field change made outside a mail). `bulk_create` builds the same statement but costs
    more in Python: 1.6 ms against 5.5 ms for two events (x3.4)."""
    statement, params = events_insert(events)
    if statement:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)


# Mail in ----------------------------------------------------------------------------------------------------


def _requester_upsert_sql(source: str) -> str:
    """The requester upsert of the rows `source` gives (a VALUES list or a SELECT of email, name, language,
    created_at), returning the requester's columns and whether it was created."""
    table = Requester._meta.db_table
    return (
        f"INSERT INTO {table} (email, name, language, created_at) {source} "
        # An existing address gains a missing name and the language given, and keeps its spelling.
        f"ON CONFLICT ((lower(email::text))) DO UPDATE SET "
        f"name = CASE WHEN {table}.name = '' THEN EXCLUDED.name ELSE {table}.name END, "
        f"language = CASE WHEN EXCLUDED.language <> '' THEN EXCLUDED.language ELSE {table}.language END "
        # A row this statement inserted has no deleting or locking transaction yet (xmax 0); one it
        # updated carries this transaction's id there.
        "RETURNING id, email, name, language, created_at, xmax = 0 AS created"
    )


_REQUESTER_COLUMNS = ["id", "email", "name", "language", "created_at"]


def upsert_requester(email: str, name: str, language: str, now: datetime) -> tuple[Requester, bool]:
    """Find the requester by address (any case) or create one, filling a missing name and taking the
    language given; (requester, created). One statement on the case-insensitive unique index, which locks
    the row until commit. The ORM path (`select_for_update().filter(email__iexact=...)`, then `create` in a
    savepoint or `save`) takes 2-4 statements: 2.7 ms against 7.0 ms, half new and half known addresses (x2.6)."""
    with connection.cursor() as cursor:
        cursor.execute(_requester_upsert_sql("VALUES (%s, %s, %s, %s)"), [email.lower(), name[:200], language, now])
        *row, created = cursor.fetchone()
    return Requester.from_db(connection.alias, _REQUESTER_COLUMNS, row), created


def _thread_hints_sql() -> str:
    """The duplicate check and every thread lookup of a mail that does not depend on its requester, as one
    statement of independent sub-selects, each on its own index: (ticket of a stored message with this
    Message-ID, whether a parent mail waits unapplied, ticket of the newest referenced message, id and
    requester of the ticket numbered in the subject, ticket of a stored reply to this mail). The ORM path is
    six queries: 7.3 ms against 20.6 ms (x2.8), measured before the requester's upsert joined the statement
    (`thread_hints_and_requester`)."""
    message, inbound, ticket = Message._meta.db_table, InboundEmail._meta.db_table, Ticket._meta.db_table
    return (
        f"SELECT (SELECT ticket_id FROM {message} WHERE message_id <> '' AND message_id = %(mid)s LIMIT 1) "
        "AS duplicate_of, "
        f"EXISTS (SELECT 1 FROM {inbound} WHERE dedupe_key = ANY(%(parents)s::varchar(1000)[]) "
        "AND status NOT IN %(done)s) AS parents_pending, "
        f"(SELECT ticket_id FROM {message} WHERE message_id <> '' "
        "AND message_id = ANY(%(referenced)s::varchar(998)[]) ORDER BY created_at DESC LIMIT 1) AS parent_ticket_id, "
        f"(SELECT id FROM {ticket} WHERE number = %(number)s) AS tagged_ticket_id, "
        f"(SELECT requester_id FROM {ticket} WHERE number = %(number)s) AS tagged_requester_id, "
        f"(SELECT ticket_id FROM {message} WHERE %(mid)s <> '' AND (in_reply_to = %(mid)s "
        """OR "references" @> ARRAY[%(mid)s]::varchar(998)[]) ORDER BY created_at, id LIMIT 1) AS child_ticket_id"""
    )


def thread_hints_and_requester(
    message_id: str,
    parents: list[str],
    done_statuses: Iterable[str],
    referenced: list[str],
    number: int | None,
    *,
    email: str,
    name: str,
    language: str,
    now: datetime,
    wait_for_parents: bool,
) -> tuple[tuple, tuple[Requester, bool] | None]:
    """The thread hints (`_thread_hints_sql`) and `upsert_requester` in one statement, as a mail applies them
    one after the other: (the hints, (requester, created)). The requester is left alone, and None returned
    for it, when the hints say the mail goes no further: a duplicate, or (`wait_for_parents`) a parent mail
    still waiting. The hints read no requester, so they are what the lookups alone answer. One statement of
    the two a mail pays (each about 1 ms on the workspace data set)."""
    source = (
        "SELECT %(email)s, %(name)s, %(language)s, %(now)s FROM hints WHERE hints.duplicate_of IS NULL "
        "AND NOT (%(wait)s AND hints.parents_pending)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH hints AS ({_thread_hints_sql()}), requester AS ({_requester_upsert_sql(source)}) "
            "SELECT hints.*, requester.* FROM hints LEFT JOIN requester ON true",
            {
                "mid": message_id,
                "parents": parents,
                "done": tuple(done_statuses),
                "referenced": referenced,
                "number": number,
                "email": email.lower(),
                "name": name[:200],
                "language": language,
                "now": now,
                "wait": wait_for_parents,
            },
        )
        row = cursor.fetchone()
    hints, (*requester, created) = row[:6], row[6:]
    if requester[0] is None:
        return hints, None
    return hints, (Requester.from_db(connection.alias, _REQUESTER_COLUMNS, requester), created)


def finish_applied_mail(inbound: InboundEmail, events: list[TicketEvent], *, touch: Ticket | None = None) -> None:
    """Write a mail's outcome (status, reason, ticket, processed_at, attempts), its events (in order) and,
    for `touch`, the ticket's `last_message_at` and `updated_at`, in one statement: a data-modifying WITH
    runs to completion whether or not the main statement reads it. The ORM path is three statements
    (`bulk_create`, two `update`): 3.5 ms against 14.1 ms with three events (x4.0)."""
    finish_applied_mails([inbound], events, [(touch.pk, touch.last_message_at, touch.updated_at)] if touch else [])


def finish_applied_mails(
    mails: Sequence[InboundEmail],
    events: list[TicketEvent],
    touches: Sequence[tuple[int, datetime | None, datetime | None]] = (),
) -> None:
    """`finish_applied_mail` for several mails at once (a worker batch): each mail's outcome, every event (in
    the order given, so ids keep it) and each (ticket id, `last_message_at`, `updated_at`) to touch, in one
    statement. A ticket touched by several mails is written once: the latest `last_message_at` and the
    last `updated_at` given, what the mails' own statements in turn would have left. One statement for a
    batch of 25 mails replaces 25 (each about 1 ms on the workspace data set)."""
    if not mails:
        return
    logged, logged_params = events_insert(events)
    ctes, params = ([f"logged AS ({logged})"], list(logged_params)) if logged else ([], [])
    latest: dict[int, tuple[datetime | None, datetime | None]] = {}
    for pk, last_message_at, updated_at in touches:
        earlier = latest.get(pk, (None, None))[0]
        if earlier is not None and (last_message_at is None or earlier > last_message_at):
            last_message_at = earlier
        latest[pk] = (last_message_at, updated_at)
    if latest:
        values = ", ".join(["(%s::bigint, %s::timestamptz, %s::timestamptz)"] * len(latest))
        ctes.append(
            f"touched AS (UPDATE {Ticket._meta.db_table} AS t SET last_message_at = v.last_message_at, "
            f"updated_at = v.updated_at FROM (VALUES {values}) AS v (id, last_message_at, updated_at) "
            "WHERE t.id = v.id)"
        )
        for pk, (last_message_at, updated_at) in latest.items():
            params += [pk, last_message_at, updated_at]
    rows = ", ".join(["(%s::bigint, %s, %s, %s::bigint, %s::timestamptz, %s::integer)"] * len(mails))
    for inbound in mails:
        params += [
            inbound.pk,
            inbound.status,
            inbound.reason,
            inbound.ticket_id,
            inbound.processed_at,
            inbound.attempts,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            (f"WITH {', '.join(ctes)} " if ctes else "")
            + f"UPDATE {InboundEmail._meta.db_table} AS i SET status = v.status, reason = v.reason, "
            "ticket_id = v.ticket_id, processed_at = v.processed_at, attempts = v.attempts "
            f"FROM (VALUES {rows}) AS v (id, status, reason, ticket_id, processed_at, attempts) WHERE i.id = v.id",
            params,
        )


# Next ticket ------------------------------------------------------------------------------------------------


def profile_facts(user_id: int) -> tuple[list[str], list[str]] | None:
    """The associate's profile languages and skills, or None without a profile: read on every press of Next
    ticket, where compiling the ORM query costs more than running it: 0.45 ms against 2.8 ms (x6.3)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT languages, skills FROM {Profile._meta.db_table} WHERE user_id = %s ORDER BY id LIMIT 1",
            [user_id],
        )
        return cursor.fetchone()


def lacking_no_skill(queryset: QuerySet[Ticket], prefix: str, held: Sequence[str]) -> QuerySet[Ticket]:
    """Tickets none of whose skill tags (tags starting with `prefix`) is missing from `held`. The ORM has no
    lookup over the elements of an array column; this is one SQL condition on the row."""
    return queryset.extra(
        where=[
            "NOT EXISTS (SELECT 1 FROM unnest(tickets_ticket.tags) AS t(tag) "
            "WHERE t.tag LIKE %s AND NOT (t.tag = ANY(%s::varchar[])))"
        ],
        params=[prefix + "%", list(held)],
    )


# Claim, assign and open the ticket in one statement: the row is locked by the eligible query (rows other
# associates are claiming are skipped, never waited for), updated as `update_ticket` would (a new ticket
# opens and loses any solved/closed time) and returned with its old status, its stored next SLA check,
# its queue and its requester.
CLAIM_SQL = """
WITH picked AS ({eligible}),
claimed AS (
    UPDATE tickets_ticket AS t
    SET assignee_id = %s, status = %s, updated_at = %s,
        solved_at = CASE WHEN picked.status = %s THEN t.solved_at ELSE NULL END,
        closed_at = CASE WHEN picked.status = %s THEN t.closed_at ELSE NULL END
    FROM picked
    WHERE t.id = picked.id
    RETURNING picked.status AS picked_status, {ticket_columns}
)
SELECT claimed.picked_status,
    (SELECT c.next_check_at FROM {check_table} AS c WHERE c.ticket_id = claimed.id),
    {claimed_columns}, {queue_columns}, {requester_columns}
FROM claimed
JOIN tickets_queue AS q ON q.id = claimed.queue_id
JOIN tickets_requester AS r ON r.id = claimed.requester_id
"""


def claim_sql(eligible: QuerySet[Ticket, Any]) -> tuple[str, tuple]:
    """The claim statement around `eligible` (a locked `values_list("id", "status")[:1]`), and its
    parameters; `claim` runs it. Routing builds it once per combination of facts about the associate."""
    eligible_sql, eligible_params = eligible.query.sql_with_params()
    sql = CLAIM_SQL.format(
        eligible=eligible_sql,
        check_table=SlaCheck._meta.db_table,
        ticket_columns=", ".join(_columns(Ticket, "t")),
        claimed_columns=", ".join(_columns(Ticket, "claimed")),
        queue_columns=", ".join(_columns(Queue, "q")),
        requester_columns=", ".join(_columns(Requester, "r")),
    )
    return sql, tuple(eligible_params)


def claim(sql: str, params: Sequence[Any], *, assignee_id: int, now: datetime) -> tuple[str, Any, Ticket] | None:
    """Run a `claim_sql` statement for the associate: (the ticket's old status, its stored next SLA check,
    the ticket as now assigned and opened, with its queue and requester loaded), or None when nothing was
    eligible. The ORM path (lock and read the ticket, `update_ticket`, read the check, queue and requester)
    takes 5 statements and a model save: 9.5 ms against 29.9 ms (x3.2)."""
    kept = Ticket.Status.OPEN  # solved/closed times stay only on a ticket that was open already
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, assignee_id, Ticket.Status.OPEN, now, kept, kept])
        row = cursor.fetchone()
    if row is None:
        return None
    old_status, stored_check = row[:2]
    ticket_end = 2 + len(Ticket._meta.concrete_fields)
    queue_end = ticket_end + len(Queue._meta.concrete_fields)
    ticket = _instance(Ticket, row[2:ticket_end])
    ticket.queue = _instance(Queue, row[ticket_end:queue_end])
    ticket.requester = _instance(Requester, row[queue_end:])
    return old_status, stored_check, ticket


# Wellbeing on every press of Next ticket -------------------------------------------------------------------


def locked_budget(user_id: int) -> ExposureBudget | None:
    """The associate's budget row, locked, or None. A raw query (Django still builds the instance): routing takes this
    lock on every press, and compiling the ORM query costs more than running it: 0.74 ms against 2.7 ms for
    `select_for_update().filter().first()` (x3.7)."""
    sql = f"SELECT * FROM {ExposureBudget._meta.db_table} WHERE user_id = %s FOR UPDATE"
    return next(iter(ExposureBudget.objects.raw(sql, [user_id])), None)


def add_intake(user: User, ticket: Ticket, now: datetime) -> ExposureEntry | None:
    """The associate's exposure entry for the ticket, inserted unless one exists (then that one is read), in one
    statement instead of `get_or_create`'s read, savepoint, insert and release: 1.1 ms against 9.6 ms (x9.0). None
    when the entry that stood in the way was committed after the statement began (read it afresh)."""
    table = ExposureEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH added AS (INSERT INTO {table} "
            "(user_id, ticket_id, sensitive, categories, taken_at, views, seconds, last_slot) "
            "VALUES (%s, %s, %s, %s, %s, 0, 0, 0) ON CONFLICT (user_id, ticket_id) DO NOTHING "
            "RETURNING id, sensitive, categories, taken_at) "
            "SELECT id, sensitive, categories, taken_at FROM added UNION ALL "
            f"SELECT id, sensitive, categories, taken_at FROM {table} "
            "WHERE user_id = %s AND ticket_id = %s AND NOT EXISTS (SELECT 1 FROM added)",
            [user.pk, ticket.pk, bool(ticket.sensitivity), list(ticket.sensitivity), now, user.pk, ticket.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    entry_id, sensitive, categories, taken_at = row
    entry = ExposureEntry(
        id=entry_id, user=user, ticket=ticket, sensitive=sensitive, categories=categories, taken_at=taken_at
    )
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def shift_entries(
    user_id: int, since: datetime, latest: int
) -> tuple[int, int, list[bool], TeamWellbeingPolicy | None]:
    """The sensitive count and seconds on screen of the shift, whether each of the `latest` entries was
    sensitive (newest first) and the associate's team policy, in one round trip: routing reads these on
    every press of Next ticket, with the budget row locked, so the read must be short. The ORM path is
    three queries: 1.6 ms against 25.3 ms (x16)."""
    table = ExposureEntry._meta.db_table
    policies = TeamWellbeingPolicy._meta.db_table
    profiles = Profile._meta.db_table
    policy_row = (
        f"SELECT ARRAY[p.id::text, p.team_id::text, p.tickets_per_shift::text, p.minutes_per_shift::text, "
        f"p.break_every_minutes::text, p.support_resources] FROM {policies} p "
        f"JOIN {profiles} pr ON pr.team_id = p.team_id WHERE pr.user_id = %s ORDER BY pr.id LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE sensitive), coalesce(sum(seconds) FILTER (WHERE sensitive), 0), "
            f"ARRAY(SELECT e.sensitive FROM {table} e WHERE e.user_id = %s AND e.taken_at >= %s "
            f"ORDER BY e.taken_at DESC, e.id DESC LIMIT %s), ({policy_row}) "
            f"FROM {table} WHERE user_id = %s AND taken_at >= %s",
            [user_id, since, latest, user_id, user_id, since],
        )
        taken, seconds, sensitive, row = cursor.fetchone()
    policy = None
    if row is not None:

        def number(value: str | None) -> int | None:
            return int(value) if value is not None else None

        policy = TeamWellbeingPolicy(
            id=int(row[0]),
            team_id=int(row[1]),
            tickets_per_shift=number(row[2]),
            minutes_per_shift=number(row[3]),
            break_every_minutes=number(row[4]),
            support_resources=row[5] or "",
        )
        policy._state.adding = False
        policy._state.db = connection.alias
    return taken, int(seconds), sensitive, policy


# Workspace lists ---------------------------------------------------------------------------------------------


def capped_counts(querysets: dict[str, QuerySet], cap: int) -> dict[str, int]:
    """Several counts in one query, each capped at `cap` + 1 rows: the sidebar's counts, on every list page.
    The ORM path is one query per count: 10.5 ms against 25.4 ms for four counts (x2.4)."""
    if not querysets:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    for name, queryset in querysets.items():
        sql, sql_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS capped) AS {connection.ops.quote_name(name)}")
        params += sql_params
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))


def ticket_where(tickets: QuerySet[Ticket]) -> tuple[str, list[Any]] | None:
    """The WHERE clause of a queryset of tickets, with its parameters, compiled once to repeat in the statements
    below (None when it can match nothing). Only a filter on the ticket table's own columns and subqueries (the
    visibility rule, a view's conditions) has one that stands alone; anything joining another table raises
    ValueError."""
    query = tickets.query
    if any(query.alias_refcount[alias] for alias in query.alias_map if alias != query.base_table):
        raise ValueError("a filter that joins other tables has no WHERE clause of its own")
    try:
        sql, params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return None
    except FullResultSet:  # no condition at all (an admin who is also a specialist sees every ticket)
        return "TRUE", []
    return (sql or "TRUE"), list(params)


def capped_counts_where(visible: tuple[str, list[Any]] | None, conditions: dict[str, Q], cap: int) -> dict[str, int]:
    """`capped_counts` of the tickets `visible` selects (`ticket_where`) under each of `conditions`, with the
    visibility rule compiled once instead of once per count: the sidebar's view counts. The ORM path
    (`capped_counts`, each count's queryset built and compiled with the whole rule) took 11.3 ms against
    9.4 ms here for the sidebar's five counts of one associate, and the whole sidebar with its per-queue
    counts (`capped_ticket_count`) 14.6 against 12.0 ms (x1.2; in process on the QUICK workspace data set,
    cap 99, median of 60 alternated calls, shared 2-core machine at load 3). What is left is mostly
    PostgreSQL planning the rule's subqueries once per count (4.7 ms of the statement's 5.9 ms)."""
    if visible is None:
        return dict.fromkeys(conditions, 0)
    visible_sql, visible_params = visible
    parts: list[str] = []
    params: list[Any] = []
    for name, condition in conditions.items():
        where = ticket_where(Ticket.objects.filter(condition))
        if where is None:
            parts.append(f"0 AS {connection.ops.quote_name(name)}")
            continue
        parts.append(
            f"(SELECT count(*) FROM (SELECT 1 FROM {Ticket._meta.db_table} WHERE ({visible_sql}) AND ({where[0]}) "
            f"LIMIT %s) AS capped) AS {connection.ops.quote_name(name)}"
        )
        params += [*visible_params, *where[1], cap + 1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(conditions, cursor.fetchone(), strict=True))


def capped_ticket_count(visible: tuple[str, list[Any]] | None, condition: Q, cap: int) -> RawSQL | Value:
    """For `Queue.objects.annotate`: how many of the tickets `visible` selects (`ticket_where`) sit in each
    queue and meet `condition`, capped at `cap` + 1: the sidebar's per-queue counts, a correlated subquery
    per listed queue with the visibility rule compiled once for all of them."""
    where = ticket_where(Ticket.objects.filter(condition))
    if visible is None or where is None:
        return Value(0, output_field=IntegerField())
    table, queue = Ticket._meta.db_table, Queue._meta.db_table
    return RawSQL(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table}.queue_id = {queue}.id AND ({visible[0]}) "
        f"AND ({where[0]}) LIMIT %s) AS capped",
        (*visible[1], *where[1], cap + 1),
        output_field=IntegerField(),
    )


# Access ------------------------------------------------------------------------------------------------------


def access_rows(
    user_id: int, *, lead_role: str, open_status: str, limit: int
) -> tuple[set[str], set[int], set[int], list[tuple[int, str]]]:
    """What `selectors.access_of` reads, in one statement instead of four: the user's roles (group names),
    the queues they belong to, those of the teams they lead (with the `lead_role` only), and up to `limit`
    open escalations (ticket id, target queue slug) to either.

    Every GET request reads it once per user (`selectors.reading`). Per call, against the ORM queries for the
    queues and escalations (a micro-benchmark: 500 calls, best of 3, on the workspace bench's QUICK data set,
    under load): 0.06-0.12 ms of CPU against 0.74-0.97 ms (x8), 0.3-1.7 ms of wall time against 1.6-4.8 ms,
    for a member of every queue and for a team lead; the roles come with it instead of in a query of their
    own."""
    sql = """
        WITH roles AS (
            SELECT grp.name FROM auth_user_groups membership
            JOIN auth_group grp ON grp.id = membership.group_id
            WHERE membership.user_id = %(user)s
        ), own AS (
            SELECT queue_id, true AS member FROM tickets_queue_members WHERE user_id = %(user)s
            UNION ALL
            SELECT queue.id, false FROM tickets_queue queue
            JOIN tickets_team_leads leads ON leads.team_id = queue.team_id
            WHERE leads.user_id = %(user)s AND EXISTS (SELECT 1 FROM roles WHERE roles.name = %(lead_role)s)
        )
        SELECT NULL::bigint, NULL::boolean, NULL::bigint, name FROM roles
        UNION ALL
        SELECT queue_id, member, NULL, NULL FROM own
        UNION ALL
        (
            SELECT NULL, NULL, escalation.ticket_id, queue.slug FROM tickets_escalation escalation
            JOIN tickets_queue queue ON queue.id = escalation.target_queue_id
            WHERE escalation.status = %(open)s AND escalation.target_queue_id IN (SELECT queue_id FROM own)
            LIMIT %(limit)s
        )
    """
    roles: set[str] = set()
    members: set[int] = set()
    led: set[int] = set()
    escalations: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user_id, "lead_role": lead_role, "open": open_status, "limit": limit})
        for queue_id, member, ticket_id, name in cursor.fetchall():
            if ticket_id is not None:
                escalations.append((ticket_id, name))
            elif queue_id is not None:
                (members if member else led).add(queue_id)
            else:
                roles.add(name)
    return roles, members, led, escalations


# Every page's navigation -------------------------------------------------------------------------------------


def navigation_counts(user_id: int, *, open_status: str, restricted: Sequence[str]) -> tuple[int, int, int]:
    """(open escalations to the queues the user belongs to, the user's unread notices, how many of those are
    about a restricted ticket: `restricted` categories or legal hold) in one statement, for
    `selectors.navigation_counts`. The ORM path is two queries whose filters it builds and compiles on every
    page: in process on the workspace bench's QUICK data set, 2.8-5.2 ms of a queue list's 30 ms under load
    against 0.5-0.9 ms for this one."""
    sql = """
        SELECT
            (
                SELECT count(*) FROM tickets_escalation escalation
                JOIN tickets_queue_members membership ON membership.queue_id = escalation.target_queue_id
                WHERE escalation.status = %(open)s AND membership.user_id = %(user)s
            ),
            count(notice.id),
            count(notice.id) FILTER (
                WHERE ticket.sensitivity && %(restricted)s::varchar(30)[] OR ticket.legal_hold
            )
        FROM tickets_notification notice
        LEFT JOIN tickets_ticket ticket ON ticket.id = notice.ticket_id
        WHERE notice.user_id = %(user)s AND notice.read_at IS NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user_id, "open": open_status, "restricted": list(restricted)})
        escalations, unread, unread_restricted = cursor.fetchone()
    return escalations, unread, unread_restricted


# The ticket page ----------------------------------------------------------------------------------------------


def ticket_page_facts(ticket_id: int) -> tuple[int, bool]:
    """(the ticket's newest event id, 0 when none; whether it was ever escalated) in one statement, for the
    ticket page (`tickets.workspace.selectors.ticket_page`). Most tickets were never escalated, and the
    escalation panel's own query (four joined tables to build and compile) then has nothing to read: in
    process on the workspace bench's QUICK data set, 2.3 ms of the 200-message ticket's page, under load, for
    a query that returns no row, against about 0.4 ms for this statement."""
    sql = """
        SELECT
            (SELECT event.id FROM tickets_ticketevent event WHERE event.ticket_id = %(ticket)s
             ORDER BY event.id DESC LIMIT 1),
            EXISTS (SELECT 1 FROM tickets_escalation escalation WHERE escalation.ticket_id = %(ticket)s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ticket": ticket_id})
        latest_event, escalated = cursor.fetchone()
    return latest_event or 0, escalated


def thread_length(ticket_id: int) -> RawSQL:
    """For `annotate` on a ticket's latest messages: how many messages the ticket has in all, counted on the
    thread's index in the same statement. Built and compiled by the ORM (a `Subquery` of a counted `values()`),
    reading the page's thirty latest messages took 4.04 ms against 3.62 ms with this (in process, the 200-message
    ticket of the 1,000,000-ticket bench data set, medians of 100 alternated calls)."""
    return RawSQL(
        f"SELECT count(*) FROM {Message._meta.db_table} counted WHERE counted.ticket_id = %s",
        [ticket_id],
        output_field=IntegerField(),
    )


# Search statistics ------------------------------------------------------------------------------------------


def common_search_lexemes(share: float) -> list[str]:
    """The lexemes of the tickets' and messages' search documents that the last ANALYZE counted in more than
    `share` of the rows (`pg_stats`): a catalog read with no ORM path. The assist suggestions leave these out
    of their similarity query (`assist.selectors.common_lexemes`, read once per ten minutes per process)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.lexeme FROM pg_stats s, "
            "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(lexeme, share) "
            "WHERE s.schemaname = current_schema() AND s.tablename IN (%s, %s) "
            "AND s.attname = 'search_document' AND u.lexeme IS NOT NULL AND u.share > %s",
            [Ticket._meta.db_table, Message._meta.db_table, share],
        )
        return sorted({lexeme for (lexeme,) in cursor.fetchall()})


def words_without_lexemes(words: list[str], lexemes: list[str], configs: Sequence[str]) -> list[str]:
    """`words`, in order, less those whose lexemes in any of the text-search `configs` are among `lexemes`:
    PostgreSQL's own stemming decides, as it does for the search documents; no ORM path (functions of
    parameters only)."""
    vectors = " || ".join(f"to_tsvector('{config}', q.word)" for config in configs)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT q.word FROM unnest(%s::text[]) WITH ORDINALITY AS q(word, position) "
            f"WHERE NOT (tsvector_to_array({vectors}) && %s::text[]) ORDER BY q.position",
            [words, lexemes],
        )
        return [word for (word,) in cursor.fetchall()]


def serial_rows(sql: str, params: Sequence[Any]) -> list[tuple]:
    """The rows of a statement, planned without parallel workers. The ORM cannot set a planner option for one
    query.

    For search's candidates (`search_candidates`): a query of several words walks the messages' primary
    key backwards until it has its matches, and PostgreSQL splits that walk among parallel workers, which a
    web node serving several requests at once cannot spare. Measured in process on the QUICK workspace data
    set (250,000 messages, best of 5, shared 2-core machine under load): "hacked account" 97.9 ms with
    workers against 41.4 ms without (x2.4), "vídeo travando" 67.8 against 22.7 ms (x3.0), "conta" 14.4
    against 10.8 ms."""
    with connection.cursor() as cursor:
        # The setting and the query in one string: outside a transaction PostgreSQL runs them as one implicit
        # transaction, which SET LOCAL does not outlive; inside one, the setting goes back to its default.
        cursor.execute(f"SET LOCAL max_parallel_workers_per_gather = 0; {sql}", params)
        rows = cursor.fetchall()
        if connection.in_atomic_block:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
    return rows


def _search_query(text: str) -> tuple[str, list[str]]:
    """The tsquery of `text` (already folded, `tickets.workspace.search.folded_query`) in both configurations at
    once, as the search documents hold both: a thread mixes languages."""
    first, second = SEARCH_CONFIGS
    sql = "(websearch_to_tsquery(%s::regconfig, %s) || websearch_to_tsquery(%s::regconfig, %s))"
    return sql, [first, text, second, text]


def search_candidates(
    visible: tuple[str, list[Any]] | None, text: str, *, limit: int, address: str | None = None
) -> list[tuple[int, float]]:
    """(ticket id, rank) of the most recent matches of `text` (folded) among the tickets `visible` selects
    (`ticket_where`): up to `limit` subjects (their rank doubled), up to twice that many message bodies and,
    for an `address`, up to `limit` tickets of the requester with that address (rank 10). A ticket comes once
    per matching source. Planned without parallel workers (`serial_rows`).

    Written here rather than through the ORM, whose union of three filtered, annotated querysets took 2.9 ms
    to build and compile for every search (in process on the QUICK workspace data set, under load), longer
    than PostgreSQL took to run it for a common word; `tests/tickets/test_db.py` holds the ORM's version
    and checks that both read the same rows."""
    if visible is None:
        return []
    where, where_params = visible
    query, query_params = _search_query(text)
    ticket, message = Ticket._meta.db_table, Message._meta.db_table
    sql = (
        f"(SELECT {ticket}.id, ts_rank({ticket}.search_document, {query}) * 2.0 FROM {ticket} "
        f"WHERE ({where}) AND {ticket}.search_document @@ {query} ORDER BY 1 DESC LIMIT %s) "
        f"UNION ALL (SELECT message.ticket_id, ts_rank(message.search_document, {query}) FROM {message} message "
        f"WHERE message.search_document @@ {query} "
        f"AND EXISTS (SELECT 1 FROM {ticket} WHERE ({where}) AND {ticket}.id = message.ticket_id) "
        "ORDER BY message.id DESC LIMIT %s)"
    )
    params = [*query_params, *where_params, *query_params, limit, *query_params, *query_params, *where_params]
    params.append(limit * 2)
    if address is not None:
        requester = Requester._meta.db_table
        sql += (
            f" UNION ALL (SELECT {ticket}.id, 10.0 FROM {ticket} JOIN {requester} requester "
            f"ON requester.id = {ticket}.requester_id WHERE ({where}) AND UPPER(requester.email::text) = UPPER(%s) "
            "ORDER BY 1 DESC LIMIT %s)"
        )
        params += [*where_params, address, limit]
    return [(pk, float(rank)) for pk, rank in serial_rows(sql, params)]


def search_snippets(text: str, options: dict[str, Any], excerpt_chars: int) -> dict[str, RawSQL]:
    """For `Ticket.objects.annotate`: each ticket's subject headlined for `text` (folded) as `snippet`, and as
    `body_snippet` the headline of its best-matching message (the first of equals) with the opening it was cut
    from: the stored excerpt of a long body, else its first `excerpt_chars` characters. Headlines are cut from
    the accent-folded text in the ticket's language's configuration, with ts_headline's `options` (as
    `SearchHeadline` takes them, by their PostgreSQL names). The ORM's expressions for the same took 3.2 ms
    to build and compile on every search page (in process on the QUICK workspace data set, under load)."""
    query, query_params = _search_query(text)
    ticket = Ticket._meta.db_table
    config = f"CASE WHEN {ticket}.language = %s THEN %s ELSE %s END::regconfig"
    config_params = ["en", SEARCH_CONFIGS[1], SEARCH_CONFIGS[0]]
    ops: Any = connection.ops  # PostgreSQL's, which composes SQL
    headline_options = ", ".join(ops.compose_sql(f"{name}=%s", [value]) for name, value in options.items())
    opening = "COALESCE(message.search_excerpt, LEFT(message.body_text, %s))"
    body_params = [*config_params, excerpt_chars, *query_params, headline_options, excerpt_chars, *query_params]
    return {
        "snippet": RawSQL(
            f"ts_headline({config}, acolhe_unaccent({ticket}.subject), {query}, %s)",
            [*config_params, *query_params, headline_options],
            output_field=TextField(),
        ),
        "body_snippet": RawSQL(
            f"SELECT ARRAY[ts_headline({config}, acolhe_unaccent({opening}), {query}, %s), {opening}] "
            f"FROM {Message._meta.db_table} message WHERE message.search_document @@ {query} "
            f"AND message.ticket_id = {ticket}.id ORDER BY ts_rank(message.search_document, {query}) DESC, "
            "message.id LIMIT 1",
            [*body_params, *query_params],
            output_field=ArrayField(TextField()),
        ),
    }


# Locks -------------------------------------------------------------------------------------------------------


def advisory_xact_lock(key: int) -> None:
    """PostgreSQL's transaction-level advisory lock on `key` (released at commit or rollback); the ORM has
    no API for it. Not a shortcut: there is no ORM path to measure against."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


# The SLA sweep ------------------------------------------------------------------------------------------------

ALERT_COLUMNS = ["ticket_id", "clock", "cycle", "kind", "due_at", "recorded_at", "queue_id", "policy_id"]
EVENT_KIND: dict[str, TicketEvent.Kind] = {
    SlaAlert.Kind.WARNING: TicketEvent.Kind.SLA_WARNING,
    SlaAlert.Kind.BREACH: TicketEvent.Kind.SLA_BREACH,
}

# The ticket columns the batch statement judges the clocks by (see `running_clocks_sql`).
SWEEP_CLAIMED_COLUMNS = [
    "id",
    "status",
    "queue_id",
    "sla_policy_id",
    "first_responded_at",
    "first_response_warn_at",
    "first_response_due_at",
    "next_response_cycle",
    "next_response_warn_at",
    "next_response_due_at",
    "resolution_warn_at",
    "resolution_due_at",
    "resolution_paused_at",
]


def sweep_claim_sql(now: datetime, batch_size: int) -> tuple[str, list]:
    """The next due tickets, earliest check first through the index on `next_check_at`, with the columns
    their clocks are judged by, read from the locked rows; tickets and checks others hold are skipped.

    The ticket row is locked too (a row lock: no new row version, no index entry), before its check.
    Whoever changes a ticket locks its row and then stores its next check; holding a check while waiting
    for its ticket could deadlock with them, so the sweep never waits for either. The escalation rules and
    the foreign keys of the alerts then find the ticket already held, and a ticket edit waits for the
    batch as it would for any other writer."""
    check_table, ticket_table = SlaCheck._meta.db_table, Ticket._meta.db_table
    columns = ", ".join(f"t.{column}" for column in SWEEP_CLAIMED_COLUMNS)
    sql = (
        f"SELECT {columns} FROM {check_table} AS c JOIN {ticket_table} AS t ON t.id = c.ticket_id "
        "WHERE c.next_check_at <= %s ORDER BY c.next_check_at LIMIT %s "
        "FOR NO KEY UPDATE OF t SKIP LOCKED FOR UPDATE OF c SKIP LOCKED"
    )
    return sql, [now, batch_size]


def sweep_batch(now: datetime, batch_size: int, listened: list[str]) -> tuple[int, int, int, list[SlaAlert]]:
    """One statement for a batch of the SLA sweep: lock the next due tickets (SKIP LOCKED), move their next
    check past `now` (or drop it when no clock is left to watch), record their passed warnings and breaches
    (ON CONFLICT DO NOTHING: only new ones come back) and log each on its ticket. Returns the tickets
    claimed, the warnings and breaches recorded, and the new alerts whose "kind:clock" is in `listened`
    (their tickets not loaded).

    Doing it in the database matters: the batch never travels to Python (a ticket row is wide, and
    thousands of model instances cost more than the writes themselves). Its figure is `make bench`'s
    `sla_sweep_s` (10,000 due tickets, 21,464 alerts: 3.4 s on the loaded machine, goal < 1 s); no ORM twin
    of the whole batch was written to race it, so the gain over the ORM is not measured here."""
    claim, claim_params = sweep_claim_sql(now, batch_size)
    check_table = SlaCheck._meta.db_table
    warning, breach = SlaAlert.Kind.WARNING.value, SlaAlert.Kind.BREACH.value
    sql = (
        f"WITH claimed AS MATERIALIZED ({claim}), "
        "sweep AS (SELECT %s::timestamptz AS now), "
        "judged AS MATERIALIZED ("
        f"  SELECT m.id, {next_check_sql('m', after='sweep.now')} AS next_check_at FROM claimed AS m, sweep"
        "), "
        "moved AS ("
        f"  UPDATE {check_table} AS c SET next_check_at = j.next_check_at FROM judged AS j "
        "   WHERE c.ticket_id = j.id AND j.next_check_at IS NOT NULL"
        "), "
        "dropped AS ("
        f"  DELETE FROM {check_table} AS c USING judged AS j WHERE c.ticket_id = j.id AND j.next_check_at IS NULL"
        "), "
        "passed AS ("
        "  SELECT m.id AS ticket_id, rc.clock, rc.position, rc.cycle, k.kind, k.position AS kind_position, "
        "  rc.due_at, m.queue_id, m.sla_policy_id "
        f"  FROM sweep, claimed AS m CROSS JOIN LATERAL ({running_clocks_sql('m')}) AS rc "
        f"  CROSS JOIN LATERAL (VALUES ('{warning}', 1, rc.warn_at), ('{breach}', 2, rc.due_at)) "
        "  AS k(kind, position, at) "
        "  WHERE k.at <= sweep.now"
        "), "
        "recorded AS ("
        f"  INSERT INTO {SlaAlert._meta.db_table} ({', '.join(ALERT_COLUMNS)}) "
        "  SELECT ticket_id, clock, cycle, kind, due_at, sweep.now, queue_id, sla_policy_id FROM passed, sweep "
        "  ORDER BY ticket_id, position, kind_position "
        "  ON CONFLICT DO NOTHING RETURNING id, ticket_id, clock, cycle, kind, due_at, queue_id, policy_id"
        "), "
        "logged AS ("
        f"  INSERT INTO {TicketEvent._meta.db_table} (ticket_id, kind, new_value, created_at) "
        f"  SELECT ticket_id, CASE WHEN kind = '{warning}' THEN '{EVENT_KIND[SlaAlert.Kind.WARNING].value}' "
        f"  ELSE '{EVENT_KIND[SlaAlert.Kind.BREACH].value}' END, "
        f"  jsonb_build_object('clock', clock, 'cycle', cycle, 'due_at', {isoformat_sql('due_at')}), sweep.now "
        "  FROM recorded, sweep ORDER BY id"
        ") "
        "SELECT (SELECT count(*) FROM claimed), "
        f"  (SELECT count(*) FROM recorded WHERE kind = '{warning}'), "
        f"  (SELECT count(*) FROM recorded WHERE kind = '{breach}'), "
        "  r.id, r.ticket_id, r.clock, r.cycle, r.kind, r.due_at, r.queue_id, r.policy_id "
        "FROM (SELECT 1) AS one LEFT JOIN recorded AS r ON r.kind || ':' || r.clock = ANY(%s::text[]) "
        "ORDER BY r.id"
    )
    params = [*claim_params, now, listened]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    claimed, warnings, breaches = rows[0][:3]
    alerts = [
        SlaAlert(
            pk=pk,
            ticket_id=ticket_id,
            clock=clock,
            cycle=cycle,
            kind=kind,
            due_at=due_at,
            recorded_at=now,
            queue_id=queue_id,
            policy_id=policy_id,
        )
        for *_counts, pk, ticket_id, clock, cycle, kind, due_at, queue_id, policy_id in rows
        if pk is not None
    ]
    return claimed, warnings, breaches, alerts


def isoformat_sql(column: str) -> str:
    """`datetime.isoformat()` of a UTC time in SQL (microseconds only when there are some), so events
    logged here read like the ones logged from Python."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' ELSE to_char({utc}, '.US') END "
        "|| '+00:00'"
    )


def insert_alerts(due: list[tuple], now: datetime) -> list[SlaAlert]:
    """Record alerts of the SLA sweep found in Python (escalations past their target), `due` as (ticket,
    clock, cycle, kind, due_at): INSERT ... ON CONFLICT DO NOTHING RETURNING, so only the alerts this run
    really recorded come back (`bulk_create(ignore_conflicts=True)` does not say which, and `get_or_create`
    per alert takes a savepoint each). Kept for what it answers, on a handful of rows per run; not timed."""
    if not due:
        return []
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(ALERT_COLUMNS)) + ")"] * len(due))
    params = []
    tickets = {}
    for ticket, clock, cycle, kind, due_at in due:
        tickets[ticket.pk] = ticket
        params += [ticket.pk, clock, cycle, kind, due_at, now, ticket.queue_id, ticket.sla_policy_id]
    sql = (
        f"INSERT INTO {SlaAlert._meta.db_table} ({', '.join(ALERT_COLUMNS)}) VALUES {placeholders} "
        "ON CONFLICT DO NOTHING RETURNING id, ticket_id, clock, cycle, kind, due_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    alerts = []
    for pk, ticket_id, clock, cycle, kind, due_at in rows:
        ticket = tickets[ticket_id]
        alert = SlaAlert(
            pk=pk,
            ticket=ticket,
            clock=clock,
            cycle=cycle,
            kind=kind,
            due_at=due_at,
            recorded_at=now,
            queue_id=ticket.queue_id,
            policy_id=ticket.sla_policy_id,
        )
        alerts.append(alert)
    return alerts
