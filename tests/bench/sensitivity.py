"""`sensitivity_scan_ms`: what the configured classifier (term lists, then the n-gram model) costs a message.

Each labelled message of the data set (training, validation and test splits) and the text of every mail
in `tests/fixtures/mail` (subject and body, as the inbound scan joins them) is classified once to warm up,
then timed; the figure is the median of three runs of the mean per message. No database is needed.
Run alone with `python -m tests.bench.sensitivity [--quick]`.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import statistics
import subprocess
import sys
import time

from tests.bench.harness import ROOT, bench_env

RUNS = 3


def texts() -> list[str]:
    from tickets.wellbeing.evaluation import read_cases
    from tickets.wellbeing.training import LABELLED_DIR

    found = []
    for path in (LABELLED_DIR / "train.tsv", LABELLED_DIR / "validation.tsv"):
        found += [case.text for case in read_cases(path)]
    found += [case.text for case in read_cases(ROOT / "tests" / "fixtures" / "sensitivity" / "test.tsv")]
    for path in sorted((ROOT / "tests" / "fixtures" / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        try:
            content = body.get_content() if body is not None else ""
        except (LookupError, ValueError):  # the corpus keeps a few broken charsets on purpose
            content = (body.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
        found.append(f"{message.get('subject', '')}\n{content}")
    return found


def measure(quick: bool) -> dict:
    import django

    django.setup()
    from tickets.wellbeing.detection import get_classifier

    classifier = get_classifier()
    messages = texts()
    if quick:
        messages = messages[::5]
    for text in messages:
        classifier.classify(text)
    means, per_message = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        for text in messages:
            one = time.perf_counter()
            classifier.classify(text)
            per_message.append((time.perf_counter() - one) * 1000)
        means.append((time.perf_counter() - started) * 1000 / len(messages))
    per_message.sort()
    return {
        "sensitivity_scan_ms": {
            "value": round(statistics.median(means), 3),
            "unit": "ms/message",
            "goal": "< 5",
            "p50_ms": round(per_message[len(per_message) // 2], 3),
            "p99_ms": round(per_message[int(len(per_message) * 0.99)], 3),
            "messages": len(messages),
            "classifier": classifier.name,
        }
    }


def run(quick: bool) -> dict:
    env = bench_env()
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    args = [sys.executable, "-m", "tests.bench.sensitivity", *(["--quick"] if quick else [])]
    completed = subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    print(json.dumps(measure(quick="--quick" in sys.argv)))
