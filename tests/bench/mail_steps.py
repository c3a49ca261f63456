"""Where one worker's time per mail goes: the mail-in bench's corpus mix drained in this process, with the
statements sent per mail (by kind) and the CPU time per mail of this process and of its PostgreSQL backend
(figures the machine's load hardly moves), and the wall time of each step of applying a mail (parse,
guards, language, thread hints and requester, ticket, attachments, scan, outcomes).

Run with `python -m tests.bench.mail_steps [N]` against the database DATABASE_URL names (`--dataset
[--quick]`: the workspace data set `make bench` measures on). It stores N mails (default 300, after 30 to
warm up), drains them as `process_waiting_inbound` does and deletes every row it added afterwards. Steps
nest (the ticket is opened inside applying the mail), so their times do not add up to the total; on a
shared machine the times vary from run to run, the statement counts do not.
"""

from __future__ import annotations

import collections
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

# (module attribute to time, label), in the order a mail goes through them.
STEPS = [
    ("tickets.email.inbound:parse_email", "parse"),
    ("tickets.email.guards:classify", "loop and bounce guards"),
    ("tickets.email.inbound:_mail_language", "language"),
    ("tickets.email.inbound:_thread_hints", "thread hints and requester"),
    ("tickets.email.inbound:_find_thread", "thread lookup"),
    ("tickets.email.inbound:_collapse_earlier_messages", "quoted history of the thread"),
    ("tickets.email.inbound:_open", "open ticket (and its SLA clocks)"),
    ("tickets.email.inbound:_store_attachments", "attachments"),
    ("tickets.email.inbound:scan_message", "sensitivity scan"),
    ("tickets.email.outbound:queue_auto_acknowledgement", "acknowledgement"),
    ("tickets.db:finish_applied_mail", "outcome, events, ticket times of one mail"),
    ("tickets.db:finish_applied_mails", "outcomes, events, ticket times of a batch"),
    ("tickets.email.inbound:_claim_waiting", "claim a batch"),
]


def _statement_kind(sql: str) -> str:
    """The statement's verb and table, e.g. `INSERT tickets_message`."""
    words = re.sub(r"\s+", " ", sql.replace('"', "")).strip()
    if words.startswith("WITH hints"):
        return "WITH hints: thread hints + requester"
    if words.startswith("SELECT (SELECT ticket_id"):
        return "SELECT: thread hints"
    if words.startswith("WITH logged") or words.startswith("WITH touched"):
        return "WITH logged: outcomes + events"
    verb = words.split(" ", 1)[0].upper()
    table = re.search(r"(?:INTO|FROM|UPDATE) (\w+)", words)
    return f"{verb} {table.group(1) if table else ''}".strip()


def _backend_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user and system) the PostgreSQL backend `pid` has used, when it runs on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(count: int) -> dict[str, Any]:
    import importlib

    from django.db import connection

    from tests.bench.mail import corpus_mail, remove_added
    from tickets.email import inbound

    elapsed: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()

    def timed(label: str, function: Callable) -> Callable:
        def step(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed[label] += time.perf_counter() - started
                calls[label] += 1

        return step

    originals = []
    for target, label in STEPS:
        module_name, name = target.split(":")
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            continue  # a step this version of the code does not have
        originals.append((module, name, getattr(module, name)))
        setattr(module, name, timed(label, getattr(module, name)))

    statements: collections.Counter[str] = collections.Counter()
    sql_seconds = [0.0]

    def counted(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started
            statements[_statement_kind(sql)] += 1

    with connection.cursor() as cursor:
        marks = {}
        for table in (
            "tickets_inboundemail",
            "tickets_requester",
            "tickets_ticket",
            "tickets_ticketevent",
            "tickets_queue",
        ):
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            marks[table] = cursor.fetchone()[0]
    run = f"steps-{int(time.time())}"
    try:
        for index in range(30 + count):
            inbound.store_inbound(corpus_mail(index, run).encode(), esp="Postmark", enqueue=False)
            if index == 29:
                inbound.process_waiting_inbound(drain_seconds=float("inf"))  # warm: lookups, classifier, language
                elapsed.clear()
                calls.clear()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        backend_cpu = _backend_cpu_seconds(backend)
        started, cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(counted):
            taken = inbound.process_waiting_inbound(drain_seconds=float("inf"))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = _backend_cpu_seconds(backend)
        if backend_cpu is not None and after is not None:
            backend_cpu = after - backend_cpu
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
        removed = remove_added(marks)
    per_mail = 1000 / taken
    return {
        "mails": taken,
        "emails_per_s": round(taken / wall, 1),
        "ms_per_mail": round(wall * per_mail, 2),
        "python_cpu_ms_per_mail": round(cpu * per_mail, 2),
        "sql_ms_per_mail": round(sql_seconds[0] * per_mail, 2),
        # CPU time the database server spent on this process's statements (None unless it runs here): with
        # the process's own, what a mail costs the machine whatever else runs on it.
        "postgres_cpu_ms_per_mail": None if backend_cpu is None else round(backend_cpu * per_mail, 2),
        "statements_per_mail": round(sum(statements.values()) / taken, 2),
        "statements": {kind: round(n / taken, 2) for kind, n in statements.most_common()},
        "steps_ms_per_mail": {
            label: {"ms": round(elapsed[label] * per_mail, 2), "calls": calls[label]}
            for _target, label in STEPS
            if calls[label]
        },
        "removed": removed,
    }


if __name__ == "__main__":
    import json

    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--dataset" in sys.argv:
        from tests.bench.harness import bench_env
        from tests.bench.workspace import DATABASE

        os.environ["DATABASE_URL"] = bench_env(DATABASE + ("_quick" if "--quick" in sys.argv else ""))["DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    print(json.dumps(measure(int(arguments[0]) if arguments else 300), indent=2))
