"""Mail in at speed: webhook accept latency under 16 concurrent posters, and emails processed end to end
per second by one worker process, on a fixed realistic mix of the project's .eml corpus."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.request

import psycopg2
import redis

from tests.bench.harness import ROOT, bench_database, bench_env, ensure_database, gunicorn, run_load

MAIL = ROOT / "tests" / "fixtures" / "mail"
SECRET = "bench:bench-secret"
QUEUE = "acolhe-bench-inbound"
# Real people's mail, not noise: the mix a support address gets (replies included).
MIX = sorted(p for p in MAIL.glob("*.eml") if not p.name.startswith(("malformed", "bounce", "spam")))


def corpus_mail(index: int, run: str) -> str:
    raw = MIX[index % len(MIX)].read_bytes().decode("utf-8", "replace")
    unique = f"<bench-{run}-{index}@bench.example>"
    if re.search(r"(?im)^Message-ID:", raw):
        return re.sub(r"(?im)^Message-ID:.*$", f"Message-ID: {unique}", raw, count=1)
    return f"Message-ID: {unique}\r\n{raw}"


def _reset(env: dict[str, str]) -> None:
    """No mail, tickets or requesters; one 24x7 SLA policy for every queue, as a desk runs (each ticket opened
    starts its clocks); a fresh checkpoint."""
    connection = psycopg2.connect(env["DATABASE_URL"])
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tickets_ticketevent, tickets_attachment, tickets_message, tickets_inboundemail, "
            "tickets_ticket, tickets_requester CASCADE"
        )
        cursor.execute(
            "INSERT INTO tickets_slapolicy (name, queue_id, priority, first_response_minutes, next_response_minutes, "
            "resolution_minutes, warning_percent, time_zone, business_hours, holidays, is_active, created_at, "
            "updated_at) SELECT 'bench 24x7', NULL, NULL, 240, 480, 2880, 75, 'America/Sao_Paulo', '{}', '{}', "
            "true, now(), now() WHERE NOT EXISTS (SELECT 1 FROM tickets_slapolicy WHERE is_active)"
        )
        # The suite before this one writes a lot (rollups, the sweep, next ticket), and the checkpoint it owes
        # would otherwise land in the middle of the measured posts.
        cursor.execute("CHECKPOINT")
    connection.close()


def _statuses(env: dict[str, str], esp: str) -> dict[str, int]:
    connection = psycopg2.connect(env["DATABASE_URL"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM tickets_inboundemail WHERE esp = %s GROUP BY status", [esp])
        rows = dict(cursor.fetchall())
    connection.close()
    return rows


def run(quick: bool) -> dict:
    env = bench_env()
    env.update(ANYMAIL_WEBHOOK_SECRET=SECRET, ACOLHE_INBOUND_ESPS="postmark", ACOLHE_CELERY_QUEUE=QUEUE)
    # The acknowledgements the worker sends go to Anymail's test backend: built and handed over as to an ESP,
    # without printing each one into the results (the development default is the console).
    env["EMAIL_BACKEND"] = "anymail.backends.test.EmailBackend"
    ensure_database(env)
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--tickets", "0"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    _reset(env)
    broker = redis.Redis.from_url(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    broker.delete(QUEUE)
    # A wake-up flag left by an earlier run (it lives a minute) would keep this run's mail from queueing its
    # drain task.
    for key in broker.scan_iter(match=f"*inbound:wake:{bench_database()}"):
        broker.delete(key)
    total = 600 if quick else 3000
    run_id = str(int(time.time()))
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()

    # Built before the clock starts: what is timed is the request, not the poster composing it.
    payloads = [
        json.dumps({"RawEmail": corpus_mail(index, run_id), "Headers": [], "Attachments": []}).encode()
        for index in range(total + 20)
    ]

    def post(index: int) -> None:
        payload = payloads[index]
        request = urllib.request.Request(
            f"{base}/anymail/postmark/inbound/", data=payload, method="POST",
            headers={"Content-Type": "application/json", "Authorization": auth},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 200:
                raise RuntimeError(response.status)

    with gunicorn(env, workers=4) as base:
        for i in range(20):  # warm every worker's connections
            post(total + i)
        accept = run_load(post, total=total, concurrency=16)
    queued = broker.llen(QUEUE)

    # One worker process (solo pool) drains what the webhooks queued.
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool", "solo", "--queues", QUEUE,
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        elapsed = wait_until_drained(env, started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    statuses = _statuses(env, "Postmark")
    processed = sum(statuses.values()) - statuses.get("received", 0)
    return {
        "webhook_accept_p95_ms": {
            "value": accept.get("p95_ms"),
            "unit": "ms",
            "goal": "< 30",
            "p50_ms": accept.get("p50_ms"),
            "p99_ms": accept.get("p99_ms"),
            "note": "gunicorn 4 workers, 16 concurrent posters",
        },
        "webhook_accept_throughput": {"value": accept.get("throughput_per_s"), "unit": "requests/s"},
        "webhook_accept_errors": {"value": accept.get("errors"), "unit": "requests"},
        "inbound_emails_per_s": {
            "value": round(processed / elapsed, 1),
            "unit": "emails/s",
            "goal": ">= 150",
            "note": f"{processed} mails from {len(MIX)} corpus files, one worker process (solo pool), "
            "a 24x7 SLA policy on every queue, "
            f"includes worker start-up; outcomes {statuses}; {queued} tasks were queued",
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))


def wait_until_drained(env: dict[str, str], started: float) -> float:
    """Seconds from `started` until no stored mail waits any more (at most 15 minutes). The probe must cost
    the workers next to nothing: one connection kept open, one index lookup per poll. (A fresh connection
    and a count over the table five times a second took a quarter of a worker's speed.)"""
    probe = psycopg2.connect(env["DATABASE_URL"])
    probe.autocommit = True
    try:
        deadline = time.monotonic() + 900
        with probe.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM tickets_inboundemail WHERE status = 'received')")
                if not cursor.fetchone()[0]:
                    break
                time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        probe.close()
