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
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import redis

from tests.bench.harness import ROOT, bench_env, ensure_database, gunicorn, run_load

DATABASE = "acolhe_bench_workspace"
# From the most common word of the vocabulary to rare ones, phrases and a long-tail token.
SEARCH_TERMS = ["conta", "senha", "notificacao", "vídeo travando", "copyright strike", "hacked account", "termo4242"]
NEXT_TICKET_ASSOCIATES = 16
# Figures with a goal are measured this many times and reported as the median run.
RUNS = 3
SLA_DUE = 10_000
# Pages are loaded by this many clients at once against this many gunicorn workers.
WORKERS = 4
CONCURRENCY = 4


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


def _load(base: str, cookie: str, urls: list[str], total: int, fresh: bool = False) -> dict:
    """`fresh`: ask for every page to be rendered (a hard reload), bypassing the short page cache."""
    headers = {"Cookie": cookie, **({"Cache-Control": "no-cache"} if fresh else {})}

    def get(i: int) -> None:
        url = urls[i % len(urls)]
        request = urllib.request.Request(base + url, headers={**headers, **_as_browser(url)})
        with urllib.request.urlopen(request, timeout=60) as response:
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
    return figure


MIXED_LOAD_QUEUE = "acolhe-bench-mixed"


def _mixed_load(base: str, cookie: str, pages: dict[str, list[str]], seconds: float) -> dict:
    """Webhook posts, queue lists and ticket pages interleaved for a fixed time: errors and latency."""
    from tests.bench.mail import SECRET, corpus_mail

    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    run_id = str(int(time.time()))
    urls = pages["queue_list"] + pages["ticket_page"]

    def request(i: int) -> None:
        if i % 3 == 0:
            body = json.dumps({"RawEmail": corpus_mail(i, f"mixed-{run_id}"), "Headers": [], "Attachments": []})
            req = urllib.request.Request(
                f"{base}/anymail/postmark/inbound/", data=body.encode(), method="POST",
                headers={"Content-Type": "application/json", "Authorization": auth},
            )  # fmt: skip
        else:
            url = urls[i % len(urls)]
            req = urllib.request.Request(base + url, headers={"Cookie": cookie, **_as_browser(url)})
        with urllib.request.urlopen(req, timeout=60) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(response.status)

    return run_load(request, total=10**9, concurrency=CONCURRENCY * 2, seconds=seconds)


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
    # This machine's PostgreSQL runs without autovacuum: clean up and refresh statistics on the tables the
    # runs write, as autovacuum would have done by now, so earlier runs' dead rows do not skew this one.
    from django.db import connection

    from tickets.models import ExposureEntry, SlaAlert, SlaCheck, TicketEvent

    vacuumed = ", ".join(model._meta.db_table for model in (Ticket, TicketEvent, SlaAlert, SlaCheck, ExposureEntry))
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run inside a transaction
        cursor.execute(f"VACUUM (ANALYZE) {vacuumed}")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    samples = 120 if quick else 400

    # The 30-day rollup first: the dashboard reads what it writes.
    last_day = timezone.localtime(described["events_seeded_at"], reporting_tz()).date()
    rollup_s, rollup_tickets, rollup_rows = _rollup(last_day)
    log(f"rollup_30d {rollup_s:.1f} s ({rollup_tickets:,} tickets, {rollup_rows:,} rows)")

    viewer = User.objects.get(username="bench1")  # a member of every queue: the widest lists
    lead = User.objects.get(username="benchleada")  # leads a team of 100 associates
    client = Client()
    client.force_login(viewer)
    lead_client = Client()
    lead_client.force_login(lead)
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
    numbers = list(Ticket.objects.order_by("?").values_list("number", flat=True)[:50])
    baseline = [f"/bench/baseline/?number={n}" for n in numbers]

    queries = _queries_per_page(client, pages) | _queries_per_page(lead_client, lead_pages)
    log(f"queries per page {queries}")

    env = os.environ.copy()
    env.update(ACOLHE_BENCH_BASELINE="1", DEBUG="0", PYTHONWARNINGS="ignore::UserWarning")
    from tests.bench.mail import SECRET

    # The mixed load posts mail too; its processing tasks wait in a queue of their own, which is dropped.
    env.update(ANYMAIL_WEBHOOK_SECRET=SECRET, ACOLHE_INBOUND_ESPS="postmark", ACOLHE_CELERY_QUEUE=MIXED_LOAD_QUEUE)
    loads = {}
    # What a browser sends after its first page: the session and the CSRF cookie.
    viewer_cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    lead_cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in lead_client.cookies.items())
    from helpdesk import pagecache

    def repeated(cookie: str, urls: list[str], user) -> dict:
        # Each run starts as the first did: the pages the one before cached are stale (as after a write).
        runs = []
        for _ in range(RUNS):
            pagecache.bump(user.pk)
            runs.append(_load(base, cookie, urls, samples))
        return _median_of(runs)

    with gunicorn(env, workers=WORKERS) as base:
        for kind, urls in pages.items():
            loads[kind] = repeated(viewer_cookie, urls, viewer)
            log(f"{kind} {loads[kind]}")
        loads["queue_list_rendered"] = _load(base, viewer_cookie, pages["queue_list"], samples // 2, fresh=True)
        log(f"queue_list_rendered {loads['queue_list_rendered']}")
        loads["ticket_page_rendered"] = _load(base, viewer_cookie, pages["ticket_page"], samples // 2, fresh=True)
        log(f"ticket_page_rendered {loads['ticket_page_rendered']}")
        loads["search_rendered"] = _load(base, viewer_cookie, pages["search"], samples // 2, fresh=True)
        log(f"search_rendered {loads['search_rendered']}")
        loads["dashboard"] = repeated(lead_cookie, lead_pages["dashboard"], lead)
        log(f"dashboard {loads['dashboard']}")
        loads["baseline"] = repeated(viewer_cookie, baseline, viewer)
        log(f"baseline {loads['baseline']}")
        mixed = _mixed_load(base, viewer_cookie, pages, 20.0 if quick else 60.0)
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

    def latency(kind: str, goal: str, note: str = "") -> dict:
        load = loads[kind]
        return {
            "value": load.get("p95_ms"),
            "unit": "ms",
            "goal": goal,
            "p50_ms": load.get("p50_ms"),
            "p99_ms": load.get("p99_ms"),
            "throughput_per_s": load.get("throughput_per_s"),
            "errors": load.get("errors"),
            "queries": queries.get(kind),
            "note": f"gunicorn {WORKERS} workers, {CONCURRENCY} concurrent clients, {load.get('requests')} requests"
            + (f", median of {load['runs']} runs" if load.get("runs") else "")
            + (f"; {note}" if note else ""),
        }

    ratio = loads["queue_list"]["throughput_per_s"] / loads["baseline"]["throughput_per_s"]
    return {
        "tickets": {"value": described["tickets"], "unit": "tickets"},
        "queue_list_p95_ms": latency(
            "queue_list", "< 80", f"{len(pages['queue_list'])} list URLs, deep pages as the More link loads them"
        ),
        "ticket_page_p95_ms": latency("ticket_page", "< 80", f"thread of {thread_length} messages"),
        "search_p95_ms": latency("search", "< 150", f"terms {SEARCH_TERMS}"),
        "dashboard_p95_ms": latency("dashboard", "< 150", "team lead of 100 associates, 30-day rollups"),
        "baseline_p95_ms": latency("baseline", "", "session + user + one indexed query"),
        # The same pages as a hard reload asks for them: rendered every time, the short page cache bypassed.
        "queue_list_rendered_p95_ms": latency("queue_list_rendered", "", "every request rendered (no-cache)"),
        "ticket_page_rendered_p95_ms": latency("ticket_page_rendered", "", "every request rendered (no-cache)"),
        "search_rendered_p95_ms": latency("search_rendered", "", "every request rendered (no-cache)"),
        "max_queries_per_page": {
            "value": max(queries.values()),
            "unit": "queries",
            "goal": "<= 15",
            "per_page": queries,
        },
        "queue_list_vs_baseline": {
            "value": round(ratio, 2),
            "unit": "ratio",
            "goal": ">= 0.5",
            "note": f"{loads['queue_list']['throughput_per_s']} vs {loads['baseline']['throughput_per_s']} requests/s",
        },
        "next_ticket_per_s": {
            "value": round(rate, 1),
            "unit": "assignments/s",
            "goal": ">= 300",
            "note": f"{NEXT_TICKET_ASSOCIATES} associates pressing at once, in-process threads",
        },
        "next_ticket_duplicates": {"value": duplicates, "unit": "tickets", "goal": "0"},
        "mixed_load_p95_ms": {
            "value": mixed.get("p95_ms"),
            "unit": "ms",
            "p50_ms": mixed.get("p50_ms"),
            "p99_ms": mixed.get("p99_ms"),
            "throughput_per_s": mixed.get("throughput_per_s"),
            "note": f"{mixed.get('requests')} requests in {20 if quick else 60} s from {CONCURRENCY * 2} clients: "
            "1 webhook post to 2 page views (queue lists, the long ticket)",
        },
        "mixed_load_errors": {"value": mixed.get("errors"), "unit": "requests", "goal": "0"},
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
