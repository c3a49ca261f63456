"""Reads on SOPs and macros with access control. Pages, the ticket panel and the API read through these."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet

from helpdesk import generations
from sop.models import SOP, Acknowledgement, ChecklistStep, ChecklistTick, Macro, SOPVersion
from sop.services import ACKNOWLEDGEMENTS, SEARCH_CONFIGS, render_macro
from tickets.language import reader_language
from tickets.models import Language, Role, Ticket
from tickets.selectors import has_role, is_admin, queues_visible_to, tickets_visible_to
from tickets.wellbeing.selectors import crisis_sop_first


def is_staff_member(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_manage_sops(user: User) -> bool:
    """Team leads and admins write SOPs, publish them, see who has read them and keep shared macros."""
    return is_staff_member(user) and (is_admin(user) or has_role(user, Role.TEAM_LEAD))


# --- the library -----------------------------------------------------------------------------------------


def sops_visible_to(user: User) -> QuerySet[SOP]:
    """Every signed-in staff member reads the library; SOPs without a published version only managers."""
    if not is_staff_member(user):
        return SOP.objects.none()
    if can_manage_sops(user):
        return SOP.objects.all()
    return SOP.objects.filter(is_active=True, versions__is_current=True).distinct()


def versions_visible_to(user: User) -> QuerySet[SOPVersion]:
    if not is_staff_member(user):
        return SOPVersion.objects.none()
    versions = SOPVersion.objects.filter(sop__in=sops_visible_to(user))
    if not can_manage_sops(user):
        versions = versions.filter(status=SOPVersion.Status.PUBLISHED)
    return versions


def current_versions(sops: QuerySet[SOP] | list[SOP]) -> QuerySet[SOPVersion]:
    return SOPVersion.objects.filter(sop__in=sops, is_current=True).prefetch_related("steps")


def preferred_version(versions: list[SOPVersion], language: str) -> tuple[SOPVersion | None, bool]:
    """The version in `language`, else any other one; the flag says whether it fell back."""
    for version in versions:
        if version.language == language:
            return version, False
    return (versions[0], True) if versions else (None, False)


def title_in(sop: SOP, versions: list[SOPVersion], language: str) -> str:
    """A procedure's name for a reader: the title of its current version in `language` (another language's
    when it has none), else its internal name (`SOP.title`, one for all languages)."""
    version, _fell_back = preferred_version([v for v in versions if v.is_current], language)
    return version.title if version is not None else sop.title


def titles_in(sops: list[SOP], language: str) -> dict[int, str]:
    """`title_in` for several procedures (their pk -> name), their current versions read in one query."""
    current: dict[int, list[SOPVersion]] = {sop.pk: [] for sop in sops}
    for version in current_versions(sops).prefetch_related(None).only("sop_id", "language", "title"):
        current[version.sop_id].append(version)
    return {sop.pk: title_in(sop, current[sop.pk], language) for sop in sops}


@dataclass
class LibraryEntry:
    sop: SOP
    version: SOPVersion | None
    fell_back: bool = False
    other_languages: list[str] = field(default_factory=list)


def library(user: User, *, language: str, query: str = "", category: str = "") -> list[LibraryEntry]:
    """SOPs for the library page: full-text search over current versions in both languages, by category.
    Each entry shows the version in `language` when there is one."""
    sops = sops_visible_to(user).prefetch_related(
        Prefetch("versions", queryset=SOPVersion.objects.filter(is_current=True), to_attr="current")
    )
    if category:
        sops = sops.filter(category=category)
    query = query.strip()
    ranks: dict[int, float] = {}
    if query:
        matches = Q()
        for config in SEARCH_CONFIGS.values():
            matches |= Q(search_vector=SearchQuery(query, config=config, search_type="websearch"))
        found = (
            versions_visible_to(user)
            .filter(matches | Q(title__icontains=query) | Q(sop__title__icontains=query))
            .annotate(
                rank=SearchRank("search_vector", SearchQuery(query, config="simple", search_type="websearch"))
                + SearchRank(
                    "search_vector", SearchQuery(query, config=SEARCH_CONFIGS[language], search_type="websearch")
                )
            )
            .values_list("sop_id", "rank")
        )
        for sop_id, rank in found:
            ranks[sop_id] = max(ranks.get(sop_id, 0.0), rank or 0.0)
        sops = sops.filter(pk__in=ranks)
    entries = []
    for sop in sops.order_by("category", "title"):
        version, fell_back = preferred_version(sop.current, language)
        others = sorted(v.language for v in sop.current if version is None or v.language != version.language)
        entries.append(LibraryEntry(sop=sop, version=version, fell_back=fell_back, other_languages=others))
    if ranks:
        entries.sort(key=lambda entry: -ranks.get(entry.sop.pk, 0.0))
    return entries


def history(sop: SOP, user: User) -> QuerySet[SOPVersion]:
    return versions_visible_to(user).filter(sop=sop).select_related("author").order_by("language", "-number")


# --- acknowledgements ------------------------------------------------------------------------------------


def pending_acknowledgements(user: User) -> list[Acknowledgement]:
    """Must-read versions the user has not confirmed yet, still current. One query."""
    if not is_staff_member(user):
        return []
    return list(
        Acknowledgement.objects.filter(user=user, acknowledged_at__isnull=True, version__is_current=True)
        .select_related("version__sop", "version__counterpart")
        .order_by("requested_at")
    )


# What the must-read banner shows of each acknowledgement: not the versions' bodies and search vectors, which
# every page would otherwise read (twice, with the counterpart) and throw away.
BANNER_FIELDS = (
    "requested_at",
    "version__number",
    "version__title",
    "version__language",
    "version__change_summary",
    "version__sop__slug",
    "version__counterpart__title",
    "version__counterpart__language",
)


# The must-read banner changes when a must-read version is published, acknowledged or edited, seldom against
# the pages every associate loads: so each person's pending acknowledgements are kept in their own generation
# (`helpdesk.generations`), which any saved or deleted acknowledgement, version or SOP replaces (`sop.signals`;
# `services.publish_version` replaces it itself after asking for acknowledgements in bulk, which sends no
# signal). A new banner shows on the next page, with the page cache on or off.
ACKNOWLEDGEMENTS_SECONDS = 600


def _banner_acknowledgements(user: User) -> list[Acknowledgement]:
    if not is_staff_member(user):
        return []
    return list(
        Acknowledgement.objects.filter(user=user, acknowledged_at__isnull=True, version__is_current=True)
        .select_related("version__sop", "version__counterpart")
        .only(*BANNER_FIELDS)
        .order_by("requested_at")
    )


@dataclass
class Coverage:
    version: SOPVersion
    acknowledged: list[Acknowledgement]
    pending: list[Acknowledgement]

    @property
    def total(self) -> int:
        return len(self.acknowledged) + len(self.pending)

    @property
    def percent(self) -> int:
        return round(100 * len(self.acknowledged) / self.total) if self.total else 100


def coverage(sop: SOP, lead: User) -> list[Coverage]:
    """Who has and has not read each current must-read version of the SOP, limited to the people in the
    queues the lead can see."""
    if not can_manage_sops(lead):
        return []
    acks = Acknowledgement.objects.select_related("user").order_by("user__first_name", "user__username")
    if not is_admin(lead):
        acks = acks.filter(user__support_queues__in=queues_visible_to(lead)).distinct()
    versions = SOPVersion.objects.filter(sop=sop, is_current=True, must_read=True).prefetch_related(
        Prefetch("acknowledgements", queryset=acks, to_attr="visible_acks")
    )
    return [
        Coverage(
            version=version,
            acknowledged=[ack for ack in version.visible_acks if not ack.is_pending],
            pending=[ack for ack in version.visible_acks if ack.is_pending],
        )
        for version in versions.order_by("language")
    ]


# --- the ticket page -------------------------------------------------------------------------------------


def applicable_sops(ticket: Ticket) -> QuerySet[SOP]:
    """Active SOPs whose queues include the ticket's (or that name no queue) and whose tags meet the
    ticket's (or that name no tag); an SOP naming neither applies nowhere."""
    through = SOP.queues.through
    in_queue = Exists(through.objects.filter(sop=OuterRef("pk"), queue_id=ticket.queue_id))
    has_queues = Exists(through.objects.filter(sop=OuterRef("pk")))
    has_tags = ~Q(tags=[])
    tag_match = (Q(tags__overlap=ticket.tags) | ~has_tags) if ticket.tags else ~has_tags
    return (
        SOP.objects.filter(is_active=True)
        .filter(in_queue | ~has_queues)
        .filter(tag_match)
        .filter(has_queues | has_tags)
        .order_by("title")
    )


@dataclass
class PanelStep:
    step: ChecklistStep
    tick: ChecklistTick | None

    @property
    def checked(self) -> bool:
        return self.tick is not None


@dataclass
class PanelSOP:
    sop: SOP
    version: SOPVersion
    fell_back: bool
    steps: list[PanelStep]

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.checked)


# The procedures that apply to a ticket depend only on its queue, tags and language and on the procedures
# themselves, which change seldom (a version published, an SOP edited) while tickets change all the time. So
# they are kept per queue, tags and language in the procedures' generation (`helpdesk.generations`), which
# any saved or deleted SOP, version, step or queue link replaces (`sop.signals`), so that a change is shown
# on the next page. The ticks, which are the ticket's own, are read on every page.
PROCEDURES = "procedures"
TICKET_SOPS_SECONDS = 600


def _ticket_sops(ticket: Ticket) -> list[tuple[SOP, SOPVersion, bool]]:
    """The applicable SOPs by title, each with its preferred current version and its steps: kept for tickets
    of the same queue, tags and language until a procedure changes."""
    shape = f"{ticket.queue_id}\x1f{sorted(ticket.tags or [])!r}\x1f{ticket.language}"
    return generations.kept(PROCEDURES, shape, lambda: _read_ticket_sops(ticket), TICKET_SOPS_SECONDS)


def _read_ticket_sops(ticket: Ticket) -> list[tuple[SOP, SOPVersion, bool]]:
    """The versions are read with their SOP in one query (and their steps in another), an SOP without a
    current version has none."""
    versions = (
        current_versions(applicable_sops(ticket))
        .select_related("sop")
        .order_by("sop__title", "sop_id", "language", "-number")
    )
    by_sop: dict[int, list[SOPVersion]] = {}
    for current in versions:
        by_sop.setdefault(current.sop_id, []).append(current)
    chosen = []
    for candidates in by_sop.values():
        version, fell_back = preferred_version(candidates, ticket.language)
        if version is not None:
            chosen.append((version.sop, version, fell_back))
    return chosen


def ticket_sop_panel(ticket: Ticket, user: User, *, visible: bool = False) -> dict:
    """The SOPs that apply to the ticket, each in the ticket's language (else the other one), with its
    checklist and which steps are ticked on this ticket. `visible`: the caller read the ticket through the
    user's access rules already (`ticket_or_404`), so they need not be checked again."""
    empty = {"ticket": ticket, "sops": [], "unticked_required": []}
    if not visible and not tickets_visible_to(user).filter(pk=ticket.pk).exists():
        return empty
    chosen = _ticket_sops(ticket)
    ticks = {
        tick.step_id: tick
        for tick in ChecklistTick.objects.filter(
            ticket=ticket, step__version__in=[version for _, version, _ in chosen]
        ).select_related("checked_by")
    }
    panel = []
    for sop, version, fell_back in chosen:
        steps = [PanelStep(step=step, tick=ticks.get(step.pk)) for step in version.steps.all()]
        panel.append(PanelSOP(sop=sop, version=version, fell_back=fell_back, steps=steps))
    unticked = [s.step for entry in panel for s in entry.steps if s.step.required and not s.checked]
    return {"ticket": ticket, "sops": panel, "unticked_required": unticked}


def ticket_page_sop_panel(ticket: Ticket, viewer: User) -> dict:
    """The ticket page's SOP panel (registered in `SopConfig.ready`): the page read the ticket through the
    viewer's access rules already, and a crisis procedure leads on a ticket that needs one."""
    return crisis_sop_first(ticket_sop_panel(ticket, viewer, visible=True), ticket)


def acknowledgements_to_show(user: User) -> list[Acknowledgement]:
    """The must-read banner of every page (registered in `SopConfig.ready`): one query, kept a few seconds
    per user like a cached page. Each names its procedure in the reader's language where the version has a
    counterpart in it (`title_shown`); the link still goes to the version to acknowledge."""
    acknowledgements = generations.kept(
        ACKNOWLEDGEMENTS, f"user:{user.pk}", lambda: _banner_acknowledgements(user), ACKNOWLEDGEMENTS_SECONDS
    )
    language = reader_language()
    for ack in acknowledgements:
        counterpart = ack.version.counterpart
        in_reader_language = counterpart is not None and ack.version.language != language == counterpart.language
        ack.title_shown = counterpart.title if in_reader_language and counterpart else ack.version.title
    return acknowledgements


def unticked_required_steps(ticket: Ticket) -> list[ChecklistStep]:
    """Required steps of the SOPs on this ticket that nobody has ticked: warn before solving."""
    versions = [version for _, version, _ in _ticket_sops(ticket)]
    ticked = set(ChecklistTick.objects.filter(ticket=ticket).values_list("step_id", flat=True))
    return [step for version in versions for step in version.steps.all() if step.required and step.pk not in ticked]


def step_for_ticket(ticket: Ticket, step_id: int) -> ChecklistStep | None:
    """A step that may be ticked on this ticket: from a current version of an SOP that applies to it."""
    return (
        ChecklistStep.objects.filter(
            pk=step_id, version__is_current=True, version__sop__in=applicable_sops(ticket).values("pk")
        )
        .select_related("version__sop")
        .first()
    )


# --- macros ----------------------------------------------------------------------------------------------


def macros_for(user: User) -> QuerySet[Macro]:
    """Shared macros and the user's own."""
    if not is_staff_member(user):
        return Macro.objects.none()
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user), is_active=True)


def macros_editable_by(user: User) -> QuerySet[Macro]:
    if not is_staff_member(user):
        return Macro.objects.none()
    if can_manage_sops(user):
        return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user))
    return Macro.objects.filter(owner=user)


@dataclass
class MacroChoice:
    macro: Macro
    text: str
    language: str
    fell_back: bool
    missing: list[str]


def search_macros(user: User, ticket: Ticket, query: str = "", limit: int = 8) -> list[MacroChoice]:
    """Macros whose name matches, most used first, each rendered for this ticket."""
    macros = macros_for(user)
    for word in query.split():
        macros = macros.filter(name__icontains=word)
    language_body = "body_pt" if ticket.language == Language.PT else "body_en"
    macros = macros.annotate(
        in_language=ExpressionWrapper(~Q(**{language_body: ""}), output_field=BooleanField())
    ).order_by("-in_language", "-usage_count", "name")[:limit]
    choices = []
    for macro in macros:
        rendered = render_macro(macro, ticket, actor=user)
        choices.append(
            MacroChoice(
                macro=macro,
                text=rendered.text,
                language=rendered.language,
                fell_back=rendered.fell_back,
                missing=rendered.missing,
            )
        )
    return choices
