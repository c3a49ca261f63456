"""`make run`: migrate, load the demo data once, then web + Celery worker + beat under one process
manager (honcho). Ctrl-C stops all three."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def procfile(python: str, *, host: str, port: int) -> str:
    """Web, worker and beat for honcho. The web server listens on `host` only: the development server runs
    with DEBUG and the demo passwords are published, so it must not face the network unless asked."""
    return (
        f"web: {python} manage.py runserver {host}:{port}\n"
        f"worker: {python} -m celery -A helpdesk worker --loglevel INFO --concurrency 2\n"
        f"beat: {python} -m celery -A helpdesk beat --loglevel INFO --schedule .data/celerybeat-schedule\n"
    )


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    return parser.parse_args(argv)


def main() -> int:
    options = parse_options()
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    (ROOT / ".data").mkdir(exist_ok=True)
    print(
        f"""
Acolhe is starting at http://{options.host}:{options.port}/  (health: /healthz, API: /api/v1/, docs: /api/docs/)
Demo logins (password for all: acolhe-demo):
  admin      administrator (also /admin/)
  lead.ana   team lead       lead.bruno team lead
  ana.souza  associate (pt)  john.smith associate (en)  ... see README for the full list
Press Ctrl-C to stop web, worker and beat.
""",
        flush=True,
    )
    path = ROOT / ".data" / "Procfile"
    python = sys.executable
    path.write_text(procfile(python, host=options.host, port=options.port))
    return subprocess.call([python, "-m", "honcho", "-f", str(path), "-d", str(ROOT), "start"], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
