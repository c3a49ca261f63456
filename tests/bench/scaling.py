"""How throughput grows with processes: mail in applied by 1, 2 and 4 Celery worker processes, and pages
served by 1, 2 and 4 gunicorn workers. The curve is only as steep as the machine has cores: on a 2-core
machine four processes cannot do twice what two do.

Mail in: the same corpus posted to the webhook first (no worker running), then N worker processes (solo
pool, start-up included) drain it. A stream of mail queues a new drain task each time a drain starts
looking (tickets/email/inbound.py, `wake_inbound_worker`), so every idle worker gets one; here the mail is
already waiting, so one drain task per worker is queued up front. The drains share the backlog through
SKIP LOCKED. Web: the login page (a full template render, no data set needed) under 16 concurrent clients.

On one machine the curve measures the machine as much as the code: the workers, PostgreSQL, Redis and (for
the pages) the 16 client threads all share its cores, so past one process per core more processes only
take turns. Each figure therefore carries `efficiency` (its throughput over N times the one-process
figure: 1.0 is a straight line) and the run records the cores it had and the load average around each
measurement (`_scaling_machine`); docs/deploy.md says how to read them. Progress goes to standard error,
the figures as JSON to standard output and `.bench/scaling.json`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

import redis

from tests.bench import mail
from tests.bench.harness import ROOT, bench_database, bench_env, ensure_database, gunicorn, run_load

QUEUE = "acolhe-bench-scaling"
PROCESSES = (1, 2, 4)


DATABASE = "acolhe_bench_scaling"


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _report(figures: dict, key: str) -> None:
    print(f"   {key}: {figures[key]}", file=sys.stderr, flush=True)


def _add_efficiency(figures: dict, prefix: str) -> None:
    """Throughput per process relative to one process: 1.0 when N processes do N times as much."""
    one = figures[f"{prefix}_1_workers"]["value"]
    for processes in PROCESSES:
        figure = figures[f"{prefix}_{processes}_workers"]
        figure["per_worker"] = round(figure["value"] / processes, 1) if figure["value"] else None
        figure["efficiency"] = round(figure["value"] / (processes * one), 2) if one and figure["value"] else None


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


def _first_applied(env: dict[str, str], started: float) -> float:
    """Seconds from `started` until the first mail is applied: the workers' start-up (imports, connections,
    the language and sensitivity models), which every drain of this size pays once."""
    applied = "SELECT EXISTS (SELECT 1 FROM tickets_inboundemail WHERE status <> 'received')"
    return mail.seconds_until(env, applied, started, limit=300, every=0.05)


def _drain_with(env: dict[str, str], processes: int, broker: redis.Redis) -> tuple[float, float, int]:
    """Start `processes` workers with one drain task each; seconds until the first mail is applied and until
    no mail waits, mails applied."""
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
        subprocess.Popen([*command, "--hostname", f"scaling{n}@%h"], cwd=ROOT, env=env, stdout=sys.stderr)
        for n in range(processes)
    ]
    try:
        first = _first_applied(env, started)
        elapsed = mail.wait_until_drained(env, started)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    broker.delete(QUEUE)
    statuses = mail._statuses(env, "Postmark")
    return first, elapsed, sum(statuses.values()) - statuses.get("received", 0)


def _mail_scaling(quick: bool) -> dict:
    database = bench_database(DATABASE)
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
        for key in broker.scan_iter(match=f"*inbound:wake:{database}"):
            broker.delete(key)
        _post_all(env, total, f"scaling{processes}-{int(time.time())}")
        load_before = _load()
        first, elapsed, applied = _drain_with(env, processes, broker)
        key = f"inbound_emails_per_s_{processes}_workers"
        figures[key] = {
            "value": round(applied / elapsed, 1),
            "unit": "emails/s",
            "seconds": round(elapsed, 1),
            "start_up_s": round(first, 1),
            "after_start_up": round(applied / (elapsed - first), 1) if elapsed > first else None,
            "load_before": load_before,
            "load_after": _load(),
            "note": f"{applied} of {total} mails applied by {processes} worker process(es), start-up included",
        }
        _report(figures, key)
    _add_efficiency(figures, "inbound_emails_per_s")
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
            load_before = _load()
            result = run_load(get, total=total, concurrency=16)
        key = f"web_requests_per_s_{processes}_workers"
        figures[key] = {
            "value": result.get("throughput_per_s"),
            "unit": "requests/s",
            "p50_ms": result.get("p50_ms"),
            "p99_ms": result.get("p99_ms"),
            "load_before": load_before,
            "load_after": _load(),
            "note": f"the login page, {processes} gunicorn worker(s), 16 concurrent clients in the same machine, "
            f"{result.get('errors')} errors",
        }
        _report(figures, key)
    _add_efficiency(figures, "web_requests_per_s")
    return figures


def _machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average_1_5_15": [round(value, 2) for value in os.getloadavg()],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def run(quick: bool) -> dict:
    started = _machine()
    figures = _mail_scaling(quick) | _web_scaling(quick)
    figures["_scaling_machine"] = {"quick": quick, "started": started, "ended": _machine()}
    return figures


if __name__ == "__main__":
    results = run(quick="--quick" in sys.argv)
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "scaling.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {out / 'scaling.json'}", file=sys.stderr)
