"""Shared pieces of `make bench`: a bench database, gunicorn on loopback, a fixed-concurrency load loop."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parents[2]


def bench_database(database: str = "acolhe_bench") -> str:
    """`database` named after the configured one: `acolhe` keeps `acolhe_bench...`, `acolhe_x` gives
    `acolhe_x_bench...`, so two checkouts sharing a PostgreSQL server neither share nor empty each other's."""
    configured = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/acolhe")).path
    return (configured.lstrip("/") or "acolhe") + database.removeprefix("acolhe")


def bench_env(database: str = "acolhe_bench") -> dict[str, str]:
    """The environment with DATABASE_URL pointing at a database of its own on the same server."""
    env = os.environ.copy()
    parts = urlsplit(env.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/acolhe"))
    env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_database(database)}"))
    env.setdefault("ACOLHE_DEVELOPMENT", "1")
    env["DEBUG"] = "0"
    return env


def ensure_database(env: dict[str, str]) -> None:
    parts = urlsplit(env["DATABASE_URL"])
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    manage(env, "migrate", "--no-input", "-v", "0")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 4) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "helpdesk.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def run_load(
    request: Callable[[int], None], *, total: int, concurrency: int, seconds: float | None = None
) -> dict[str, float]:
    """Call `request(i)` `total` times from `concurrency` threads, or (with `seconds`) as often as they can
    until that time is up; latency percentiles in ms."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + seconds if seconds else None

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                index = next(counter, None)
            if index is None or (deadline is not None and time.monotonic() >= deadline):
                return
            started = time.perf_counter()
            try:
                request(index)
            except Exception:
                with lock:
                    errors += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return summarise(latencies, errors=errors, wall=wall)


def summarise(latencies: list[float], *, errors: int, wall: float) -> dict[str, float]:
    if not latencies:
        return {"errors": errors, "requests": 0}
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {
        "requests": len(ordered),
        "errors": errors,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "throughput_per_s": round(len(ordered) / wall, 1),
    }
