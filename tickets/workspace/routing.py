"""Next ticket: the most urgent unassigned ticket an associate may take, claimed in one transaction."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F, Model, QuerySet
from django.db.models.functions import Least
from django.utils import timezone

from tickets import services, sla
from tickets.models import Profile, Queue, Requester, SlaCheck, Ticket
from tickets.wellbeing import selectors as wellbeing
from tickets.wellbeing.services import budget_for, record_intake

M = TypeVar("M", bound=Model)

# Tickets tagged `skill:<name>` go only to associates who list <name> among their skills.
SKILL_TAG_PREFIX = "skill:"
WORKABLE_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)
URGENCY = (
    Least("first_response_due_at", "next_response_due_at", "resolution_due_at").asc(nulls_last=True),
    F("priority").desc(),
    F("created_at").asc(),
)


def _held_skills(skills) -> tuple[str, ...]:
    return tuple(f"{SKILL_TAG_PREFIX}{skill.lower()}" for skill in skills)


def _eligible(
    user_id: int,
    languages: tuple[str, ...],
    held: tuple[str, ...],
    specialist: bool,
    over_budget: bool,
    rest: bool,
    skipped: tuple[str, ...] = (),
) -> QuerySet[Ticket]:
    """Unassigned new or open tickets in the associate's own queues, in a language they answer and needing no
    skill they lack, within their wellbeing budget (see `wellbeing.routable_by`), most urgent first: the
    earliest SLA due time, then priority, then age."""
    # Everything the rules depend on is an argument, so one compiled query serves every press alike.
    queryset = Ticket.objects.filter(
        queue__in=Queue.members.through.objects.filter(user_id=user_id).values("queue_id"),
        assignee__isnull=True,
        status__in=WORKABLE_STATUSES,
    )
    if languages:
        queryset = queryset.filter(language__in=languages)
    queryset = queryset.extra(
        where=[
            "NOT EXISTS (SELECT 1 FROM unnest(tickets_ticket.tags) AS t(tag) "
            "WHERE t.tag LIKE %s AND NOT (t.tag = ANY(%s::varchar[])))"
        ],
        params=[SKILL_TAG_PREFIX + "%", list(held)],
    )
    queryset = wellbeing.routable_by(
        queryset, specialist=specialist, over_budget=over_budget, rest=rest, skipped=skipped
    )
    return wellbeing.rest_first(queryset, (*URGENCY, "id"))


def _columns(model: type[Model], alias: str) -> list[str]:
    return [f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields]


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


@lru_cache(maxsize=1024)
def _claim_sql(
    user_id: int,
    languages: tuple[str, ...],
    held: tuple[str, ...],
    specialist: bool,
    over_budget: bool,
    rest: bool,
    skipped: tuple[str, ...] = (),
) -> tuple[str, tuple]:
    """The claim statement for one combination of facts about the associate. Building and compiling the
    eligible query costs more than running it, so it is done once per combination and process."""
    eligible = (
        _eligible(user_id, languages, held, specialist, over_budget, rest, skipped)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", "status")[:1]
    )
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


def _instance(model: type[M], values) -> M:
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in field.get_db_converters(connection):  # type: ignore[attr-defined]  # not in django-stubs
            value = converter(value, None, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _profile_facts(user_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The languages the associate answers in and the skill tags they hold (none without a profile)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT languages, skills FROM {Profile._meta.db_table} WHERE user_id = %s ORDER BY id LIMIT 1",
            [user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return (), ()
    return tuple(row[0] or ()), _held_skills(row[1] or ())


def assign_next(user: User) -> Ticket | None:
    """Claim the most urgent eligible ticket for the user, or None when there is none. Rows another
    associate is claiming at this moment are skipped, never waited for: two associates never get the same
    ticket."""
    if not user.is_authenticated or not user.is_active:
        return None
    with transaction.atomic():
        # The budget row is locked first: one associate's concurrent presses count their exposure in turn.
        budget = budget_for(user, lock=True)
        if budget.intake_paused_at is not None:
            return None
        exposure = wellbeing.exposure(user, budget)
        languages, held = _profile_facts(user.pk)
        sql, params = _claim_sql(
            user.pk,
            languages,
            held,
            wellbeing.is_specialist(user),
            exposure.over_budget,
            bool(exposure.streak),
            exposure.skipped,
        )
        now = timezone.now()
        kept = Ticket.Status.OPEN  # solved/closed times stay only on a ticket that was open already
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, user.pk, Ticket.Status.OPEN, now, kept, kept])
            row = cursor.fetchone()
        if row is None:
            return None
        old_status, stored_check = row[:2]
        ticket_end = 2 + len(Ticket._meta.concrete_fields)
        queue_end = ticket_end + len(Queue._meta.concrete_fields)
        ticket = _instance(Ticket, row[2:ticket_end])
        ticket.queue = _instance(Queue, row[ticket_end:queue_end])
        ticket.requester = _instance(Requester, row[queue_end:])
        ticket.assignee = user
        changes: list[tuple[str, Any, Any]] = [("assignee", None, user)]
        if old_status != ticket.status:
            changes.append(("status", old_status, ticket.status))
            _on_opened(ticket, old_status, stored_check)
        services.record_changes(ticket, changes, actor=user)
        record_intake(user, ticket)
        return ticket


def _on_opened(ticket: Ticket, old_status: str, stored_check: datetime | None) -> None:
    # New and open both run every SLA clock, so opening changes nothing unless the resolution clock was
    # paused or the stored next check is not the one the clocks give; only then is there anything to write.
    if ticket.resolution_paused_at is not None or sla.next_check_at(ticket) != stored_check:
        sla.on_status_change(ticket, old_status, ticket.status)
