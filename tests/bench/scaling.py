"""How throughput grows with processes: mail in applied by 1, 2 and 4 Celery worker processes, and pages
served by 1, 2 and 4 gunicorn workers. The curve is only as steep as the machine has cores: on a 2-core
machine four processes cannot do twice what two do.

Mail in: the same corpus posted to the webhook first (no worker running), then N worker processes (solo
pool, start-up included) drain it. A stream of mail queues a new drain task each time a drain starts
looking (tickets/email/inbound.py, `wake_inbound_worker`), so every idle worker gets one; here the mail is
already waiting, so one drain task per worker is queued up front. The drains share the backlog through
SKIP LOCKED. Web: the login page (a full template render, no data set needed) under 16 concurrent clients.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request

import redis

from tests.bench import mail
from tests.bench.harness import ROOT, bench_env, ensure_database, gunicorn, run_load

DATABASE = "acolhe_bench_scaling"
QUEUE = "acolhe-bench-scaling"
PROCESSES = (1, 2, 4)


def _post_all(env: dict[str, str], total: int, run_id: str) -> None:
    auth = "Basic " + base64.b64encode(mail.SECRET.encode()).decode()
    payloads = [
        json.dumps({"RawEmail": mail.corpus_mail(index, run_id), "Headers": [], "Attachments": []}).encode()
        for index in range(total)
    ]

    with gunicorn(env, workers=4) as base:

        def post(index: int) -> None:
            request = urllib.request.Request(
                f"{base}/anymail/postmark/inbound/", data=payloads[index], method="POST",
                headers={"Content-Type": "application/json", "Authorization": auth},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status != 200:
                    raise RuntimeError(response.status)

        result = run_load(post, total=total, concurrency=16)
    if result.get("errors"):
        raise RuntimeError(f"{result['errors']} posts failed")


def _drain_with(env: dict[str, str], processes: int, broker: redis.Redis) -> tuple[float, int]:
    """Start `processes` workers with one drain task each; seconds until no mail waits, mails applied."""
    for _ in range(processes - 1):  # the webhook queued the first
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "helpdesk", "call", "tickets.tasks.process_waiting_inbound",
             "--queue", QUEUE],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
    command = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool", "solo", "--queues", QUEUE,
               "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    started = time.perf_counter()
    workers = [
        subprocess.Popen([*command, "--hostname", f"scaling{n}@%h"], cwd=ROOT, env=env) for n in range(processes)
    ]
    try:
        elapsed = mail.wait_until_drained(env, started)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    broker.delete(QUEUE)
    statuses = mail._statuses(env, "Postmark")
    return elapsed, sum(statuses.values()) - statuses.get("received", 0)


def _mail_scaling(quick: bool) -> dict:
    env = bench_env(DATABASE)
    env.update(ANYMAIL_WEBHOOK_SECRET=mail.SECRET, ACOLHE_INBOUND_ESPS="postmark", ACOLHE_CELERY_QUEUE=QUEUE)
    env["EMAIL_BACKEND"] = "anymail.backends.test.EmailBackend"
    ensure_database(env)
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--tickets", "0"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    broker = redis.Redis.from_url(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    total = 400 if quick else 2000
    figures = {}
    for processes in PROCESSES:
        mail._reset(env)
        broker.delete(QUEUE)
        for key in broker.scan_iter(match=f"*inbound:wake:{DATABASE}"):
            broker.delete(key)
        _post_all(env, total, f"scaling{processes}-{int(time.time())}")
        elapsed, applied = _drain_with(env, processes, broker)
        figures[f"inbound_emails_per_s_{processes}_workers"] = {
            "value": round(applied / elapsed, 1),
            "unit": "emails/s",
            "note": f"{applied} of {total} mails applied by {processes} worker process(es), start-up included",
        }
        print(f"   inbound, {processes} worker(s): {figures[f'inbound_emails_per_s_{processes}_workers']}", flush=True)
    return figures


def _web_scaling(quick: bool) -> dict:
    env = bench_env(DATABASE)
    env.update(PYTHONWARNINGS="ignore::UserWarning")
    total = 300 if quick else 1500
    figures = {}
    for processes in PROCESSES:
        with gunicorn(env, workers=processes) as base:

            def get(_: int) -> None:
                with urllib.request.urlopen(f"{base}/login/", timeout=60) as response:
                    response.read()
                    if response.status != 200:
                        raise RuntimeError(response.status)

            for i in range(processes * 4):  # every worker imports and connects first
                get(i)
            result = run_load(get, total=total, concurrency=16)
        figures[f"web_requests_per_s_{processes}_workers"] = {
            "value": result.get("throughput_per_s"),
            "unit": "requests/s",
            "p50_ms": result.get("p50_ms"),
            "p99_ms": result.get("p99_ms"),
            "note": f"the login page, {processes} gunicorn worker(s), 16 concurrent clients, "
            f"{result.get('errors')} errors",
        }
        print(f"   web, {processes} worker(s): {figures[f'web_requests_per_s_{processes}_workers']}", flush=True)
    return figures


def run(quick: bool) -> dict:
    return _mail_scaling(quick) | _web_scaling(quick)


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
