"""Reads for the workspace: list views with filters and keyset pagination, sidebar counts, the ticket page.

Everything starts from `tickets.selectors.tickets_visible_to`, so a list never shows a ticket its reader
could not open.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import F, Q, QuerySet
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from helpdesk import generations
from helpdesk.bad_input import MAX_ID, InvalidInput, parse_id
from helpdesk.pagecache import per_user
from tickets import db, selectors
from tickets.escalations import selectors as escalations
from tickets.models import Escalation, Message, Queue, SavedView, Ticket, TicketEvent, earliest_due
from tickets.wellbeing import selectors as wellbeing
from tickets.workspace import panels
from tickets.workspace.menus import Menu

ACTIVE = Ticket.ACTIVE_STATUSES
# How far ahead "breaching soon" looks.
BREACHING_WINDOW = timedelta(hours=4)
RECENTLY_SOLVED_WINDOW = timedelta(days=7)
PAGE_SIZE = 50

VIEWS = {
    "mine": _("My tickets"),
    "unassigned": _("Unassigned"),
    "pending": _("Pending"),
    "breaching": _("Breaching soon"),
    "solved": _("Recently solved"),
    "all": _("All open"),
}

# Sort keys a list accepts: the column and whether its natural order is descending.
SORTS = {
    "updated": ("updated_at", True),
    # Numbers come from a sequence at creation: sorting by number is sorting by age.
    "number": ("number", True),
    "priority": ("priority", True),
    "due": ("resolution_due_at", False),
}
DEFAULT_SORT = {"breaching": "due", "solved": "updated"}


def breaching_q(now: datetime) -> Q:
    """Workable tickets (active, not pending) with a due time that counts within BREACHING_WINDOW: the first
    response's until answered, the next response's, the resolution's (`earliest_due`, indexed)."""
    workable = Q(status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.ON_HOLD])
    return workable & Q(LessThanOrEqual(earliest_due(), now + BREACHING_WINDOW))


def view_queryset(user: User, view: str, now: datetime | None = None) -> QuerySet[Ticket]:
    return _in_view(selectors.tickets_visible_to(user), user, view, now or timezone.now())


def _in_view(tickets: QuerySet[Ticket], user: User, view: str, now: datetime) -> QuerySet[Ticket]:
    """The tickets of `view` among `tickets` (already those the user may open)."""
    return tickets.filter(_view_condition(user, view, now))


def _view_condition(user: User, view: str, now: datetime) -> Q:
    if view == "mine":
        return Q(assignee=user, status__in=ACTIVE)
    if view == "unassigned":
        return Q(assignee__isnull=True, status__in=ACTIVE)
    if view == "pending":
        return Q(status=Ticket.Status.PENDING)
    if view == "breaching":
        return breaching_q(now)
    if view == "solved":
        return Q(status__in=[Ticket.Status.SOLVED, Ticket.Status.CLOSED], solved_at__gte=now - RECENTLY_SOLVED_WINDOW)
    return Q(status__in=ACTIVE)


@dataclass
class Filters:
    status: list[str] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    tag: str = ""
    queue: str = ""
    assignee: str = ""  # a user id, or "none"

    @classmethod
    def from_query(cls, query) -> Filters:
        """The filters of a list's query string; a value that is not one of the choices raises InvalidInput."""

        def many(name, allowed):
            values = []
            for raw in query.getlist(name):
                for part in str(raw).split(","):
                    part = part.strip()
                    if not part:
                        continue
                    if part not in allowed:
                        raise InvalidInput(
                            _("“%(value)s” is not a valid %(name)s.") % {"value": part[:40], "name": name}
                        )
                    values.append(allowed[part])
            return values

        assignee = (query.get("assignee") or "").strip()
        if assignee and assignee != "none":
            assignee = str(parse_id(assignee, name="assignee"))
        return cls(
            status=many("status", {value: value for value in Ticket.Status.values}),
            priority=many("priority", {str(value): value for value in Ticket.Priority.values}),
            language=many("language", {"pt": "pt", "en": "en"}),
            tag=(query.get("tag") or "").strip().lower()[:50],
            queue=(query.get("queue") or "").strip()[:50],
            assignee=assignee,
        )

    def apply(self, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.status:
            tickets = tickets.filter(status__in=self.status)
        if self.priority:
            tickets = tickets.filter(priority__in=self.priority)
        if self.language:
            tickets = tickets.filter(language__in=self.language)
        if self.tag:
            tickets = tickets.filter(tags__contains=[self.tag])
        if self.queue:
            tickets = tickets.filter(queue__slug=self.queue)
        if self.assignee == "none":
            tickets = tickets.filter(assignee__isnull=True)
        elif self.assignee:
            tickets = tickets.filter(assignee_id=int(self.assignee))
        return tickets


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return values if isinstance(values, list) and len(values) == 2 else None


def _cursor_position(cursor: str, column: str, nullable: bool) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after, each of the type its column holds; anything else (a
    hand-made or truncated cursor, one from another sort) raises InvalidInput."""
    invalid = InvalidInput(_("This page link is not valid any more; open the list again from its first page."))
    values = decode_cursor(cursor)
    if values is None:
        raise invalid
    value, last_id = values
    if type(last_id) is not int or not 0 < last_id <= MAX_ID:
        raise invalid
    if value is None:
        if not nullable:
            raise invalid
        return None, last_id
    if column.endswith("_at"):
        try:
            moment = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise invalid
        return moment, last_id
    if type(value) is not int or not -(2**31) <= value < 2**31:
        raise invalid
    return value, last_id


@dataclass
class Page:
    tickets: list[ListedTicket]
    next_cursor: str | None
    sort: str
    descending: bool


def parse_sort(raw: str, view: str) -> tuple[str, bool]:
    raw = (raw or DEFAULT_SORT.get(view, "updated")).strip()
    key = raw[1:] if raw.startswith("-") else raw
    if key not in SORTS:
        raise InvalidInput(
            _("“%(value)s” is not a way to sort this list; use one of: %(keys)s.")
            % {"value": raw[:40], "keys": ", ".join(SORTS)}
        )
    natural_desc = SORTS[key][1]
    descending = natural_desc != raw.startswith("-")
    return key, descending


# What a list row reads (`tickets.workspace.rows`: its cells, its key, its SLA clock) and the sort columns: the
# rest of the ticket, its queue's settings and its people's accounts stay in the database. A row is read as a
# `ListedTicket`, which has these fields only: a row reading another fails (a test reads every kind of row).
LISTED_FIELDS = (
    "number",
    "subject",
    "tags",
    "status",
    "priority",
    "language",
    "sensitivity",
    "created_at",
    "updated_at",
    "first_response_due_at",
    "first_response_warn_at",
    "first_responded_at",
    "next_response_due_at",
    "next_response_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "resolution_paused_at",
    "resolution_remaining_seconds",
    "queue__name",
    "requester__name",
    "requester__email",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
)


@dataclass(frozen=True, slots=True)
class Listed:
    """A list row's queue, requester or assignee: the names the row shows."""

    name: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    username: str = ""

    def get_full_name(self) -> str:  # as `User.get_full_name`
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class ListedTicket:
    """A ticket as a list row reads it (`LISTED_FIELDS`), from plain values: a page's fifty model instances,
    each with its queue, requester and assignee, took 1.9 of the 4.6 ms its query cost in the process (at
    1,000,000 tickets); these take a tenth of that. A test renders each row from both and compares."""

    pk: int
    number: int
    subject: str
    tags: list[str]
    status: str
    priority: int
    language: str
    sensitivity: list[str]
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime | None
    first_response_warn_at: datetime | None
    first_responded_at: datetime | None
    next_response_due_at: datetime | None
    next_response_warn_at: datetime | None
    resolution_due_at: datetime | None
    resolution_warn_at: datetime | None
    resolution_paused_at: datetime | None
    resolution_remaining_seconds: int | None
    queue: Listed
    requester: Listed
    assignee: Listed | None

    @property
    def is_active(self) -> bool:  # as `Ticket.is_active`
        return self.status in Ticket.ACTIVE_STATUSES

    @classmethod
    def from_values(cls, values: tuple) -> ListedTicket:
        """From a `values_list("pk", *LISTED_FIELDS)` row."""
        *own, queue, requester_name, requester_email, first, last, username = values
        return cls(
            **dict(zip(_OWN_FIELDS, own, strict=True)),
            queue=Listed(name=queue),
            requester=Listed(name=requester_name, email=requester_email),
            assignee=None if username is None else Listed(first_name=first, last_name=last, username=username),
        )


# The ticket's own columns among LISTED_FIELDS, in order, after its id.
_OWN_FIELDS = ("pk", *(name for name in LISTED_FIELDS if "__" not in name))


def paginate(tickets: QuerySet[Ticket], sort: str, descending: bool, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """Keyset pagination on (sort column, id): each page costs the same however deep it is, and the
    partial indexes on the ticket table serve the common sorts in order. Tickets with no due time come
    last when sorting by it."""
    column = SORTS[sort][0]
    nullable = column == "resolution_due_at"
    if nullable:
        order = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    else:
        # Plain order (no NULLS clause) so that the indexes match.
        order = F(column).desc() if descending else F(column).asc()
    # The number is unique: it needs no tie-breaker.
    tiebreak = [] if column == "number" else ["-id" if descending else "id"]
    tickets = tickets.order_by(order, *tiebreak)
    if cursor:
        value, last_id = _cursor_position(cursor, column, nullable)
        op = "lt" if descending else "gt"
        if value is None:
            tickets = tickets.filter(**{f"{column}__isnull": True, f"id__{op}": last_id})
        elif column == "number":
            tickets = tickets.filter(**{f"number__{op}": value})
        else:
            beyond = Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": last_id})
            if nullable:
                beyond |= Q(**{f"{column}__isnull": True})
            tickets = tickets.filter(beyond)
    rows = [ListedTicket.from_values(values) for values in tickets.values_list("pk", *LISTED_FIELDS)[: size + 1]]
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, column), last.pk])
    return Page(rows, next_cursor, sort, descending)


# Sidebar counts stop counting here, shown "99+" like most badges: past a hundred open tickets the figure
# changes nothing an associate does next, and each count stays a walk of at most this many entries of the
# active tickets' index however large the queues grow (a product decision, docs/ui.md). The exact figures
# per queue are on the home page (`tickets.selectors.queues_with_open_counts`) and the leads' dashboard.
COUNT_CAP = 99


@dataclass
class QueueCount:
    pk: int
    slug: str
    name: str
    open_count: int


def sidebar_counts(user: User) -> tuple[dict[str, int], list[QueueCount]]:
    """(count per view, open tickets per visible queue) for the sidebar, in two queries (the views' counts;
    the queues with theirs), kept a few seconds per user like a cached page (helpdesk/pagecache.py). A count
    above COUNT_CAP reads COUNT_CAP + 1."""
    return per_user(user, "sidebar_counts", lambda: _sidebar_counts(user))


def _sidebar_counts(user: User) -> tuple[dict[str, int], list[QueueCount]]:
    # The visibility rule is built and compiled once, and every count repeats its SQL with the count's own
    # conditions (`db.ticket_where`): compiling the whole rule once per count was most of the sidebar's time
    # once its counts read only the index. The queues' counts ride on the query that lists the queues, one
    # capped subquery per queue, so a person in many queues costs no more queries or query building than one
    # in a single queue. Every count but "mine" (one person's few) is an index-only walk of at most
    # COUNT_CAP + 1 entries, of `ticket_active_queue_counts` (the active tickets with each column the
    # visibility rule tests) or, for "breaching", of `ticket_breaching_due`: no table row is read (a count
    # capped at 1,001 rows used to read 1,001 table pages, about 10 ms per queue on 1,000,000 tickets).
    now = timezone.now()
    visible = db.ticket_where(selectors.tickets_visible_to(user))
    queues = (
        selectors.queues_visible_to(user)
        .order_by("kind", "name")
        .annotate(open_count=db.capped_ticket_count(visible, Q(status__in=ACTIVE), COUNT_CAP))
        .values_list("pk", "slug", "name", "open_count")
    )
    views = ("mine", "unassigned", "pending", "breaching", "all")
    counts = db.capped_counts_where(visible, {view: _view_condition(user, view, now) for view in views}, COUNT_CAP)
    return counts, [QueueCount(*row) for row in queues]


# Which queues a person sees comes with the request's access (`selectors.visible_queue_ids`); their names, for
# the sidebar and the move menus of every list, search and ticket page (and the cross-functional queues of the
# escalation menu), change only when a queue is saved or deleted. So they are kept per set of queues in the
# queues' generation, which that replaces (`queues_changed`, connected in `TicketsConfig.ready`).
QUEUES = "queue-names"
QUEUES_SECONDS = 600


def movable_queues(user: User) -> list[Queue]:
    """The queues the user may move a ticket to, for the ticket page's menu and the sidebar: names only, no
    counts, by kind and name."""
    ids = selectors.visible_queue_ids(user)
    if ids == []:
        return []
    return generations.kept(
        QUEUES,
        "every" if ids is None else repr(ids),
        lambda: list(selectors.queues_visible_to(user).order_by("kind", "name").only("pk", "slug", "name")),
        QUEUES_SECONDS,
    )


queues_changed = generations.replacer(QUEUES)


# A person's saved views, in the sidebar of every list and search page, change only when one is saved or
# deleted: kept per person in their generation, which that replaces (`saved_views_changed`, connected in
# `TicketsConfig.ready`).
SAVED_VIEWS = "saved-views"
SAVED_VIEWS_SECONDS = 600


def saved_views(user: User) -> list[SavedView]:
    """The user's saved views, by name."""
    return generations.kept(
        SAVED_VIEWS, f"user:{user.pk}", lambda: list(SavedView.objects.filter(user=user)), SAVED_VIEWS_SECONDS
    )


saved_views_changed = generations.replacer(SAVED_VIEWS)


def requester_other_tickets(user: User, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    return list(
        selectors.tickets_visible_to(user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")
        .only("number", "subject", "status", "created_at", "sensitivity")[:limit]
    )


def timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor").order_by("-created_at", "-id")


# How many of the latest messages the ticket page renders at once.
RECENT_MESSAGES = 30


def recent_thread(ticket: Ticket, *, all_messages: bool = False) -> tuple[list[Message], int, int | None]:
    """(the latest messages, oldest first; how many earlier ones were left out; the newest message id).
    Messages are ordered by creation; the newest id is what the composer saw, for collision checks."""
    thread = selectors.thread(ticket)
    messages: list[Message]
    if all_messages:
        messages = list(thread)
        earlier = 0
    else:
        # The thread's length comes with its latest messages, counted once by a subquery on the thread's
        # index (`db.thread_length`), instead of a query of its own.
        newest_first = list(
            thread.annotate(thread_length=db.thread_length(ticket.pk)).order_by("-created_at", "-id")[:RECENT_MESSAGES]
        )
        earlier = newest_first[0].thread_length - len(newest_first) if newest_first else 0
        messages = list(reversed(newest_first))
    last_id = max((m.pk for m in messages), default=None)
    return messages, earlier, last_id


def earlier_thread(ticket: Ticket, before_pk: int) -> QuerySet[Message]:
    """The messages that come before `before_pk` in the thread's order."""
    first = ticket.messages.filter(pk=before_pk).values("created_at", "pk").first()
    if first is None:
        return Message.objects.none()
    return selectors.thread(ticket).filter(
        Q(created_at__lt=first["created_at"]) | Q(created_at=first["created_at"], pk__lt=first["pk"])
    )


# The people of a set of queues, for the assignee menus (a list's bulk picker, a ticket's assignee field): a
# few hundred names read on every list and ticket page (a tenth of a list's time), which change only when
# someone joins or leaves a queue or is renamed or deactivated. Kept per set of queues in the people's
# generation (`helpdesk.generations`), which a saved or deleted account or a change of a queue's members
# replaces (`people_changed`, connected in `TicketsConfig.ready`).
PEOPLE = "queue-people"
PEOPLE_SECONDS = 600


def queue_members(queue_ids: Iterable[int]) -> Menu:
    """(id, name) of the active members of the queues, by name: plain tuples, since a few hundred model
    instances and template lookups a page cost more than the query; kept with their `<option>`s (`Menu`)."""
    ids = sorted(set(queue_ids))
    # The key names the kept value's shape: a server still running code from before `Menu` (a rolling deploy)
    # keeps plain lists under the plain key and never reads one of these, which it could not unpickle.
    return generations.kept(PEOPLE, f"menu:{ids!r}", lambda: Menu(_read_queue_members(ids)), PEOPLE_SECONDS)


def _read_queue_members(queue_ids: list[int]) -> list[tuple[int, str]]:
    members = (
        get_user_model()
        .objects.filter(is_active=True, support_queues__in=queue_ids)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return [
        (pk, f"{first} {last}".strip() or username)
        for pk, first, last, username in members.values_list("pk", "first_name", "last_name", "username")
    ]


# Receiver for saved and deleted accounts and changed queue members: a new generation of the menus (a sign-in,
# which writes only `last_login`, changes nothing they show).
people_changed = generations.replacer(PEOPLE, unless_only=generations.SIGN_IN_FIELDS)


@dataclass
class EscalationPanel:
    history: list[tuple[Escalation, bool]]  # newest first, each with whether the viewer may hand it back
    targets: list[Queue]  # cross-functional queues the ticket is not escalated to right now


def escalation_panel(ticket: Ticket, viewer: User, *, escalated: bool = True) -> EscalationPanel:
    """The ticket's escalations, newest first, and where it can be escalated now. `escalated=False` (the ticket
    was never escalated, `db.ticket_page_facts`) skips reading the history."""
    history = (
        list(
            ticket.escalations.select_related("target_queue", "requested_by", "claimed_by", "rule").order_by(
                "-created_at", "-id"
            )
        )
        if escalated
        else []
    )
    open_targets = {e.target_queue_id for e in history if e.is_open}
    return EscalationPanel(
        history=[(e, escalations.can_hand_back(viewer, e)) for e in history],
        targets=[q for q in cross_functional_queues() if q.pk not in open_targets],
    )


def cross_functional_queues() -> list[Queue]:
    """The queues a ticket can be escalated to, by name (names and slugs only), kept in the queues'
    generation like `movable_queues`."""
    return generations.kept(
        QUEUES,
        "cross-functional",
        lambda: list(
            Queue.objects.filter(kind=Queue.Kind.CROSS_FUNCTIONAL).order_by("name").only("pk", "slug", "name")
        ),
        QUEUES_SECONDS,
    )


@dataclass
class TicketPage:
    """Everything the ticket page shows, read for one viewer who may open the ticket (`ticket_or_404`)."""

    ticket: Ticket
    thread: list[Message]  # the latest messages, oldest first; earlier ones load on demand
    earlier_count: int
    last_message_id: int | None  # what the composer saw, for collision checks
    seen_event: int  # the ticket's version the page shows
    can_see_source: bool
    escalations: EscalationPanel
    movable_queues: list[Queue]
    assignable_users: Menu
    wellbeing_warning: wellbeing.TicketWarning | None
    wellbeing_checkin: wellbeing.CheckIn | None
    panels: dict[str, Any] = field(default_factory=dict)  # contributed by upper apps (`panels.register`)


def ticket_page(ticket: Ticket, *, viewer: User, all_messages: bool = False) -> TicketPage:
    """The whole ticket page. The caller checked the viewer's access (`selectors.ticket_or_404`)."""
    thread, earlier_count, last_message_id = recent_thread(ticket, all_messages=all_messages)
    seen_event, escalated = db.ticket_page_facts(ticket.pk)
    return TicketPage(
        ticket=ticket,
        thread=thread,
        earlier_count=earlier_count,
        last_message_id=last_message_id,
        seen_event=seen_event,
        can_see_source=selectors.is_admin(viewer),
        movable_queues=movable_queues(viewer),
        assignable_users=queue_members([ticket.queue_id]),
        panels=panels.contributed(ticket, viewer),
        wellbeing_warning=wellbeing.ticket_warning(ticket, viewer),
        wellbeing_checkin=(
            wellbeing.check_in(viewer, ticket, wellbeing.exposure(viewer)) if ticket.sensitivity else None
        ),
        escalations=escalation_panel(ticket, viewer, escalated=escalated),
    )
