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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    options = parser.parse_args()
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    (ROOT / ".data").mkdir(exist_ok=True)
    print(
        f"""
Acolhe is starting at http://127.0.0.1:{options.port}/  (health: /healthz, API: /api/v1/, docs: /api/docs/)
Demo logins (password for all: acolhe-demo):
  admin      administrator (also /admin/)
  lead.ana   team lead       lead.bruno team lead
  ana.souza  associate (pt)  john.smith associate (en)  ... see README for the full list
Press Ctrl-C to stop web, worker and beat.
""",
        flush=True,
    )
    procfile = ROOT / ".data" / "Procfile"
    python = sys.executable
    procfile.write_text(
        f"web: {python} manage.py runserver 0.0.0.0:{options.port}\n"
        f"worker: {python} -m celery -A helpdesk worker --loglevel INFO --concurrency 2\n"
        f"beat: {python} -m celery -A helpdesk beat --loglevel INFO --schedule .data/celerybeat-schedule\n"
    )
    return subprocess.call([python, "-m", "honcho", "-f", str(procfile), "-d", str(ROOT), "start"], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
