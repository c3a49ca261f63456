"""Reads with access control. Pages and the API read tickets only through these."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from helpdesk.pagecache import per_user
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


def _own_queues(user: User) -> QuerySet[Queue]:
    """The queues the user belongs to, and those of the teams they lead: admins' included, whose role shows
    them every queue but does not make them a member (of Trust & Safety, say)."""
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
    such tickets exist, but do not read them without that membership."""
    if not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    # Specialists also see the tickets escalated to their cross-functional queues while the escalation is open
    # (and the leads of the team that queue belongs to, who are told of each escalation).
    escalated = Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue__in=_own_queues(user))
    scope = Q() if is_admin(user) else Q(queue__in=queues_visible_to(user)) | Q(pk__in=escalated.values("ticket_id"))
    if not has_role(user, Role.SPECIALIST):
        # Child-safety content: the specialist group only, or members of the Trust & Safety queue it went to.
        to_trust_and_safety = escalated.filter(target_queue__slug=settings.ACOLHE_TRUST_SAFETY_QUEUE)
        scope &= ~Q(sensitivity__contains=["child_safety"]) | Q(pk__in=to_trust_and_safety.values("ticket_id"))
    return Ticket.objects.filter(scope)


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
    return ticket.messages.select_related("author").prefetch_related("attachments").order_by("created_at", "id")


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
    return per_user(
        user,
        "sla_nav",
        lambda: {
            "health": is_admin(user) or has_role(user, Role.TEAM_LEAD),
            "escalations": Escalation.objects.filter(status=Escalation.Status.OPEN, target_queue__members=user).count(),
            "unread": count_about_readable(Notification.objects.filter(user=user, read_at=None), user),
        },
    )


def assist_outputs_visible_to(user: User) -> QuerySet[AssistOutput]:
    """The assistant's stored answers on the tickets `user` may open, and no others (`tickets_visible_to`): a
    ticket restricted after an answer was written takes its answers with it."""
    return AssistOutput.objects.filter(ticket__in=tickets_visible_to(user).values("pk"))
