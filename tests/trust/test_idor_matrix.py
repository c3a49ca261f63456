"""Every page and API endpoint that takes an id, asked by every role from the wrong queue or team, answers
403 or 404 and never the data. A completeness check fails when a new id-taking route is not in the matrix."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.trust.conftest import SECRET
from tickets.models import Message, Ticket

# (method, url template, form data); templates are filled from the world's team-B objects.
PAGES = [
    ("get", "/tickets/{ticket}/", None),
    ("get", "/tickets/{ticket}/earlier/", None),
    ("get", "/tickets/{ticket}/timeline/", None),
    ("get", "/tickets/{ticket}/requester-tickets/", None),
    ("get", "/messages/{message}/source/", None),
    ("get", "/attachments/{attachment}/", None),
    ("get", "/work/queue/{queue}/", None),
    ("post", "/tickets/{ticket}/fields/", {"status": "solved", "priority": "4"}),
    ("post", "/tickets/{ticket}/reply/", {"body": "intruso", "mode": "reply"}),
    ("post", "/tickets/{ticket}/merge/", {"target": "{ticket_a}"}),
    ("post", "/tickets/{ticket}/presence/", {"typing": "1"}),
    ("post", "/tickets/{ticket}/escalate/", {"target_queue": "juridico", "reason": "x"}),
    ("post", "/messages/{reply}/resend/", {}),
    ("post", "/escalations/{escalation}/hand-back/", {"resolution_note": "x"}),
    ("post", "/escalations/{escalation}/claim/", {}),
    ("get", "/sop/tickets/{ticket}/panel/", None),
    ("get", "/tickets/{ticket}/assist/", None),
    ("post", "/tickets/{ticket}/assist/summary/", {}),
    ("post", "/sop/tickets/{ticket}/steps/1/", {"checked": "1"}),
    ("get", "/sop/macros/search/?ticket={ticket}&q=", None),
    ("get", "/sop/macros/{macro}/edit/", None),
    ("post", "/sop/macros/{macro}/edit/", {"name": "x", "body_pt": "x", "body_en": "x"}),
    ("get", "/metrics/associates/{associate}/", None),
    ("get", "/metrics/qa/tickets/{ticket}/review/", None),
    ("get", "/metrics/qa/tickets/{ticket}/calibrate/", None),
    ("get", "/metrics/qa/reviews/{review}/", None),
    ("get", "/metrics/qa/calibrations/{calibration}/", None),
    ("post", "/metrics/heartbeat/", {"ticket": "{ticket}"}),
    ("post", "/tickets/{ticket}/reveal/", {"attachment": "{attachment}"}),
    ("post", "/tickets/{ticket}/clear-flag/", {"category": "bullying", "note": "x"}),
]
# Saved views are per user: deleting someone else's is a no-op redirect, checked separately below.

API = [
    ("get", "/api/v1/tickets/{ticket}/", None),
    ("patch", "/api/v1/tickets/{ticket}/", {"status": "solved"}),
    ("post", "/api/v1/tickets/{ticket}/reply/", {"body": "intruso"}),
    ("post", "/api/v1/tickets/{ticket}/note/", {"body": "intruso"}),
    ("post", "/api/v1/tickets/{ticket}/merge/", {"into": "{ticket_a}"}),
    ("get", "/api/v1/messages/{message}/", None),
    ("get", "/api/v1/queues/{queue}/", None),
    ("get", "/api/v1/escalations/{escalation}/", None),
    ("post", "/api/v1/escalations/{escalation}/hand_back/", {"resolution_note": "x"}),
    ("get", "/api/v1/macros/{macro}/", None),
    ("get", "/api/v1/macros/{macro}/rendered/?ticket={ticket}", None),
    ("get", "/api/v1/metrics/daily/{stats}/", None),
    ("get", "/api/v1/qa/reviews/{review}/", None),
    ("get", "/api/v1/csat/{survey}/", None),
    ("get", "/api/v1/acknowledgements/{acknowledgement}/", None),
    ("post", "/api/v1/acknowledgements/{acknowledgement}/acknowledge/", {}),
]

# Routes with an id that are not about a queue's or a person's data: the SOP library is readable by all
# staff, SLA policies, escalation rules and scorecards are shared configuration, `work/<view>` and the CSV
# export take a view or table name, the CSAT page a signed token (tested in tests/metrics/test_csat.py).
NOT_QUEUE_SCOPED = {
    "sop-detail",
    "sop-version-detail",
    "sop-version-diff",
    "sop-version-publish",
    "sop-version-acknowledge",
    "sla-policy-detail",
    "escalation-rule-detail",
    "qa-scorecard-detail",
    "detail",
    "sop_edit",
    "history",
    "diff",
    "coverage",
    "version_new",
    "version",
    "version_edit",
    "version_publish",
    "remind",
    "acknowledge",
    "workspace",
    "export",
    "csat",
    "saved_view_delete",
    "api-root",
}


def _ids(world) -> dict:
    return {
        "ticket": world.ticket_b.number,
        "ticket_a": world.ticket_a.number,
        "message": world.message_b.pk,
        "reply": world.reply_b.pk,
        "attachment": world.attachment_b.pk,
        "queue": world.queue_b.slug,
        "escalation": world.escalation_b.pk,
        "macro": world.macro_b.pk,
        "associate": world.associate_b.pk,
        "review": world.review_b.pk,
        "calibration": world.calibration_b.pk,
        "stats": world.stats_b.pk,
        "survey": world.survey_b.pk,
        "acknowledgement": world.acknowledgement_b.pk,
    }


def _fill(value, ids):
    if value is None:
        return None
    if isinstance(value, str):
        return value.format(**ids)
    return {k: _fill(v, ids) for k, v in value.items()}


def _snapshot(world):
    ticket = Ticket.objects.get(pk=world.ticket_b.pk)
    return (
        ticket.status,
        ticket.priority,
        ticket.subject,
        ticket.merged_into_id,
        Message.objects.filter(ticket=ticket).count(),
        Message.objects.get(pk=world.reply_b.pk).delivery_status,
        world.escalation_b.__class__.objects.get(pk=world.escalation_b.pk).status,
        world.escalation_b.__class__.objects.get(pk=world.escalation_b.pk).claimed_by_id,
        world.macro_b.__class__.objects.get(pk=world.macro_b.pk).name,
        world.acknowledgement_b.__class__.objects.get(pk=world.acknowledgement_b.pk).acknowledged_at,
    )


def _assert_refused(response, label):
    assert response.status_code in (403, 404), f"{label}: {response.status_code}"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() not in body, f"{label}: leaked the secret"


@pytest.mark.parametrize("role", ["associate", "team_lead", "specialist"])
def test_pages_refuse_every_role_from_the_wrong_queue(world, role, client):
    ids = _ids(world)
    before = _snapshot(world)
    client.force_login(world.intruders[role])
    for method, url, data in PAGES:
        url, data = _fill(url, ids), _fill(data, ids)
        response = client.get(url) if method == "get" else client.post(url, data or {})
        _assert_refused(response, f"{role} {method.upper()} {url}")
    assert _snapshot(world) == before


@pytest.mark.parametrize("role", ["associate", "team_lead", "specialist"])
def test_api_refuses_every_role_from_the_wrong_queue(world, role, api_client_for):
    ids = _ids(world)
    before = _snapshot(world)
    api = api_client_for(world.intruders[role])
    for method, url, data in API:
        url, data = _fill(url, ids), _fill(data, ids)
        if method == "get":
            response = api.get(url)
        else:
            response = getattr(api, method)(url, data or {}, content_type="application/json")
        _assert_refused(response, f"{role} {method.upper()} {url}")
    assert _snapshot(world) == before


@pytest.mark.parametrize("role", ["associate", "team_lead", "specialist"])
def test_api_lists_and_search_never_include_another_teams_data(world, role, api_client_for):
    api = api_client_for(world.intruders[role])
    lists = [
        "/api/v1/tickets/",
        "/api/v1/messages/",
        "/api/v1/queues/",
        "/api/v1/escalations/",
        "/api/v1/macros/",
        "/api/v1/metrics/daily/",
        "/api/v1/qa/reviews/",
        "/api/v1/csat/",
        "/api/v1/acknowledgements/",
        "/api/v1/tickets/search/?q=SEGREDO",
        f"/api/v1/messages/?ticket={world.ticket_b.pk}",
    ]
    for url in lists:
        response = api.get(url)
        assert response.status_code in (200, 403), url
        assert SECRET.encode() not in response.content, f"{role} GET {url} leaked the secret"


def test_the_owners_see_the_data_so_the_matrix_can_fail(world, client, api_client_for):
    # The same requests by the people who may see them return the secret: a refusal above is real.
    client.force_login(world.associate_b)
    assert SECRET in client.get(f"/tickets/{world.ticket_b.number}/").content.decode()
    assert client.get(f"/attachments/{world.attachment_b.pk}/").status_code == 200
    api = api_client_for(world.admin)
    assert SECRET in api.get(f"/api/v1/tickets/{world.ticket_b.number}/").content.decode()
    assert SECRET in api.get(f"/api/v1/csat/{world.survey_b.pk}/").content.decode()


def test_deleting_someone_elses_saved_view_does_nothing(world, client):
    client.force_login(world.associate_a)
    client.post(f"/views/{world.saved_view_b.pk}/delete/")
    assert world.saved_view_b.__class__.objects.filter(pk=world.saved_view_b.pk).exists()


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def test_every_id_taking_route_is_in_the_matrix():
    covered = {
        url.split("?")[0]
        .replace("{ticket}", "0")
        .replace("{message}", "0")
        .replace("{reply}", "0")
        .replace("{attachment}", "0")
        .replace("{queue}", "x")
        .replace("{escalation}", "0")
        .replace("{macro}", "0")
        .replace("{associate}", "0")
        .replace("{review}", "0")
        .replace("{calibration}", "0")
        .replace("{stats}", "0")
        .replace("{survey}", "0")
        .replace("{acknowledgement}", "0")
        for _, url, _ in PAGES + API
    }
    from django.urls import resolve

    covered_names = {resolve(path).url_name for path in covered}
    missing = []
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith("admin/") or "<" not in route or "(?P<format>" in route:
            continue
        if name not in covered_names and name not in NOT_QUEUE_SCOPED:
            missing.append(f"{route} ({name})")
    assert not missing, "add these id-taking routes to the IDOR matrix: " + ", ".join(missing)


def test_anonymous_requests_never_get_data(world):
    anonymous = Client()
    ids = _ids(world)
    for method, url, data in PAGES + API:
        url, data = _fill(url, ids), _fill(data, ids)
        response = anonymous.get(url) if method == "get" else getattr(anonymous, method)(url, data or {})
        assert response.status_code in (302, 401, 403, 404), f"anonymous {method} {url}: {response.status_code}"
        assert SECRET.encode() not in response.content
