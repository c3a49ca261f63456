"""The generative provider: any OpenAI-compatible chat completions endpoint (Ollama, vLLM, llama.cpp's
server, hosted APIs), and the masking of personal data before anything leaves the helpdesk.

Nothing here decides what may be sent: `assist.services` refuses restricted tickets before a
prompt is built. This module only masks, sends, and reads the answer.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings

# Personal data masked before sending. Emails first (they contain digits a phone pattern could eat): any
# local part RFC 5322 allows, at a domain with or without dots (`root@server`) or an address literal
# (`x@[10.0.0.1]`), matched only from the start of a run of address characters, so a long word costs linear
# time. Then CPF (000.000.000-00, with or without its dots and dash), then phone numbers: international ones
# written with "+", then Brazilian shapes (area code in brackets or not, landlines of 4+4 digits, mobiles of
# 9+4+4). A long order or protocol number may be masked as a phone too: masking too much is the safe mistake.
ADDRESS_CHARACTER = r"[\w.!#$%&'*+/=?^`{|}~-]"
PATTERNS = (
    ("EMAIL", re.compile(rf"(?<!{ADDRESS_CHARACTER}){ADDRESS_CHARACTER}+@(?:[\w-]+(?:\.[\w-]+)*|\[[\w.:]+\])")),
    ("CPF", re.compile(r"(?<!\d)\d{3}[.\s]?\d{3}[.\s]?\d{3}[-\s]?\d{2}(?!\d)")),
    ("PHONE", re.compile(r"\+\d[\d\s().-]{6,18}\d(?!\d)")),
    ("PHONE", re.compile(r"(?<![\w+])(?:\(?0?\d{2}\)?[\s.-]?)?(?:9[\s.]?)?\d{4}[\s.-]?\d{4}(?!\d)")),
)
PLACEHOLDER = re.compile(r"\[(EMAIL|CPF|PHONE)_(\d+)\]")


class ProviderError(Exception):
    """The provider did not answer in time, refused, or answered something unreadable."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Masker:
    """Replaces personal data with numbered placeholders, the same value with the same placeholder across
    every text of one request, and puts the values back into the answer."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _by_value: dict[str, str] = field(default_factory=dict)

    def mask(self, text: str) -> str:
        for kind, pattern in PATTERNS:
            text = pattern.sub(partial(self._replace, kind), text)
        return text

    def _replace(self, kind: str, match: re.Match[str]) -> str:
        return self._placeholder(kind, match.group(0))

    def _placeholder(self, kind: str, value: str) -> str:
        if value not in self._by_value:
            number = sum(1 for key in self.values if key.startswith(f"[{kind}_")) + 1
            placeholder = f"[{kind}_{number}]"
            self._by_value[value] = placeholder
            self.values[placeholder] = value
        return self._by_value[value]

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda match: self.values.get(match.group(0), match.group(0)), text)


def is_configured() -> bool:
    return bool(settings.ACOLHE_ASSIST_URL and settings.ACOLHE_ASSIST_MODEL)


def host() -> str:
    """The endpoint's host and port: where prompts go."""
    return urllib.parse.urlsplit(settings.ACOLHE_ASSIST_URL).netloc


def provider_label() -> str:
    """Which provider answered, for the audit log: the endpoint's host and the model, never the key."""
    return f"{host()} {settings.ACOLHE_ASSIST_MODEL}".strip()


ANSWER_BYTES = 2_000_000


def _read_by_deadline(response, deadline: float) -> bytes:
    """The answer's body, given up at `deadline`: the socket timeout bounds each read, not the whole answer,
    and a server that sends a few bytes at a time would otherwise hold the page for as long as it likes."""
    chunks, size = [], 0
    while size < ANSWER_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError("the answer took longer than the assist timeout")
        chunk = response.read1(min(65_536, ANSWER_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def complete(messages: list[dict[str, str]]) -> str:
    """Send chat `messages` (already masked) and return the assistant's text. Raises ProviderError."""
    body = json.dumps(
        {"model": settings.ACOLHE_ASSIST_MODEL, "messages": messages, "temperature": 0.2, "stream": False}
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.ACOLHE_ASSIST_KEY:
        headers["Authorization"] = f"Bearer {settings.ACOLHE_ASSIST_KEY}"
    request = urllib.request.Request(settings.ACOLHE_ASSIST_URL, data=body, headers=headers, method="POST")
    deadline = time.monotonic() + settings.ACOLHE_ASSIST_TIMEOUT_SECONDS
    try:
        with urllib.request.urlopen(request, timeout=settings.ACOLHE_ASSIST_TIMEOUT_SECONDS) as response:
            answer = json.loads(_read_by_deadline(response, deadline))
    except TimeoutError as error:
        raise ProviderError("timeout") from error
    except urllib.error.HTTPError as error:
        raise ProviderError(f"http {error.code}") from error
    except urllib.error.URLError as error:
        reason = "timeout" if isinstance(error.reason, TimeoutError) else "unreachable"
        raise ProviderError(reason) from error
    except (ValueError, OSError) as error:
        raise ProviderError("unreadable answer") from error
    try:
        text = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as error:
        raise ProviderError("unreadable answer") from error
    if not isinstance(text, str) or not text.strip():
        raise ProviderError("empty answer")
    return text.strip()
