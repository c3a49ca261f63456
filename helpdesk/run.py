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
        f"worker: {python} -m celery -A helpdesk worker --loglevel WARNING --concurrency 2\n"
        f"beat: {python} -m celery -A helpdesk beat --loglevel WARNING --schedule .data/celerybeat-schedule\n"
        f"ready: {python} -m helpdesk.run --announce --host {host} --port {port}\n"
    )


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--announce", action="store_true", help="wait for the web server, then print the logins")
    return parser.parse_args(argv)


def main() -> int:
    options = parse_options()
    if options.announce:
        return announce(options.port, host=options.host)
    (ROOT / ".data").mkdir(exist_ok=True)
    # Demo mail (acknowledgements, notices) is stored under .data/sent-mail/, not printed: hundreds of
    # mails on the console used to scroll the address and the logins away.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    path = ROOT / ".data" / "Procfile"
    python = sys.executable
    path.write_text(procfile(python, host=options.host, port=options.port))
    return subprocess.call([python, "-m", "honcho", "-f", str(path), "-d", str(ROOT), "start"], cwd=ROOT)


BANNER = """
Acolhe is running at http://{host}:{port}/  (health: /healthz, API: /api/v1/, docs: /api/docs/)
Mail the demo sends is stored in .data/sent-mail/, not sent.
Demo logins (password for all: acolhe-demo):
  admin       administrator (also /admin/)
  lead.ana    team lead (pt-BR team)      lead.bruno      team lead (English team)
  ana.souza   associate (pt)              carlos.pereira  bilingual associate (pt, en)
  john.smith  associate (en)              tessa.trust     Trust & Safety specialist
Press Ctrl-C to stop web, worker and beat."""


def announce(port: int, *, host: str = "127.0.0.1", settle: float = 8.0, then=None) -> int:
    """The last lines of `make run`: once the site answers and the worker's first burst has passed, the
    address and the logins. Then wait, since honcho stops everything when one of its processes ends."""
    import signal
    import time
    import urllib.request

    address = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host

    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://{address}:{port}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(1)
    time.sleep(settle)
    print(BANNER.format(host=address, port=port), flush=True)
    (then or signal.pause)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
