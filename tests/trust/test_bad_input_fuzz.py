"""Bad input to the pages and the API (crafted list cursors, filters, sort keys, ids, Unicode digits such as
`assignee=²`) answers 4xx, and where the parameter is ours a 400 that says what is wrong; never a 5xx.

The fuzzing draws values from hostile shapes seen in the security review and in scanners' payload lists
(superscript and full-width digits, Arabic-Indic digits, overflowing integers, NUL bytes, SQL and path
fragments, JSON in base64 shaped like our cursors) and from Hypothesis' own text. A completeness check
reads the views' source: a query parameter read by a view and not fuzzed here fails the suite."""

import base64
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    "²", "٣", "\uff11\uff12", "-1", "0", "9" * 25, "1e3", " 1", "1.5", "", " ", "none", "\x00", "a\x00b", "%00", "'",
    "' OR 1=1 --", "a" * 300, "1,2", ",,", "[]", "{}", "null", "true", "2025-13-45", "2025-02-30", "NaN", "-",
    "--number", "-priority", "due", "—", "../../etc/passwd", "<script>alert(1)</script>", "🙂", "Ⅻ",
]  # fmt: skip


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _drf_cursor(query: str) -> str:
    """A cursor in DRF's own shape (base64 of a query string), with a position the list did not write."""
    return base64.b64encode(query.encode()).decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=6,
)
cursors = st.one_of(
    st.tuples(json_values, json_values).map(lambda pair: _cursor(list(pair))),
    st.lists(json_values, max_size=4).map(_cursor),
    st.sampled_from(
        [_cursor(["x", "y"]), _cursor(["2025-13-45T00:00:00", 1]), _cursor([1, 2**70]), _cursor([None, 1]), "%%%"]
    ),
)
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=24), st.integers().map(str), cursors)

# Every page a signed-in person opens with query parameters, and the parameters it reads.
LIST_FILTERS = ["status", "priority", "language", "tag", "queue", "assignee", "sort", "after"]
METRIC_FILTERS = ["first", "last", "queue", "language", "team"]
PAGES = {
    "/work/all/": LIST_FILTERS,
    "/work/mine/": LIST_FILTERS,
    "/work/queue/suporte/": LIST_FILTERS,
    "/search/": ["q", "offset"],
    "/tickets/{ticket}/": ["thread"],
    "/tickets/{ticket}/earlier/": ["before"],
    "/metrics/": METRIC_FILTERS,
    "/metrics/export/associates.csv": [*METRIC_FILTERS, "sep"],
    "/metrics/me/": METRIC_FILTERS,
    "/metrics/associates/{associate}/": METRIC_FILTERS,
    "/metrics/qa/": ["number"],
    "/metrics/qa/tickets/{ticket}/review/": ["associate", "calibration", "scorecard"],
    "/metrics/qa/tickets/{ticket}/calibrate/": ["associate"],
    "/sop/": ["q", "category"],
    "/sop/procedimento/": ["lang"],
    "/sop/procedimento/diff/": ["from", "to"],
    "/sop/procedimento/edit/": ["lang"],
    "/sop/macros/search/": ["ticket", "macro_q"],
    "/csat/invalid-token/": ["lang"],
    "/login/": ["next"],
    "/escalations/": ["show"],
}


@pytest.fixture
def staff(client):
    from tests.factories import SOPFactory

    queue = QueueFactory(slug="suporte")
    admin = UserFactory(username="root", role=Role.ADMIN, queues=[queue])
    ticket = TicketFactory(queue=queue, assignee=admin)
    MessageFactory(ticket=ticket)
    SOPFactory(slug="procedimento")
    return {"user": admin, "ticket": ticket.number, "associate": admin.pk}


def _assert_not_5xx(response, label):
    assert response.status_code < 500, f"{label} -> {response.status_code}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/work/all/?assignee=²", "²"),
        ("/work/all/?assignee=١٢", "assignee"),
        ("/work/all/?priority=²", "priority"),
        ("/work/all/?status=lost", "lost"),
        ("/work/all/?sort=password", "password"),
        (f"/work/all/?after={_cursor(['x', 'y'])}", "first page"),
        (f"/work/all/?sort=number&after={_cursor(['abc', 1])}", "first page"),
        (f"/work/all/?after={_cursor(['2025-13-45T00:00:00+00:00', 1])}", "first page"),
        (f"/work/all/?sort=due&after={_cursor([None, 2**70])}", "first page"),
        ("/work/all/?after=%25%25%25", "first page"),
        ("/metrics/qa/?number=²", "²"),
        ("/metrics/qa/tickets/{ticket}/review/?associate=abc", "abc"),
        ("/metrics/qa/tickets/{ticket}/review/?calibration=²", "²"),
        ("/metrics/qa/tickets/{ticket}/review/?scorecard=x", "x"),
    ],
)
def test_a_crafted_parameter_gets_a_400_that_says_what_is_wrong(client, staff, url, message):
    client.force_login(staff["user"])
    response = client.get(url.format(**staff), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/search/?q=a%00b", "/sop/?q=%00", "/work/all/?tag=%00", "/api/v1/tickets/search/?q=%00"]
)
def test_a_nul_character_gets_a_400_that_says_so(client, staff, url):
    client.force_login(staff["user"])
    response = client.get(url)
    assert response.status_code == 400
    assert "caractere NUL" in str(response.content.decode() if not url.startswith("/api/") else response.json())


def test_the_api_answers_a_crafted_list_parameter_with_400(client, staff):
    client.force_login(staff["user"])
    for url in ("/api/v1/tickets/?assignee=²", "/api/v1/tickets/?status=lost", "/api/v1/qa/reviews/?associate=²"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json(), url
    for url in ("/api/v1/tickets/", "/api/v1/messages/", "/api/v1/csat/", "/api/v1/metrics/daily/"):
        for cursor in (_cursor(["x", "y"]), _drf_cursor("p=notadate"), _drf_cursor("p=2025-13-45")):
            response = client.get(url, {"cursor": cursor}, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 400, (url, cursor)
            assert "first page" in str(response.json()), (url, cursor)


def test_a_valid_cursor_still_pages_through_a_list(client, staff):
    queue = QueueFactory(slug="fila-grande")
    staff["user"].support_queues.add(queue)
    TicketFactory.create_batch(55, queue=queue)
    client.force_login(staff["user"])
    for sort in ("updated", "-number", "priority", "due"):
        first = client.get(f"/work/queue/fila-grande/?sort={sort}")
        assert first.status_code == 200
        cursor = first.context["page"].next_cursor
        second = client.get(f"/work/queue/fila-grande/?sort={sort}&after={cursor}")
        assert second.status_code == 200, sort
        seen = {t.pk for t in first.context["page"].tickets} | {t.pk for t in second.context["page"].tickets}
        assert len(seen) == 55, sort


# Each of these is tried in every parameter of every page, besides what Hypothesis generates.
SHARP = [
    "²", "٣", "9" * 25, "-1", "\x00", "a\x00b", "' OR 1=1 --", "a" * 300, _cursor(["x", 2**70]), "🙂",
    _drf_cursor("p=notadate"), _drf_cursor("o=1&r=1&p=2025-13-45"),
]  # fmt: skip


def _fuzz(client, url: str, names: list[str], examples: int) -> None:
    """Each SHARP value in each parameter, then Hypothesis' combinations of them all."""
    for name in names:
        for value in SHARP:
            _assert_not_5xx(client.get(url, {name: value}), f"GET {url} {name}={value!r}")

    @given(params=st.fixed_dictionaries({}, optional=dict.fromkeys(names, values)))
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    def visit(params):
        _assert_not_5xx(client.get(url, params), f"GET {url} {params!r}")

    visit()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_no_page_answers_5xx_to_generated_query_parameters(client, staff, page):
    client.force_login(staff["user"])
    _fuzz(client, page.format(**staff), PAGES[page], examples=30)


def _api_list_parameters(client) -> dict[str, list[str]]:
    """Every GET operation of the API schema that takes query parameters, with them."""
    schema = client.get("/api/schema/", {"format": "json"}).json()
    found = {}
    for path, operations in schema["paths"].items():
        names = [p["name"] for p in operations.get("get", {}).get("parameters", []) if p.get("in") == "query"]
        if names:
            found[path] = names
    return found


def test_no_api_list_answers_5xx_to_generated_query_parameters(client, staff):
    api = client.__class__(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff['user']).key}")
    lists = _api_list_parameters(api)
    assert "/api/v1/tickets/" in lists and "cursor" in lists["/api/v1/tickets/"]
    ids = {"{number}": str(staff["ticket"]), "{id}": "1", "{slug}": "suporte"}
    for path, names in sorted(lists.items()):
        url = path
        for placeholder, value in ids.items():
            url = url.replace(placeholder, value)
        _fuzz(api, url, names, examples=15)


QUERY_READ = re.compile(r"""(?:request\.GET|request\.query_params|query)\.(?:get|getlist)\(\s*["']([a-z_]+)["']""")


def test_every_query_parameter_a_view_reads_is_fuzzed():
    fuzzed = {name for names in PAGES.values() for name in names}
    read = set()
    for folder in ("tickets", "accounts", "sop", "metrics", "helpdesk"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts or path.name == "baseline.py":
                continue
            read |= set(QUERY_READ.findall(path.read_text()))
    # The API's parameters are fuzzed from its schema; these are read by API views only.
    api_only = {"offset", "other", "pending", "ticket", "q"}
    missing = read - fuzzed - api_only
    assert not missing, f"fuzz these query parameters too: {sorted(missing)}"
