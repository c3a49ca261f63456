"""The access matrix's second dimension: for a child-safety ticket and a legal-hold ticket, every read channel
(pages, API, search results and snippets, counts, lists, notifications, exports, QA sampling, reviews,
calibrations, metrics drill-downs, the requester panel) asked by every role gives the ticket's content only to
those who may read it (`tickets.selectors.tickets_visible_to`), by the rule of docs/wellbeing.md:

- child-safety content: Trust & Safety only. Admins manage the structure and see that such tickets exist
  (masked, in the admin), not their content; associates, leads and other specialists never.
- a legal-hold ticket in the Legal queue: Legal's members and admins; the hold stops deletion, not reading.

A completeness check walks the URL resolver: a new route, a new notification kind or a new export table
that this matrix does not exercise (or list below as not a read channel, with the test that holds it)
fails the suite."""

from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.authtoken.models import Token

from metrics import services as metrics_services
from metrics.models import Calibration, Criterion, CsatSurvey, QaAssignment, Review, Scorecard
from metrics.tables import TABLES
from tests.factories import (
    MessageFactory,
    ProfileFactory,
    QueueFactory,
    RequesterFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tickets import selectors
from tickets.models import AssistOutput, Attachment, Escalation, InboundEmail, Notification, Queue, Role, Ticket
from tickets.workspace import selectors as workspace_selectors

pytestmark = pytest.mark.django_db

SECRETS = {"child_safety": "RELATO-PROTEGIDO-4410", "legal_hold": "PROCESSO-RETIDO-8812"}
# A word of each restricted ticket's subject and body to search for: the search page repeats the query, so
# the query itself is not the secret.
SEARCH_WORDS = {"child_safety": "zanzibar", "legal_hold": "quixotesco"}
# Every kind of in-app notice is written about each restricted ticket to every role.
NOTIFICATION_KINDS = ("sla", "escalated", "handed_back", "wellbeing")
ROLES = ["associate", "bilingual_associate", "lead", "trust_safety_specialist", "other_specialist", "admin"]
READERS = {
    "child_safety": {"trust_safety_specialist"},
    "legal_hold": {"other_specialist", "admin"},
}

# Read channels about one ticket; {n} its number, the rest its objects.
TICKET_PAGES = [
    "/tickets/{n}/",
    "/tickets/{n}/earlier/?before={last_message}",
    "/tickets/{n}/timeline/",
    "/tickets/{n}/requester-tickets/",
    "/messages/{message}/source/",
    "/attachments/{attachment}/",
    "/sop/tickets/{n}/panel/",
    "/tickets/{n}/assist/",
    "/sop/macros/search/?ticket={n}&macro_q=",
    "/metrics/qa/tickets/{n}/review/?associate={associate}",
    "/metrics/qa/tickets/{n}/calibrate/?associate={associate}",
    "/metrics/qa/reviews/{review}/",
    "/metrics/qa/calibrations/{calibration}/",
    "/admin/tickets/assistoutput/{assist_output}/change/",  # an answer of the generative assistant
]
TICKET_API = [
    "/api/v1/tickets/{n}/",
    "/api/v1/messages/{message}/",
    "/api/v1/escalations/{escalation}/",
    "/api/v1/qa/reviews/{review}/",
    "/api/v1/csat/{survey}/",
    "/api/v1/macros/{macro}/rendered/?ticket={n}",
]
# Lists, search, counts, notices, metrics and exports, where the ticket may show up among others.
LISTS = [
    "/",
    "/work/all/",
    "/work/mine/",
    "/work/unassigned/",
    "/work/pending/",
    "/work/breaching/",
    "/work/solved/",
    "/work/queue/{queue}/",
    "/work/counts/",  # the sidebar badges: numbers only, counted by tickets_visible_to
    "/search/?q={word}",
    "/escalations/",
    "/notifications/",
    "/sla/",
    "/tickets/{sibling}/",  # the requester panel: the same requester's other tickets
    "/tickets/{sibling}/assist/",  # suggestions: similar solved tickets of others
    "/metrics/",
    "/metrics/me/",
    "/metrics/associates/{associate}/",
    "/metrics/qa/",
    *[f"/metrics/export/{table}.csv" for table in ("associates", "trend", "queues", "qa", "csat")],
    "/wellbeing/",
    "/wellbeing/team/",
    "/sop/macros/",
    "/admin/tickets/assistoutput/",  # the assistant's answers, for admins
]
API_LISTS = [
    "/api/v1/tickets/",
    "/api/v1/tickets/search/?q={word}",
    "/api/v1/messages/",
    "/api/v1/queues/",
    "/api/v1/escalations/",
    "/api/v1/qa/reviews/",
    "/api/v1/csat/",
    "/api/v1/metrics/daily/",
    "/api/v1/macros/",
]


def _staff(username, role, team=None, queues=(), languages=("pt",)):
    user = UserFactory(username=username, role=role, queues=list(queues))
    ProfileFactory(user=user, team=team, languages=list(languages))
    return user


@pytest.fixture
def matrix(settings):
    team = TeamFactory(name="Atendimento")
    suporte = QueueFactory(slug="suporte", name="Suporte", team=team, languages=["pt"])
    support = QueueFactory(slug="support", name="Support", team=team, languages=["en"])
    trust = QueueFactory(
        slug=settings.ACOLHE_TRUST_SAFETY_QUEUE, name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL
    )
    legal = QueueFactory(slug="juridico", name="Jurídico", kind=Queue.Kind.CROSS_FUNCTIONAL)
    users = {
        "associate": _staff("assoc", Role.ASSOCIATE, team, [suporte]),
        "bilingual_associate": _staff("bilingue", Role.ASSOCIATE, team, [suporte, support], ("pt", "en")),
        "lead": _staff("lider", Role.TEAM_LEAD, team),
        "trust_safety_specialist": _staff("seguranca", Role.SPECIALIST, None, [trust]),
        "other_specialist": _staff("juridico", Role.SPECIALIST, None, [legal]),
        "admin": _staff("root", Role.ADMIN),
    }
    team.leads.add(users["lead"])
    users["admin"].is_staff = True  # reaches the admin site, as an admin does
    users["admin"].save(update_fields=["is_staff"])
    reviewer = users["trust_safety_specialist"]
    scorecard = Scorecard.objects.create(name="Padrão")
    Criterion.objects.create(scorecard=scorecard, name="Tom")
    from sop.models import Macro

    macro = Macro.objects.create(name="Saudação", body_pt="Olá {{ ticket.subject }}", body_en="Hi {{ ticket.subject }}")
    requester = RequesterFactory(email="pessoa@example.com")
    sibling = TicketFactory(queue=suporte, requester=requester, subject="Pedido comum")
    tickets = {}
    for kind, secret in SECRETS.items():
        queue = support if kind == "child_safety" else legal
        ticket = TicketFactory(
            queue=queue,
            requester=requester,
            subject=f"Assunto {SEARCH_WORDS[kind]} {secret}",
            assignee=users["bilingual_associate"] if kind == "child_safety" else users["other_specialist"],
            sensitivity=["child_safety"] if kind == "child_safety" else [],
            legal_hold=True,
            status=Ticket.Status.OPEN,
            resolution_due_at=timezone.now(),
        )
        raw = f"Subject: {secret}\r\n\r\n{secret}".encode()
        inbound = InboundEmail.objects.create(esp="test", raw=raw, raw_sha256="0" * 64, dedupe_key=f"<{kind}@x>")
        message = MessageFactory(ticket=ticket, body_text=f"Corpo {SEARCH_WORDS[kind]} {secret}", inbound_email=inbound)
        attachment = Attachment(message=message, filename=f"{kind}.txt", content_type="text/plain", sha256="cd" * 32)
        attachment.file.save("cd" * 32 + kind, ContentFile(secret.encode()), save=True)
        escalation = Escalation.objects.create(
            ticket=ticket,
            from_queue=queue,
            target_queue=trust if kind == "child_safety" else legal,
            reason=f"Motivo {secret}",
            requested_by=users["associate"],
        )
        associate = users["bilingual_associate"] if kind == "child_safety" else users["associate"]
        review = Review.objects.create(
            ticket=ticket, associate=associate, reviewer=reviewer, scorecard=scorecard, score=50, comment=secret
        )
        calibration = Calibration.objects.create(
            ticket=ticket, associate=associate, scorecard=scorecard, created_by=reviewer
        )
        QaAssignment.objects.create(week=date(2025, 3, 10), ticket=ticket, associate=associate, reviewer=users["lead"])
        survey = CsatSurvey.objects.create(
            ticket=ticket, associate=associate, rating=1, comment=secret, answered_at=timezone.now()
        )
        # Written before the ticket was restricted (the assistant refuses restricted tickets): a draft kept
        # for the requester's export.
        output = AssistOutput.objects.create(
            ticket=ticket, actor=users["associate"], kind=AssistOutput.Kind.DRAFT, text=f"Rascunho {secret}"
        )
        for user in users.values():
            for notice_kind in NOTIFICATION_KINDS:
                Notification.objects.create(user=user, ticket=ticket, kind=notice_kind, text=f"Aviso {secret}")
        tickets[kind] = {
            "ticket": ticket,
            "secret": secret,
            "ids": {
                "n": ticket.number,
                "message": message.pk,
                "last_message": message.pk + 1,
                "attachment": attachment.pk,
                "escalation": escalation.pk,
                "review": review.pk,
                "calibration": calibration.pk,
                "survey": survey.pk,
                "associate": associate.pk,
                "queue": queue.slug,
                "word": SEARCH_WORDS[kind],
                "sibling": sibling.number,
                "macro": macro.pk,
                "assist_output": output.pk,
            },
        }
    return {"users": users, "tickets": tickets, "sibling": sibling}


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def _api(user):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def _cases():
    for kind in SECRETS:
        for role in ROLES:
            if role in READERS[kind]:
                continue
            yield pytest.param(kind, role, id=f"{kind}-{role}")


@pytest.mark.parametrize(("kind", "role"), list(_cases()))
def test_no_read_channel_gives_restricted_content_to_a_role_without_the_right(client, matrix, kind, role):
    case, user = matrix["tickets"][kind], matrix["users"][role]
    secret, ids = case["secret"], case["ids"]
    client.force_login(user)
    api = _api(user)
    leaks = []
    for url in TICKET_PAGES + LISTS:
        response = client.get(url.format(**ids))
        if response.status_code >= 500 or secret in _body(response):
            leaks.append(f"GET {url.format(**ids)} -> {response.status_code}")
    for url in TICKET_API + API_LISTS:
        response = api.get(url.format(**ids))
        if response.status_code >= 500 or secret in _body(response):
            leaks.append(f"API GET {url.format(**ids)} -> {response.status_code}")
    for url in TICKET_PAGES[:7]:
        assert client.get(url.format(**ids)).status_code in (403, 404), url.format(**ids)
    assert not leaks, f"{role} reads {kind} content through: {leaks}"


@pytest.mark.parametrize(
    ("kind", "role"), [(kind, role) for kind, readers in READERS.items() for role in sorted(readers)]
)
def test_those_with_the_right_do_read_it_so_the_matrix_can_fail(client, matrix, kind, role):
    case, user = matrix["tickets"][kind], matrix["users"][role]
    secret, ids = case["secret"], case["ids"]
    client.force_login(user)
    for url in ["/tickets/{n}/", "/attachments/{attachment}/", "/notifications/"]:
        assert secret in _body(client.get(url.format(**ids))), url
    # Search finds it (a flagged ticket's subject and snippet are masked in results, even for its readers).
    assert f"/tickets/{ids['n']}/" in _body(client.get("/search/?q={word}".format(**ids)))
    api = _api(user)
    for url in ["/api/v1/tickets/{n}/", "/api/v1/messages/{message}/"]:
        assert secret in _body(api.get(url.format(**ids))), url
    # So does the API's search, masked as the page's is.
    assert [hit["ticket"]["number"] for hit in api.get("/api/v1/tickets/search/?q={word}".format(**ids)).json()] == [
        ids["n"]
    ]
    if role == "admin":  # the raw mail and the assistant's stored answers are for admins only
        assert secret in _body(client.get("/messages/{message}/source/".format(**ids)))
        assert secret in _body(client.get("/admin/tickets/assistoutput/"))
        assert secret in _body(client.get("/admin/tickets/assistoutput/{assist_output}/change/".format(**ids)))


@pytest.mark.parametrize("role", ROLES)
def test_every_count_counts_only_tickets_the_role_can_open(client, matrix, role):
    user = matrix["users"][role]
    openable = selectors.tickets_visible_to(user).filter(status__in=Ticket.ACTIVE_STATUSES)
    client.force_login(user)
    for queue in client.get("/").context["queues"]:
        assert queue.open_count == openable.filter(queue=queue).count(), queue.slug
    for row in _api(user).get("/api/v1/queues/").json():
        assert row["open_count"] == openable.filter(queue__slug=row["slug"]).count(), row["slug"]
    views, queues = workspace_selectors._sidebar_counts(user)
    assert views["all"] == openable.count()
    for queue in queues:
        assert queue.open_count == openable.filter(queue_id=queue.pk).count(), queue.slug


@pytest.mark.parametrize("kind", SECRETS)
def test_weekly_qa_sampling_gives_a_restricted_ticket_only_to_a_reviewer_who_can_open_it(matrix, kind):
    ticket = matrix["tickets"][kind]["ticket"]
    QaAssignment.objects.all().delete()
    Review.objects.filter(calibration__isnull=True).delete()
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.SOLVED, solved_at=timezone.now())
    metrics_services.sample_week(timezone.localdate(), per_associate=5, seed=1)
    for assignment in QaAssignment.objects.filter(ticket=ticket).select_related("reviewer"):
        assert selectors.can_open(assignment.reviewer, ticket), assignment.reviewer.username


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_admins_reach_the_lgpd_export(client, matrix, role):
    client.force_login(matrix["users"][role])
    response = client.post(
        "/admin/tickets/requester/",
        {"action": "export_personal_data", "_selected_action": [matrix["sibling"].requester_id]},
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# Routes that are not a read channel of a ticket's content, and the test that holds each. A new route must
# be added to the channels above or here, with its reason.
NOT_READ_CHANNELS = {
    # Writes on one ticket: refused to the wrong queue by tests/trust/test_idor_matrix.py.
    "ticket_fields", "ticket_reply", "ticket_merge", "ticket_presence", "message_resend", "ticket_escalate",
    "escalation_hand_back", "escalation_claim", "ticket_reveal", "ticket_clear_flag", "ticket_step", "heartbeat",
    "workspace_bulk",
    "saved_view_save", "saved_view_delete", "macro_new", "macro_edit",
    # Next ticket hands out work by the routing rules: child safety only to specialists
    # (tests/tickets/wellbeing/test_wellbeing_routing.py), always from tickets_visible_to.
    "next_ticket", "ticket-next-ticket",
    # Session, account and language: no ticket content. The favicon is a static file.
    "login", "logout", "set_language", "account_tokens", "two_factor", "two_factor_verify", "healthz",
    "wellbeing_intake", "wellbeing_text_only", "favicon",
    # Skipping a category for the rest of one's own shift: a write about oneself, no ticket content
    # (tests/tickets/wellbeing/test_wellbeing_exposure.py).
    "wellbeing_skip",
    # Generative assist (a POST, off until configured): a ticket under child safety or legal hold is refused
    # before any prompt is built (tests/assist/test_generative.py); the wrong queue gets a 404
    # (tests/trust/test_idor_matrix.py).
    "assist_ask",
    # The SOP library is shared reading for all staff (tests/sop/).
    "library", "sop_new", "detail", "sop_edit", "history", "diff", "coverage", "version_new", "version",
    "version_edit", "version_publish", "remind", "acknowledge",
    # The public satisfaction page takes a signed token (tests/metrics/test_csat.py).
    "csat",
    # API schema and docs; mail webhooks (tests/tickets/email/test_webhooks.py).
    "api-schema", "api-docs", "api-redoc", "api-root",
    # API writes and shared configuration, refused to the wrong queue by tests/trust/test_idor_matrix.py.
    "ticket-reply", "ticket-note", "ticket-merge", "ticket-fields", "ticket-next", "escalation-hand-back",
    "acknowledgement-list", "acknowledgement-detail", "acknowledgement-acknowledge", "sop-list", "sop-detail",
    "sop-version-list", "sop-version-detail", "sop-version-diff", "sop-version-publish", "sop-version-acknowledge",
    "sla-policy-list", "sla-policy-detail", "escalation-rule-list", "escalation-rule-detail", "qa-scorecard-list",
    "qa-scorecard-detail", "macro-detail", "metrics-daily-detail", "queue-detail",
}  # fmt: skip


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def _covered_names(matrix) -> set[str]:
    names = set()
    ids = matrix["tickets"]["child_safety"]["ids"]
    for url in TICKET_PAGES + LISTS + TICKET_API + API_LISTS:
        names.add(resolve(url.format(**ids).split("?")[0]).url_name)
    return names


def test_every_route_is_a_covered_read_channel_or_listed_with_the_test_that_holds_it(matrix):
    covered = _covered_names(matrix)
    missing = []
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith(("admin/", "anymail/")) or "(?P<format>" in route or route.endswith(".<format>"):
            continue
        if name not in covered and name not in NOT_READ_CHANNELS:
            missing.append(f"{route} ({name})")
    assert not missing, "add these routes to the restricted-ticket matrix (or NOT_READ_CHANNELS): " + ", ".join(
        sorted(missing)
    )


def test_every_notification_kind_and_export_table_is_exercised():
    # A new kind of notice or a new CSV table fails here until the matrix writes or downloads it.
    assert set(NOTIFICATION_KINDS) == set(Notification.Kind.values)
    exported = {url.split("/")[-1].removesuffix(".csv") for url in LISTS if url.startswith("/metrics/export/")}
    assert exported == set(TABLES)
