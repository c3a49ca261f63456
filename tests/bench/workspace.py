"""Everything measured on the one data set (`dataset.py`): the associate pages and the lead dashboard
against gunicorn on loopback, the baseline view served the same way, SQL queries per page, next-ticket
with 16 associates pressing at once, the SLA sweep with 10,000 tickets due and the 30-day metrics rollup.

The data set lives in a database of its own (`acolhe_bench_workspace`, `_quick` for QUICK=1; named after the
configured database). The measuring runs in a child process so that Django is set up against that database
only.
"""

from __future__ import annotations

import base64
import html
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import redis

from tests.bench.harness import ROOT, bench_env, ensure_database, gunicorn, run_load, summarise

DATABASE = "acolhe_bench_workspace"
# The sidebar badges of the list and search pages, fetched after them (`workspace_counts`).
SIDEBAR_COUNTS = "/work/counts/"
# From the most common word of the vocabulary to rare ones, phrases and a long-tail token.
SEARCH_TERMS = ["conta", "senha", "notificacao", "vídeo travando", "copyright strike", "hacked account", "termo4242"]
NEXT_TICKET_ASSOCIATES = 16
# Figures with a goal are measured this many times and reported as the median run.
RUNS = 3
SLA_DUE = 10_000
# Pages are loaded by this many clients at once against this many gunicorn workers.
WORKERS = 4
CONCURRENCY = 4
# First renders come from this many associates (`bench1`...), each with their own session.
SPREAD_USERS = 8


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _as_browser(url: str) -> dict[str, str]:
    """The headers a browser sends for `url`: a list's deeper pages are only ever loaded by its "More
    tickets" link, through htmx, which asks for the rows alone."""
    return {"HX-Request": "true"} if "after=" in url else {}


def _list_urls(client) -> list[str]:
    """Every list view, several sorts and filters, and deep pages through the keyset cursor."""
    urls = [
        "/work/queue/bench-0/",
        "/work/all/?sort=-updated",
        "/work/unassigned/",
        "/work/breaching/",
        "/work/all/?language=en&priority=4",
        "/work/pending/?sort=number",
        "/work/all/?tag=vip",
        "/work/solved/",
        "/work/all/?sort=-priority",
        "/work/unassigned/?sort=number",
        "/work/all/?sort=-due",
        "/work/mine/",
    ]
    # Rendered, never kept: the load below starts with no page cached (no-cache).
    response = client.get("/work/queue/bench-0/", headers={"Cache-Control": "no-cache"})
    for _ in range(20):
        found = re.search(r'hx-get="\?([^"]+)"', response.content.decode())
        if not found:
            break
        url = "/work/queue/bench-0/?" + html.unescape(found.group(1))
        urls.append(url)
        response = client.get(url, headers={"Cache-Control": "no-cache", **_as_browser(url)})
    return urls


def _queries_per_page(client, pages: dict[str, list[str]]) -> dict[str, int]:
    """The most SQL queries any URL of each page kind runs (in process, after one warm-up request), with
    the short page cache off: what a page costs when it is really rendered."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    most = {}
    with override_settings(ACOLHE_PAGE_CACHE_SECONDS=0):
        for kind, urls in pages.items():
            counts = []
            for url in urls[:8]:
                client.get(url, headers=_as_browser(url))
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url, headers=_as_browser(url))
                if response.status_code != 200:
                    raise AssertionError(f"{url}: {response.status_code}")
                counts.append(len(captured))
            most[kind] = max(counts)
    return most


Visit = tuple[str, str]  # (cookie, url)


def _spread(cookies: list[str], urls: list[str], count: int, seed: int = 7) -> list[Visit]:
    """`count` visits, each a user (cookie) and a URL drawn at random: what many people reloading
    different pages look like, not one person asking for the same page again."""
    chooser = random.Random(seed)
    return [(chooser.choice(cookies), chooser.choice(urls)) for _ in range(count)]


def _load(base: str, visits: list[Visit], total: int, fresh: bool = False, before=None) -> dict:
    """Request the visits in turn from CONCURRENCY clients. `fresh`: ask for every page to be rendered (a
    hard reload), bypassing the short page cache. `before()` is called before each request."""

    def get(i: int) -> None:
        if before is not None:
            before()
        cookie, url = visits[i % len(visits)]
        headers = {"Cookie": cookie, **({"Cache-Control": "no-cache"} if fresh else {}), **_as_browser(url)}
        with urllib.request.urlopen(urllib.request.Request(base + url, headers=headers), timeout=60) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(response.status)

    for i in range(WORKERS * 2):  # every worker imports, connects and fills its caches first
        get(i)
    return run_load(get, total=total, concurrency=CONCURRENCY)


def _median_of(runs: list[dict]) -> dict:
    """Several runs of one load as one figure: the median of each latency and of the throughput, every
    run's errors. A second of load on a shared 2-core machine varies by a third from run to run."""
    figure = {
        key: statistics.median(run[key] for run in runs)
        for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "throughput_per_s")
        if all(key in run for run in runs)
    }
    figure["errors"] = sum(run.get("errors", 0) for run in runs)
    figure["requests"] = runs[0].get("requests")
    figure["runs"] = len(runs)
    # Each run's p95 in the order taken, so that a reader sees how far apart they were.
    figure["p95_runs_ms"] = [run.get("p95_ms") for run in runs]
    return figure


MIXED_LOAD_QUEUE = "acolhe-bench-mixed"
# 200 associates each writing about once a minute (a reply, taking a ticket, solving one) make some
# 3.3 writes a second; mail arrives at about one a second.
WRITES_PER_S = 4.0
MAIL_PER_S = 1.0
WRITE_MARK = "bench-mixed-write"


def _post(base: str, path: str, fields: dict, cookie: str, csrf: str) -> int:
    """A form post as the browser sends it; the redirect that follows a write is not followed (its page
    is one more read, measured with the others)."""
    body = urlencode(fields)
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
    try:
        connection.request("POST", path, body=body, headers={
            "Cookie": cookie, "X-CSRFToken": csrf, "Referer": base + path,
            "Content-Type": "application/x-www-form-urlencoded",
        })  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _writes(targets: list[int], assignees: list[int]) -> list[tuple[str, dict]]:
    """The writes of the mixed load, in turn on the target tickets: a reply that leaves the ticket pending,
    an internal note, taking the ticket over, solving it."""
    kinds = [
        ("reply", {"mode": "reply", "body": f"Oi! Já verifiquei sua conta. {WRITE_MARK}", "set_status": "pending"}),
        ("reply", {"mode": "note", "body": f"Checked the logs. {WRITE_MARK}"}),
        ("fields", {"assignee": None}),
        ("fields", {"status": "solved"}),
    ]
    writes = []
    for i, number in enumerate(targets):
        kind, fields = kinds[i % len(kinds)]
        if "assignee" in fields:
            fields = {"assignee": assignees[i % len(assignees)]}
        writes.append((f"/tickets/{number}/{kind}/", fields))
    return writes


def _mixed_load(base: str, readers: list[Visit], writer: tuple[str, str], targets: list[int],
                assignees: list[int], seconds: float) -> dict:  # fmt: skip
    """Page views from a spread of users as fast as CONCURRENCY clients go, while one associate writes at
    WRITES_PER_S (replies, notes, assignments, solves) and mail arrives at MAIL_PER_S: every write moves the
    data under the pages, as in use. Latency of the reads and of the writes, and errors of both."""
    from tests.bench.mail import SECRET, corpus_mail

    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    run_id = str(int(time.time()))
    cookie, csrf = writer
    writes = _writes(targets, assignees)
    write_latencies: list[float] = []
    write_errors = 0
    deadline = time.monotonic() + seconds

    def write_loop() -> None:
        nonlocal write_errors
        for path, fields in writes:
            next_at = time.monotonic() + 1 / WRITES_PER_S
            if next_at > deadline:
                return
            started = time.perf_counter()
            status = _post(base, path, fields, cookie, csrf)
            if status in (200, 204, 302):
                write_latencies.append((time.perf_counter() - started) * 1000)
            else:
                write_errors += 1
            time.sleep(max(0.0, next_at - time.monotonic()))

    def mail_loop() -> None:
        nonlocal write_errors
        i = 0
        while time.monotonic() + 1 / MAIL_PER_S <= deadline:
            next_at = time.monotonic() + 1 / MAIL_PER_S
            body = json.dumps({"RawEmail": corpus_mail(i, f"mixed-{run_id}"), "Headers": [], "Attachments": []})
            request = urllib.request.Request(
                f"{base}/anymail/postmark/inbound/", data=body.encode(), method="POST",
                headers={"Content-Type": "application/json", "Authorization": auth},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                if response.status != 200:
                    write_errors += 1
            i += 1
            time.sleep(max(0.0, next_at - time.monotonic()))

    def read(i: int) -> None:
        visit_cookie, url = readers[i % len(readers)]
        request = urllib.request.Request(base + url, headers={"Cookie": visit_cookie, **_as_browser(url)})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(response.status)

    background = [threading.Thread(target=write_loop), threading.Thread(target=mail_loop)]
    for thread in background:
        thread.start()
    reads = run_load(read, total=10**9, concurrency=CONCURRENCY, seconds=seconds)
    for thread in background:
        thread.join()
    written = summarise(write_latencies, errors=write_errors, wall=seconds)
    return {"reads": reads, "writes": written}


def _undo_writes(targets: list[int], before: list[dict], since) -> None:
    """Put the target tickets back as they were before the mixed load: their fields, and no messages or
    events from it (the app never deletes them; the bench must, so every run sees the same data)."""
    from django.db import connection

    from tickets.models import Message, Ticket

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tickets_ticketevent WHERE ticket_id IN (SELECT id FROM tickets_ticket WHERE number = "
            "ANY(%s)) AND created_at >= %s",
            [targets, since],
        )
    Message.objects.filter(ticket__number__in=targets, created_at__gte=since).delete()
    fields = [f.attname for f in Ticket._meta.concrete_fields if not f.primary_key and not f.generated]
    tickets = []
    for row in before:
        ticket = Ticket(pk=row["id"])
        for name in fields:
            setattr(ticket, name, row[name])
        tickets.append(ticket)
    Ticket.objects.bulk_update(tickets, fields, batch_size=500)


def _next_ticket(seconds: float) -> tuple[float, int]:
    from django.contrib.auth.models import User
    from django.db import connection

    from tickets.models import Ticket
    from tickets.workspace.routing import assign_next

    names = [f"bench{i}" for i in range(1, NEXT_TICKET_ASSOCIATES + 1)]
    users = list(User.objects.filter(username__in=names))
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(users))
    started_at = {}

    def press(user):
        mine = []
        try:
            barrier.wait()
            started_at.setdefault("t", time.monotonic())
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                ticket = assign_next(user)
                if ticket is None:
                    break
                mine.append(ticket.pk)
        finally:
            with lock:
                claimed.extend(mine)
            connection.close()

    threads = [threading.Thread(target=press, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started_at["t"]
    duplicates = len(claimed) - len(set(claimed))
    # Put the data set back as it was for the next run (events are append-only for the app, not for us).
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tickets_ticketevent WHERE ticket_id = ANY(%s) AND created_at > now() - interval '1 hour'",
            [claimed],
        )
    Ticket.objects.filter(pk__in=claimed).update(assignee=None, status="new")
    return len(claimed) / elapsed, duplicates


class _Rollback(Exception):
    pass


def _sla_sweep() -> tuple[float, int, str]:
    """10,000 of the open tickets come due; the sweep records their warnings and breaches. All of it is
    rolled back, so every run sees the same data."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.db import sweep_claim_sql
    from tickets.sla.sweep import sweep

    due = (
        "SELECT id FROM tickets_ticket WHERE status IN ('new', 'open') AND subject LIKE 'bench %%' ORDER BY id LIMIT %s"
    )
    outcome = {}
    # As for mail in: the checkpoint that Next ticket's writes (and their undoing) owe is taken now, not
    # during the timed sweep.
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE tickets_ticket SET first_responded_at = NULL, "
                    "first_response_warn_at = now() - interval '20 minutes', "
                    "first_response_due_at = now() - interval '5 minutes' "
                    f"WHERE id IN ({due})",
                    [SLA_DUE],
                )
                cursor.execute(
                    "INSERT INTO tickets_slacheck (ticket_id, next_check_at) "
                    f"SELECT id, now() - interval '20 minutes' FROM ({due}) AS due "
                    "ON CONFLICT (ticket_id) DO UPDATE SET next_check_at = EXCLUDED.next_check_at",
                    [SLA_DUE],
                )
                cursor.execute("ANALYZE tickets_ticket")
                cursor.execute("ANALYZE tickets_slacheck")
            now = timezone.now()
            sql, params = sweep_claim_sql(now, 1000)
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                outcome["plan"] = "\n".join(row[0] for row in cursor.fetchall())
            started = time.perf_counter()
            result = sweep(now)
            outcome["seconds"] = time.perf_counter() - started
            outcome["alerts"] = result.alerts
            raise _Rollback
    except _Rollback:
        pass
    return outcome["seconds"], outcome["alerts"], outcome["plan"]


def _rollup(last_day) -> tuple[float, int, int]:
    from metrics.services.rollup import rollup_days

    started = time.perf_counter()
    result = rollup_days(last_day - timedelta(days=29), last_day)
    return time.perf_counter() - started, result.tickets, result.rows


def measure(quick: bool) -> dict:
    """Runs in the child process, with Django set up on the bench database."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from metrics.services.rollup import reporting_tz
    from tests.bench import dataset
    from tickets.models import Ticket

    described = dataset.ensure(quick)
    # Search must stay fast on hostile data: a 2 MB mail full of the common search words is in the matching
    # set of every search below.
    hostile = dataset.ensure_hostile_message()
    # This machine's PostgreSQL runs without autovacuum: clean up and refresh statistics on the tables the
    # runs write, as autovacuum would have done by now, so earlier runs' dead rows do not skew this one.
    from django.db import connection

    from tickets.models import ExposureEntry, Message, SlaAlert, SlaCheck, TicketEvent

    written = (Ticket, TicketEvent, Message, SlaAlert, SlaCheck, ExposureEntry)
    vacuumed = ", ".join(model._meta.db_table for model in written)
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run inside a transaction
        cursor.execute(f"VACUUM (ANALYZE) {vacuumed}")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    samples = 120 if quick else 400

    # The 30-day rollup first: the dashboard reads what it writes.
    last_day = timezone.localtime(described["events_seeded_at"], reporting_tz()).date()
    rollup_s, rollup_tickets, rollup_rows = _rollup(last_day)
    log(f"rollup_30d {rollup_s:.1f} s ({rollup_tickets:,} tickets, {rollup_rows:,} rows)")
    # Statistics on what the rollup rewrote, as autovacuum would gather them by the time a lead looks: the
    # planner otherwise expects one row per team and month, and sorts thousands.
    from django.apps import apps

    rolled_up = ", ".join(model._meta.db_table for model in apps.get_app_config("metrics").get_models())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {rolled_up}")

    viewer = User.objects.get(username="bench1")  # a member of every queue: the widest lists
    client = Client()
    client.force_login(viewer)
    long_ticket = Ticket.objects.get(tags__contains=["bench-long"])
    thread_length = long_ticket.messages.count()
    pages = {
        "queue_list": _list_urls(client),
        "ticket_page": [f"/tickets/{long_ticket.number}/"],
        "search": ["/search/?" + urlencode({"q": term}) for term in SEARCH_TERMS],
    }
    first_day = last_day - timedelta(days=29)
    lead_pages = {
        "dashboard": [
            f"/metrics/?first={first_day}&last={last_day}",
            f"/metrics/?first={last_day - timedelta(days=6)}&last={last_day}",
            f"/metrics/?first={first_day}&last={last_day}&language=pt",
        ]
    }
    chooser = random.Random(11)
    numbers = list(Ticket.objects.filter(subject__startswith="bench ").values_list("number", flat=True)[:5000])
    short_tickets = [f"/tickets/{n}/" for n in chooser.sample(numbers, 50)]
    baseline = [f"/bench/baseline/?number={n}" for n in chooser.sample(numbers, 50)]

    lead_client = Client()
    lead_client.force_login(User.objects.get(username="benchleada"))
    queries = (
        _queries_per_page(client, pages)
        | _queries_per_page(lead_client, lead_pages)
        | _queries_per_page(client, {"sidebar_counts": [SIDEBAR_COUNTS]})
    )
    log(f"queries per page {queries}")

    # A spread of people: associates of every queue, and both team leads (100 associates each).
    def signed_in(username: str) -> tuple[str, str]:
        """The cookies a browser sends after its first page (session and CSRF), and the CSRF token."""
        browser = Client()
        browser.force_login(User.objects.get(username=username))
        browser.get("/work/mine/", headers={"Cache-Control": "no-cache"})
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in browser.cookies.items())
        return cookie, browser.cookies["csrftoken"].value

    associates = [signed_in(f"bench{i}")[0] for i in range(1, SPREAD_USERS + 1)]
    leads = [signed_in(name)[0] for name in ("benchleada", "benchleadb")]
    writer = signed_in(f"bench{SPREAD_USERS + 1}")
    viewer_cookie = associates[0]
    visits = {kind: _spread(associates, urls, samples) for kind, urls in pages.items()}
    visits["ticket_page_short"] = _spread(associates, short_tickets, samples)
    visits["dashboard"] = _spread(leads, lead_pages["dashboard"], samples)
    visits["baseline"] = _spread(associates, baseline, samples)
    # The sidebar's badges: a browser asks for them once a list or search page is shown.
    visits["sidebar_counts"] = _spread(associates, [SIDEBAR_COUNTS], samples)

    env = os.environ.copy()
    env.update(ACOLHE_BENCH_BASELINE="1", DEBUG="0", PYTHONWARNINGS="ignore::UserWarning")
    from tests.bench.mail import SECRET

    # The mixed load posts mail too; its processing tasks wait in a queue of their own, which is dropped. So
    # do the mails its replies send.
    env.update(ANYMAIL_WEBHOOK_SECRET=SECRET, ACOLHE_INBOUND_ESPS="postmark", ACOLHE_CELERY_QUEUE=MIXED_LOAD_QUEUE)
    env["EMAIL_BACKEND"] = "anymail.backends.test.EmailBackend"
    first, cached = {}, {}

    # What people meet: every page rendered, with the page cache off in the server (no goal depends on it),
    # from a spread of users and URLs; the baseline view from the same server in the same run. The runs are
    # taken in rounds, each loading every kind once, so that the baseline's runs fall in the same minutes as
    # the pages' (the machine's speed drifts over a run; the ratios divide one figure by the other).
    # The dashboard's figures are kept until the next rollup (`metrics.selectors.dashboard`): right after one,
    # every view reads them afresh, as when each request finds the rollups' generation replaced.
    from helpdesk import generations
    from metrics.selectors import ROLLUPS

    visits["dashboard_after_rollup"] = visits["dashboard"]
    before = {"dashboard_after_rollup": lambda: generations.replace(ROLLUPS)}
    kinds = (*pages, "ticket_page_short", "dashboard", "dashboard_after_rollup", "sidebar_counts", "baseline")
    taken: dict[str, list[dict]] = {kind: [] for kind in kinds}
    with gunicorn({**env, "ACOLHE_PAGE_CACHE_SECONDS": "0"}, workers=WORKERS) as base:
        for _round in range(RUNS):
            for kind in kinds:
                taken[kind].append(_load(base, visits[kind], samples, before=before.get(kind)))
    for kind in kinds:
        first[kind] = _median_of(taken[kind])
        log(f"{kind} first render {first[kind]}")

    # The short page cache as deployed: one person reloading the same pages, then the mixed load.
    page_cache_seconds = int(env.get("ACOLHE_PAGE_CACHE_SECONDS", settings.ACOLHE_PAGE_CACHE_SECONDS))
    from helpdesk import pagecache

    def repeated(cookie: str, urls: list[str], user) -> dict:
        # Each run starts as the first did: the pages the one before cached are stale (as after a write).
        runs = []
        for _ in range(RUNS):
            pagecache.bump(user.pk)
            runs.append(_load(base, [(cookie, url) for url in urls], samples))
        return _median_of(runs)

    open_tickets = Ticket.objects.filter(subject__startswith="bench ", status__in=["new", "open"])
    targets = list(open_tickets.exclude(pk=long_ticket.pk).order_by("?").values_list("number", flat=True)[:400])
    before = list(Ticket.objects.filter(number__in=targets).values())
    assignees = list(User.objects.filter(username__in=[f"bench{i}" for i in range(1, 40)]).values_list("pk", flat=True))
    mixed_seconds = 20.0 if quick else 60.0
    readers = _spread(
        associates,
        pages["queue_list"]
        + pages["ticket_page"]
        + short_tickets
        + pages["search"]
        + [SIDEBAR_COUNTS] * (len(pages["queue_list"]) + len(pages["search"])),
        10_000,
    )
    since = timezone.now()
    with gunicorn(env, workers=WORKERS) as base:
        for kind, urls in pages.items():
            cached[kind] = repeated(viewer_cookie, urls, viewer)
            log(f"{kind} cached {cached[kind]}")
        cached["dashboard"] = repeated(leads[0], lead_pages["dashboard"], User.objects.get(username="benchleada"))
        log(f"dashboard cached {cached['dashboard']}")
        try:
            mixed = _mixed_load(base, readers, writer, targets, assignees, mixed_seconds)
        finally:
            _undo_writes(targets, before, since)
        log(f"mixed load {mixed}")
    # The mail the mixed load posted is not part of the data set: remove it (it was never processed).
    from tickets.models import InboundEmail

    InboundEmail.objects.filter(message_id__startswith="<bench-mixed-").delete()
    redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")).delete(MIXED_LOAD_QUEUE)

    rate, duplicates = _next_ticket(3.0 if quick else 5.0)
    log(f"next_ticket {rate:.0f}/s, {duplicates} duplicates")
    sweeps = [_sla_sweep() for _ in range(RUNS)]
    sweep_s, alerts, plan = sorted(sweeps)[RUNS // 2]  # the median run
    log(f"sla_sweep {sweep_s:.2f} s, {alerts} alerts\n{plan}")

    served_by = f"gunicorn {WORKERS} workers, {CONCURRENCY} concurrent clients"

    def latency(load: dict, kind: str, goal: str = "", note: str = "") -> dict:
        return {
            "value": load.get("p95_ms"),
            "unit": "ms",
            "goal": goal,
            "p50_ms": load.get("p50_ms"),
            "p99_ms": load.get("p99_ms"),
            "throughput_per_s": load.get("throughput_per_s"),
            "errors": load.get("errors"),
            "queries": queries.get(kind),
            "p95_runs_ms": load.get("p95_runs_ms"),
            "note": f"{served_by}, {load.get('requests')} requests, median of {load.get('runs')} runs"
            + (f"; {note}" if note else ""),
        }

    spread = f"every request rendered (page cache off), {SPREAD_USERS} associates"
    notes = {
        "queue_list": f"{len(pages['queue_list'])} list URLs, deep pages as the More link loads them",
        "ticket_page": f"thread of {thread_length} messages",
        "search": f"terms {SEARCH_TERMS}, a 2 MB message (id {hostile}) among the matches",
        "dashboard": "team leads of 100 associates each, 30-day rollups",
    }
    goals = {"queue_list": 4, "ticket_page": 6, "search": 10, "dashboard": 6}
    figures = {"tickets": {"value": described["tickets"], "unit": "tickets"}}
    for kind, note in notes.items():
        who = "2 team leads" if kind == "dashboard" else spread
        figures[f"{kind}_p95_ms"] = latency(first[kind], kind, note=f"first render: {who}; {note}")
    figures["ticket_page_short_p95_ms"] = latency(
        first["ticket_page_short"], "ticket_page", note=f"first render: {spread}; 50 tickets of 5 messages"
    )
    figures["dashboard_after_rollup_p95_ms"] = latency(
        first["dashboard_after_rollup"],
        "dashboard",
        note="first render: 2 team leads; the rollups' generation replaced before every request, as right after "
        "a rollup (the dashboard's figures are otherwise kept until the next one, every 5 minutes)",
    )
    figures["sidebar_counts_p95_ms"] = latency(
        first["sidebar_counts"],
        "sidebar_counts",
        note=f"first render: {spread}; the sidebar's badges, which a list or search page asks for once shown",
    )
    figures["baseline_p95_ms"] = latency(first["baseline"], "baseline", note="session + user + one indexed query")
    baseline_p95 = first["baseline"]["p95_ms"]
    for kind, goal in goals.items():
        figures[f"{kind}_vs_baseline_x"] = {
            "value": round(first[kind]["p95_ms"] / baseline_p95, 2),
            "unit": "x baseline p95",
            "goal": f"<= {goal}",
            "note": f"first-render p95 {first[kind]['p95_ms']} ms / baseline p95 {baseline_p95} ms, same run",
        }
    for kind in notes:
        figures[f"{kind}_cached_p95_ms"] = latency(
            cached[kind], kind, note=f"page cache {page_cache_seconds} s, one user reloading the same URLs"
        )
    reads, writes = mixed["reads"], mixed["writes"]
    figures |= {
        "max_queries_per_page": {
            "value": max(queries.values()),
            "unit": "queries",
            "goal": "<= 15",
            "per_page": queries,
        },
        "next_ticket_per_s": {
            "value": round(rate, 1),
            "unit": "assignments/s",
            "goal": ">= 300",
            "note": f"{NEXT_TICKET_ASSOCIATES} associates pressing at once, in-process threads",
        },
        "next_ticket_duplicates": {"value": duplicates, "unit": "tickets", "goal": "0"},
        "mixed_load_p95_ms": {
            "value": reads.get("p95_ms"),
            "unit": "ms",
            "p50_ms": reads.get("p50_ms"),
            "p99_ms": reads.get("p99_ms"),
            "throughput_per_s": reads.get("throughput_per_s"),
            "note": f"{reads.get('requests')} page views in {mixed_seconds:.0f} s from {CONCURRENCY} clients as "
            f"{SPREAD_USERS} associates (lists, ticket pages, search), page cache {page_cache_seconds} s, while "
            f"{WRITES_PER_S:g} writes/s (replies, notes, assignments, solves; undone after) and "
            f"{MAIL_PER_S:g} mail/s arrive",
        },
        "mixed_load_write_p95_ms": {
            "value": writes.get("p95_ms"),
            "unit": "ms",
            "p50_ms": writes.get("p50_ms"),
            "p99_ms": writes.get("p99_ms"),
            "note": f"{writes.get('requests')} writes during the mixed load",
        },
        "mixed_load_errors": {
            "value": reads.get("errors", 0) + writes.get("errors", 0),
            "unit": "requests",
            "goal": "0",
        },
        "sla_sweep_s": {
            "value": round(sweep_s, 3),
            "unit": "s",
            "goal": "< 1",
            "note": f"{SLA_DUE:,} due, {alerts:,} alerts recorded (rolled back); median of {RUNS} runs",
            "plan": plan,
        },
        "rollup_30d_s": {
            "value": round(rollup_s, 2),
            "unit": "s",
            "goal": "< 30",
            "note": f"{rollup_tickets:,} tickets with events in the 30 days, {rollup_rows:,} rows written",
        },
    }
    return figures


def run(quick: bool) -> dict:
    env = bench_env(DATABASE + ("_quick" if quick else ""))
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    ensure_database(env)
    args = [sys.executable, "-m", "tests.bench.workspace", *(["--quick"] if quick else [])]
    completed = subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    print(json.dumps(measure(quick="--quick" in sys.argv), default=str))
