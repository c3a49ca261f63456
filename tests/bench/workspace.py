"""The associate workspace at scale: 1,000,000 tickets and 5,000,000 messages (a tenth with --quick).

Measures list and search p95, the ticket page p95 with a 200-message thread, SQL queries per page, and
next-ticket assignments per second with 16 associates pressing at once. The data set lives in a database
of its own (`acolhe_bench_workspace`), seeded once with SQL and reused by later runs. The measuring runs
in a child process so that Django is set up against that database only.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from tests.bench.harness import ROOT, bench_env, ensure_database

DATABASE = "acolhe_bench_workspace"

WORDS = " ".join(
    (
        "conta senha vídeo upload notificação bloqueio denúncia comentário perfil pagamento monetização",
        "transmissão ao vivo seguidores curtida direitos autorais música remoção recurso verificação",
        "selo acesso celular aplicativo erro travando lento sumiu apagado hackeada invadida recuperar",
        "email account password video notification blocked report comment profile payment payout",
        "livestream followers like copyright music removal appeal verification badge access phone app",
        "error crash slow missing deleted hacked recover login banned strike community guidelines",
        "subtitle thumbnail",
    )
).split()


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def time_calls(call: Callable[[int], object], count: int, warmup: int = 3) -> list[float]:
    """Milliseconds for each of `count` calls of `call(i)`, after a few unmeasured warm-up calls."""
    for i in range(warmup):
        call(i)
    samples = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def insert_select(model, columns: dict[str, str], source: str, params: list | None = None) -> int:
    """INSERT INTO <model table> (...) SELECT <expressions> FROM <source>. Columns not given take their
    database default, else the field's default (as a constant), else NULL; generated columns are left to
    PostgreSQL. `params` fill placeholders in `source` only."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    names, expressions, values = [], [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if field.generated:
            continue
        if column in columns:
            names.append(column)
            expressions.append(columns[column])
        elif field.primary_key or field.db_default is not NOT_PROVIDED:
            continue
        elif field.has_default():
            names.append(column)
            expressions.append("%s")
            values.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.empty_strings_allowed and not field.null:
            names.append(column)
            expressions.append("''")
        elif not field.null:
            raise ValueError(f"no value for {model.__name__}.{field.name}")
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = f'INSERT INTO "{model._meta.db_table}" ({quoted}) SELECT {", ".join(expressions)} FROM {source}'
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *(params or [])])
        return cursor.rowcount


# From the most common word of the vocabulary to rare ones, phrases and a long-tail token.
SEARCH_TERMS = ["conta", "senha", "notificacao", "vídeo travando", "copyright strike", "hacked account", "termo4242"]
ASSOCIATES = 16
QUEUES = 8


def _seed(tickets: int, messages: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction

    from tickets.models import Message, Profile, Queue, Requester, Role, Ticket

    if Ticket.objects.filter(subject__startswith="bench ").count() >= tickets:
        return
    print(
        f"seeding {tickets:,} tickets and {messages:,} messages (once; later runs reuse them)...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    with transaction.atomic():
        queues = []
        for i in range(QUEUES):
            queue, _ = Queue.objects.get_or_create(
                slug=f"bench-{i}",
                defaults={"name": f"Bench {i}", "languages": ["pt"] if i % 2 == 0 else ["en"]},
            )
            queues.append(queue)
        associate_group, _ = Group.objects.get_or_create(name=Role.ASSOCIATE)
        users = []
        for i in range(ASSOCIATES + 1):
            user, _ = User.objects.get_or_create(username=f"bench{i}", defaults={"first_name": f"Bench {i}"})
            user.groups.add(associate_group)
            Profile.objects.update_or_create(user=user, defaults={"languages": ["pt", "en"]})
            for queue in queues if i else queues[:2]:
                queue.members.add(user)
            users.append(user)
        queue_ids = "ARRAY[" + ",".join(str(q.pk) for q in queues) + "]"
        user_ids = "ARRAY[" + ",".join(str(u.pk) for u in users[1:]) + "]"
        words = "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in WORDS) + "]"
        n_words = len(WORDS)

        def phrase(seed: str, length: int) -> str:
            # Like real mail: half the words from a small, skewed (Zipf-like) support vocabulary, half from
            # a long tail of 50,000 rarer tokens.
            h = f"abs(hashint4({seed} * 37 + i))"
            u = f"(mod({h}, 1000003)::float8 / 1000003)"
            word = (
                f"CASE WHEN mod({h}, 2) = 0 THEN ({words})[1 + floor({n_words} * power({u}, 2))::int] "
                f"ELSE 'termo' || mod(abs(hashint4({seed} * 91 + i)), 50000) END"
            )
            return f"array_to_string(ARRAY(SELECT {word} FROM generate_series(1, {length}) i), ' ')"

        requesters = max(1, tickets // 5)
        first_requester = Requester.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        insert_select(
            Requester,
            {
                "id": f"{first_requester} + g",
                "email": "'bench' || g || '@example.com'",
                "name": "'Pessoa ' || g",
                "language": "CASE WHEN mod(g, 3) = 0 THEN 'en' ELSE 'pt' END",
                "created_at": "now()",
            },
            f"generate_series(1, {requesters}) g",
        )
        with connection.cursor() as cursor:
            for index in ("ticket_search_gin", "message_search_gin"):
                cursor.execute(f"DROP INDEX IF EXISTS {index}")
        first_ticket = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        status = (
            "CASE WHEN mod(g, 20) < 2 THEN 'new' WHEN mod(g, 20) < 5 THEN 'open' WHEN mod(g, 20) = 5 THEN 'pending' "
            "WHEN mod(g, 20) < 15 THEN 'solved' ELSE 'closed' END"
        )
        active = "mod(g, 20) < 6"
        insert_select(
            Ticket,
            {
                "id": f"{first_ticket} + g",
                "subject": f"'bench ' || {phrase('g', 4)}",
                "status": status,
                "priority": "1 + mod(g * 7, 4)",
                "language": "CASE WHEN mod(g, 3) = 0 THEN 'en' ELSE 'pt' END",
                "queue_id": f"({queue_ids})[1 + mod(g, {QUEUES})]",
                "requester_id": f"{first_requester} + 1 + mod(g * 31, {requesters})",
                "assignee_id": f"CASE WHEN mod(g, 20) < 2 THEN NULL ELSE ({user_ids})[1 + mod(g, {ASSOCIATES})] END",
                "tags": "CASE WHEN mod(g, 10) = 0 THEN ARRAY['vip']::varchar[] ELSE '{}'::varchar[] END",
                "created_at": f"now() - make_interval(secs => ({tickets} - g) * 20)",
                "updated_at": f"now() - make_interval(secs => ({tickets} - g) * 20) + interval '1 hour'",
                "last_message_at": f"now() - make_interval(secs => ({tickets} - g) * 20) + interval '1 hour'",
                "first_response_due_at": "CASE WHEN mod(g, 20) < 2 "
                "THEN now() + make_interval(mins => mod(g * 13, 600) - 60) END",
                "resolution_due_at": f"CASE WHEN {active} "
                "THEN now() + make_interval(hours => mod(g * 17, 96) - 12) END",
                "solved_at": f"CASE WHEN NOT ({active}) THEN now() - make_interval(secs => ({tickets} - g) * 10) END",
            },
            f"generate_series(1, {tickets}) g",
        )
        with connection.cursor() as cursor:
            # Ids were given explicitly (the rows refer to each other by arithmetic): move the sequences on.
            for table in ("tickets_requester", "tickets_ticket"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        per_ticket = max(1, messages // tickets)
        insert_select(
            Message,
            {
                "ticket_id": f"{first_ticket} + 1 + mod(g - 1, {tickets})",
                "direction": "CASE WHEN mod(g / " + str(tickets) + ", 5) = 1 THEN 'out' "
                "WHEN mod(g / " + str(tickets) + ", 5) = 3 THEN 'note' ELSE 'in' END",
                "from_address": "'bench' || mod(g, 1000) || '@example.com'",
                "body_text": phrase("g", 24),
                "delivery_status": "'received'",
                "language": "'pt'",
                "created_at": f"now() - make_interval(secs => ({tickets} - mod(g - 1, {tickets})) * 20) "
                f"+ make_interval(mins => g / {tickets})",
            },
            f"generate_series(1, {per_ticket * tickets}) g",
        )
        long_ticket = Ticket.objects.filter(subject__startswith="bench ", status="open").order_by("pk").first()
        insert_select(
            Message,
            {
                "ticket_id": str(long_ticket.pk),
                "direction": "CASE WHEN mod(g, 2) = 0 THEN 'out' ELSE 'in' END",
                "body_text": phrase("g + 7", 60),
                "delivery_status": "'received'",
                "language": "'pt'",
                "created_at": "now() - make_interval(mins => 400 - g)",
            },
            f"generate_series(1, {200 - per_ticket}) g",
        )
        Ticket.objects.filter(pk=long_ticket.pk).update(tags=["bench-long"])
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX ticket_search_gin ON tickets_ticket USING gin (search_document)")
        cursor.execute("CREATE INDEX message_search_gin ON tickets_message USING gin (search_document)")
    # Rolled-back attempts leave dead rows behind; the measurements should not pay for them.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


def _next_ticket_rate(seconds: float) -> float:
    from django.contrib.auth.models import User
    from django.db import connection

    from tickets.models import Ticket
    from tickets.workspace.routing import assign_next

    users = list(User.objects.filter(username__in=[f"bench{i}" for i in range(1, ASSOCIATES + 1)]))
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(users))

    def press(user):
        mine = []
        try:
            barrier.wait()
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
    if len(claimed) != len(set(claimed)):
        raise AssertionError("a ticket was handed out twice")
    # Put the data set back as it was for the next run (events are append-only for the app, not for us).
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tickets_ticketevent WHERE ticket_id = ANY(%s) AND created_at > now() - interval '1 hour'",
            [claimed],
        )
    Ticket.objects.filter(pk__in=claimed).update(assignee=None, status="new")
    return len(claimed) / seconds


def measure(quick: bool) -> dict:
    """Runs in the child process, with Django set up on the bench database."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import Ticket

    tickets, messages = (100_000, 500_000) if quick else (1_000_000, 5_000_000)
    _seed(tickets, messages)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    viewer = User.objects.get(username="bench1")  # a member of every queue: the widest lists
    client = Client()
    client.force_login(viewer)
    samples = 60 if quick else 200

    # Lists: every view, several sorts and filters, deep pages through the keyset cursor.
    list_urls = [
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
    deep: list[str] = []
    response = client.get("/work/queue/bench-0/")
    for _ in range(20):
        found = re.search(r'hx-get="\?([^"]+)"', response.content.decode())
        if not found:
            break
        url = "/work/queue/bench-0/?" + html.unescape(found.group(1))
        deep.append(url)
        response = client.get(url)
    urls = list_urls + deep

    def get_ok(url):
        response = client.get(url)
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code}")
        return response

    list_ms = time_calls(lambda i: get_ok(urls[i % len(urls)]), samples)
    search_ms = time_calls(lambda i: get_ok(f"/search/?q={SEARCH_TERMS[i % len(SEARCH_TERMS)]}"), samples)
    long_ticket = Ticket.objects.get(tags__contains=["bench-long"])
    thread_length = long_ticket.messages.count()
    page_ms = time_calls(lambda i: get_ok(f"/tickets/{long_ticket.number}/"), samples)

    def queries(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            get_ok(url)
        return len(captured)

    few = queries("/work/all/?tag=bench-long")
    full = queries("/work/queue/bench-0/")
    ticket_queries = queries(f"/tickets/{long_ticket.number}/")
    search_queries = queries("/search/?q=senha")
    rate = _next_ticket_rate(3.0 if quick else 5.0)

    def figure(value: float) -> float:
        return round(value, 1)

    return {
        "workspace_list_p95_ms": {"value": figure(percentile(list_ms, 95)), "unit": "ms", "goal": "< 80"},
        "workspace_search_p95_ms": {"value": figure(percentile(search_ms, 95)), "unit": "ms", "goal": "< 150"},
        "workspace_ticket_page_p95_ms": {
            "value": figure(percentile(page_ms, 95)),
            "unit": "ms",
            "goal": "< 80",
            "note": f"thread of {thread_length} messages",
        },
        "workspace_list_queries_1_row": {"value": few, "unit": "queries", "goal": "<= 15"},
        "workspace_list_queries_50_rows": {"value": full, "unit": "queries", "goal": "<= 15"},
        "workspace_ticket_page_queries": {"value": ticket_queries, "unit": "queries", "goal": "<= 15"},
        "workspace_search_queries": {"value": search_queries, "unit": "queries", "goal": "<= 15"},
        "workspace_next_ticket_per_s": {
            "value": round(rate, 1),
            "unit": "assignments/s",
            "note": "16 associates pressing at once, in-process threads",
        },
        "workspace_dataset": {"value": f"{tickets:,} tickets / {messages:,} messages", "unit": ""},
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
    print(json.dumps(measure(quick="--quick" in sys.argv)))
