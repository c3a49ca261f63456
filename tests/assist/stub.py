"""A stub OpenAI-compatible chat completions server on loopback, for the assist tests and the browser test.

It records every request body it receives; by default it answers with a short text that names the task it
was given and repeats every personal-data placeholder it saw, so a test can check they come back restored.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLACEHOLDERS = re.compile(r"\[(?:EMAIL|CPF|PHONE)_\d+\]")


def default_answer(body: dict) -> str:
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "JSON" in system:
        return json.dumps({"categories": ["bullying"], "confidence": 0.6, "reason": "Insulto direto ao usuário."})
    task = "Resumo" if "summarise" in system else "Tradução" if "Translate" in system else "Rascunho"
    seen = list(dict.fromkeys(PLACEHOLDERS.findall(user)))
    return f"{task} do assistente. Contato: {' '.join(seen)}".strip()


class StubProvider:
    def __init__(self):
        self.requests: list[dict] = []
        self.raw: list[str] = []
        self.answer: Callable[[dict], str] = default_answer
        self.delay = 0.0
        self.trickle = 0.0  # seconds between each few bytes of the answer's body
        self.status = 200
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                stub.raw.append(raw)
                body = json.loads(raw)
                stub.requests.append(body)
                if stub.delay:
                    time.sleep(stub.delay)
                if stub.status != 200:
                    self.send_response(stub.status)
                    self.end_headers()
                    return
                payload = json.dumps(
                    {"choices": [{"index": 0, "message": {"role": "assistant", "content": stub.answer(body)}}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                    if not stub.trickle:
                        self.wfile.write(payload)
                    for start in range(0, len(payload), 8) if stub.trickle else ():
                        self.wfile.write(payload[start : start + 8])
                        self.wfile.flush()
                        time.sleep(stub.trickle)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/chat/completions"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
