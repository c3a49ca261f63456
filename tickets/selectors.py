"""Reads with access control. Pages and the API read tickets only through these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from helpdesk.pagecache import per_user
from tickets import db
from tickets.models import AssistOutput, Attachment, Escalation, Message, Notification, Queue, Role, Ticket


def has_role(user: User, role: str) -> bool:
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_acolhe_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        setattr(user, "_acolhe_roles", cached)  # noqa: B010 (a per-request cache, like Django's _perm_cache)
    return role in cached


def is_admin(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.ADMIN))


def queues_visible_to(user: User) -> QuerySet[Queue]:
    """Admins see every queue; team leads the queues of the teams they lead; everyone their own queues."""
    if not user.is_authenticated or not user.is_active:
        return Queue.objects.none()
    if is_admin(user):
        return Queue.objects.all()
    return _own_queues(user)


def visible_queue_ids(user: User) -> list[int] | None:
    """The ids of `queues_visible_to(user)`, in order; None for every queue (admins). Read from the request's
    resolved access where there is one (`reading`), else in one statement (`access_of`)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if is_admin(user):
        return None
    access = _resolved_access(user) or access_of(user)
    return sorted(access.own_queue_ids)


def _own_queues(user: User) -> QuerySet[Queue]:
    """The queues the user belongs to, and those of the teams they lead: admins' included, whose role shows
    them every queue but does not make them a member (of Trust & Safety, say)."""
    resolved = _resolved_access(user)
    if resolved is not None:
        return Queue.objects.filter(pk__in=sorted(resolved.own_queue_ids))
    scope = Q(members=user)
    if has_role(user, Role.TEAM_LEAD):
        scope |= Q(team__leads=user)
    return Queue.objects.filter(pk__in=Queue.objects.filter(scope).values("pk"))


def queues_with_open_counts(user: User) -> QuerySet[Queue]:
    """The user's queues with their open and unassigned tickets, counting only tickets the user can open."""
    open_ = Q(tickets__status__in=Ticket.ACTIVE_STATUSES, tickets__in=tickets_visible_to(user).values("pk"))
    return (
        queues_visible_to(user)
        .annotate(
            open_count=Count("tickets", filter=open_),
            unassigned_count=Count("tickets", filter=open_ & Q(tickets__assignee__isnull=True)),
        )
        .order_by("kind", "name")
    )


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """The one visibility rule. Queue membership (admins: every queue) opens a ticket, and an open escalation
    opens it to the members of the queue it went to. Child-safety content needs Trust & Safety on top: the
    specialist group, or membership of the Trust & Safety queue the ticket is escalated to. Admins are no
    exception (docs/wellbeing.md): they manage the structure and see in the admin, masked and audited, that
    such tickets exist, but do not read them without that membership.

    Inside a read-only request (`reading`) the rule is applied through the user's `access_of`, resolved once
    for the request: the same rule, filtered by plain lists of ids instead of nested subqueries."""
    if not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    resolved = _resolved_access(user)
    if resolved is not None:
        return Ticket.objects.filter(resolved.scope())
    return Ticket.objects.filter(_visibility_rule(user))


def _visibility_rule(user: User) -> Q:
    """`tickets_visible_to` as one query, for an active user: what it reads is read when the query runs."""
    # Specialists also see the tickets escalated to their cross-functional queues while the escalation is open
    # (and the leads of the team that queue belongs to, who are told of each escalation).
    escalated = Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue__in=_own_queues(user))
    scope = Q() if is_admin(user) else Q(queue__in=queues_visible_to(user)) | Q(pk__in=escalated.values("ticket_id"))
    if not has_role(user, Role.SPECIALIST):
        # Child-safety content: the specialist group only, or members of the Trust & Safety queue it went to.
        to_trust_and_safety = escalated.filter(target_queue__slug=settings.ACOLHE_TRUST_SAFETY_QUEUE)
        scope &= ~Q(sensitivity__contains=["child_safety"]) | Q(pk__in=to_trust_and_safety.values("ticket_id"))
    return scope


# Above this many open escalations to the user's queues the resolved rule reads them by a subquery on the
# queue ids instead of writing every ticket id into each query.
ESCALATED_IDS_LIMIT = 500


@dataclass(frozen=True)
class Access:
    """What `tickets_visible_to` reads about one user, resolved by `access_of` at one moment."""

    admin: bool
    specialist: bool
    member_queue_ids: frozenset[int]  # the queues the user belongs to
    own_queue_ids: frozenset[int]  # those, and the queues of the teams the user leads (`_own_queues`)
    escalated: frozenset[int] | None  # tickets openly escalated to `own_queue_ids`; None: too many to list
    escalated_to_trust_and_safety: frozenset[int] | None

    def scope(self) -> Q:
        """The rule of `_visibility_rule`, by plain lists of ids."""
        escalated = self._escalated(self.escalated, trust_and_safety=False)
        scope = Q() if self.admin else Q(queue_id__in=sorted(self.own_queue_ids)) | escalated
        if not self.specialist:
            to_trust_and_safety = self._escalated(self.escalated_to_trust_and_safety, trust_and_safety=True)
            scope &= ~Q(sensitivity__contains=["child_safety"]) | to_trust_and_safety
        return scope

    def _escalated(self, ids: frozenset[int] | None, *, trust_and_safety: bool) -> Q:
        if ids is not None:
            return Q(pk__in=sorted(ids))
        rows = Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue_id__in=sorted(self.own_queue_ids))
        if trust_and_safety:
            rows = rows.filter(target_queue__slug=settings.ACOLHE_TRUST_SAFETY_QUEUE)
        return Q(pk__in=rows.values("ticket_id"))


def access_of(user: User) -> Access:
    """Reads, for an active user, the roles, queues and open escalations that `tickets_visible_to` depends
    on, in one statement (`db.access_rows`); the roles are kept on the user object as `has_role` keeps them."""
    roles, members, led, listed = db.access_rows(
        user.pk, lead_role=Role.TEAM_LEAD, open_status=Escalation.Status.OPEN, limit=ESCALATED_IDS_LIMIT + 1
    )
    if getattr(user, "_acolhe_roles", None) is None:
        setattr(user, "_acolhe_roles", roles)  # noqa: B010 (the per-request cache of `has_role`)
    too_many = len(listed) > ESCALATED_IDS_LIMIT
    trust_and_safety = settings.ACOLHE_TRUST_SAFETY_QUEUE
    return Access(
        admin=is_admin(user),
        specialist=has_role(user, Role.SPECIALIST),
        member_queue_ids=frozenset(members),
        own_queue_ids=frozenset(members | led),
        escalated=None if too_many else frozenset(ticket_id for ticket_id, _slug in listed),
        escalated_to_trust_and_safety=(
            None if too_many else frozenset(ticket_id for ticket_id, slug in listed if slug == trust_and_safety)
        ),
    )


# The request being answered, when it reads only (`reading`): user id -> that user's `Access`.
_reading: ContextVar[dict[int, Access] | None] = ContextVar("acolhe_reading", default=None)


@contextmanager
def reading() -> Iterator[None]:
    """A stretch of work that changes no one's access (a GET request): `tickets_visible_to` resolves each
    user's `access_of` once in it and reuses it, forgotten when the stretch ends."""
    token = _reading.set({})
    try:
        yield
    finally:
        _reading.reset(token)


def is_member_of(user: User, queue_id: int) -> bool:
    """The user belongs to the queue (membership only: leading its team or being an admin does not count)."""
    resolved = _resolved_access(user) if user.is_authenticated and user.is_active else None
    if resolved is not None:
        return queue_id in resolved.member_queue_ids
    return Queue.members.through.objects.filter(queue_id=queue_id, user_id=user.pk).exists()


def _resolved_access(user: User) -> Access | None:
    memo = _reading.get()
    if memo is None:
        return None
    if user.pk not in memo:
        memo[user.pk] = access_of(user)
    return memo[user.pk]


def can_open(user: User | None, ticket: Ticket) -> bool:
    """The user may open the ticket now (the rule of `tickets_visible_to`, for one ticket and one user)."""
    return user is not None and tickets_visible_to(user).filter(pk=ticket.pk).exists()


def ticket_for(user: User, number: int) -> Ticket | None:
    return tickets_visible_to(user).select_related("queue", "requester", "assignee").filter(number=number).first()


def ticket_or_404(user: User, number: int) -> Ticket:
    """`ticket_for` for views: a ticket the user may not see is as missing as one that does not exist."""
    ticket = ticket_for(user, number)
    if ticket is None:
        raise Http404
    return ticket


def thread(ticket: Ticket) -> QuerySet[Message]:
    """The ticket's messages in order, with their authors and their attachments as `attachment_list`; without
    their search columns (a text-search vector as long as the body, and the body's first kilobytes), which only
    search reads. Attachments come as a list rather than in each message's `attachments` manager: Django
    builds a filtered queryset per message to hold those, 3 of the 5.5 ms a ticket page's thread took."""
    return (
        ticket.messages.select_related("author")
        .prefetch_related(Prefetch("attachments", to_attr="attachment_list"))
        .defer("search_document", "search_excerpt")
        .order_by("created_at", "id")
    )


def attachment_for(user: User, attachment_id: int) -> Attachment | None:
    return (
        Attachment.objects.filter(pk=attachment_id, message__ticket__in=tickets_visible_to(user))
        .select_related("message")
        .first()
    )


# Records about a ticket (QA reviews and assignments, calibrations, CSAT answers, notices) ----------------
# They quote the ticket's subject and comment on its content, so a restricted ticket's records follow the
# ticket: whoever `tickets_visible_to` hides the ticket from does not get them either.
RESTRICTED_CATEGORIES = ("child_safety",)


def restricted(prefix: str = "") -> Q:
    """Tickets whose records (reviews, calibrations, survey answers, notices) follow the ticket's visibility:
    child-safety content, and anything under legal hold. `prefix` reads them through a relation ("ticket__")."""
    return Q(**{f"{prefix}sensitivity__overlap": list(RESTRICTED_CATEGORIES)}) | Q(**{f"{prefix}legal_hold": True})


def about_readable_ticket(user: User, field: str = "ticket") -> Q:
    """For a queryset of records with a `field` foreign key to Ticket: those about an ordinary ticket (or none),
    or about a restricted one that the user may read. Records about ordinary tickets keep their own scoping (a
    lead reads the reviews of the team's associates wherever the ticket sits). Tested per record through its
    ticket, so the cost follows the records read, not the number of restricted tickets."""
    return (
        Q(**{f"{field}__isnull": True})
        | ~restricted(f"{field}__")
        | Q(**{f"{field}__in": tickets_visible_to(user).values("pk")})
    )


def count_about_readable(records: QuerySet, user: User, field: str = "ticket") -> int:
    """`records.filter(about_readable_ticket(user, field)).count()`, for the counts in every page's navigation.
    The records about a restricted ticket are counted apart in the same query, and only when there are some
    does a second query ask which of those tickets the user may read: the visibility rule is built and
    compiled only then, where the filter above built and compiled it on every page for a rule that almost
    never removes anything."""
    counted = records.order_by().aggregate(every=Count("pk"), restricted=Count("pk", filter=restricted(f"{field}__")))
    if not counted["restricted"]:
        return counted["every"]
    readable = records.filter(restricted(f"{field}__"), **{f"{field}__in": tickets_visible_to(user).values("pk")})
    return counted["every"] - counted["restricted"] + readable.order_by().count()


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's in-app notices, newest first, except those about a restricted ticket the user may not read
    (any more): a notice written before an escalation must not keep quoting the ticket."""
    return Notification.objects.filter(user=user).filter(about_readable_ticket(user))


def navigation_counts(user: User) -> dict[str, Any]:
    """The SLA-health link and the escalation and unread-notice counts in every page's navigation
    (registered in `TicketsConfig.ready`), kept a few seconds per user like a cached page."""
    return per_user(user, "sla_nav", lambda: _navigation_counts(user))


def _navigation_counts(user: User) -> dict[str, Any]:
    """One statement (`db.navigation_counts`). The unread notices about restricted tickets are counted apart,
    as `count_about_readable` counts them, and only when there are some does a second query ask which of
    those tickets the user may read."""
    escalations, unread, restricted_unread = db.navigation_counts(
        user.pk, open_status=Escalation.Status.OPEN, restricted=RESTRICTED_CATEGORIES
    )
    if restricted_unread:
        unreadable = Notification.objects.filter(user=user, read_at=None).filter(restricted("ticket__"))
        unreadable = unreadable.exclude(ticket__in=tickets_visible_to(user).values("pk"))
        unread -= unreadable.order_by().count()
    return {
        "health": is_admin(user) or has_role(user, Role.TEAM_LEAD),
        "escalations": escalations,
        "unread": unread,
    }


def assist_outputs_visible_to(user: User) -> QuerySet[AssistOutput]:
    """The assistant's stored answers on the tickets `user` may open, and no others (`tickets_visible_to`): a
    ticket restricted after an answer was written takes its answers with it."""
    return AssistOutput.objects.filter(ticket__in=tickets_visible_to(user).values("pk"))
