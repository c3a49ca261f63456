"""`sensitivity_scan_ms`: what the configured classifier (term lists, then the n-gram model) costs a message.

Each labelled message of the data set (training, validation and test splits), every mail in
`tests/fixtures/mail` and the long mails of `tests/fixtures/sensitivity/long_mail.tsv`, parsed as the inbound
path parses it (sender, subject, the new text and the quoted history, both HTML parts, the attachments), is
scanned once to warm up, then timed, through the inbound path's own `classify_message` (which reads the whole,
and each part and paragraph alone); the figure is the median of three runs of the mean per message. No
database is needed.
Run alone with `python -m tests.bench.sensitivity [--quick]`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from tests.bench.harness import ROOT, bench_env

RUNS = 3


def parsed_message(raw: bytes) -> tuple:
    """(unsaved message, attachments): a raw mail through the inbound parse, with every field the scan reads."""
    from tickets.email.parsing import parse_email, sanitise_html
    from tickets.models import Message

    parsed = parse_email(raw)
    message = Message(
        from_name=parsed.from_name,
        from_address=parsed.from_address,
        subject=parsed.subject,
        body_text=parsed.text,
        quoted_text=parsed.quoted_text,
        body_html=sanitise_html(parsed.html_unsafe),
        quoted_html=sanitise_html(parsed.quoted_html_unsafe),
    )
    return message, parsed.attachments


def long_mails() -> list[tuple]:
    """(case, raw mail) for each long mail of `tests/fixtures/sensitivity/long_mail.tsv` (a line break written
    `\\n`), sent as a plain-text reply: what the bench scans and the long-mail test holds floors on."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    from tickets.wellbeing.evaluation import read_cases

    found = []
    for case in read_cases(ROOT / "tests" / "fixtures" / "sensitivity" / "long_mail.tsv"):
        mail = EmailMessage()
        mail["From"], mail["To"] = "Lia Campos <lia@example.com>", "suporte@acolhe.example"
        mail["Subject"], mail["Message-ID"] = "Re: Conta bloqueada", make_msgid(domain="example.com")
        mail.set_content(case.text.replace("\\n", "\n"))
        found.append((case, mail.as_bytes()))
    return found


def scanned() -> list[tuple]:
    """(unsaved message, attachments) for each labelled message and each mail of the corpus."""
    from tickets.models import Message
    from tickets.wellbeing.evaluation import read_cases
    from tickets.wellbeing.training import LABELLED_DIR

    found: list[tuple] = []
    for path in (LABELLED_DIR / "train.tsv", LABELLED_DIR / "validation.tsv"):
        found += [(Message(body_text=case.text), []) for case in read_cases(path)]
    test_split = ROOT / "tests" / "fixtures" / "sensitivity" / "test.tsv"
    found += [(Message(body_text=case.text), []) for case in read_cases(test_split)]
    raw = [path.read_bytes() for path in sorted((ROOT / "tests" / "fixtures" / "mail").glob("*.eml"))]
    # The long mails, whose paragraphs are each read alone as well.
    raw += [content for _case, content in long_mails()]
    found += [parsed_message(content) for content in raw]
    return found


def measure(quick: bool) -> dict:
    import django

    django.setup()
    from tickets.wellbeing.detection import get_classifier
    from tickets.wellbeing.services import classify_message

    classifier = get_classifier()
    messages = scanned()
    if quick:
        messages = messages[::5]
    for message, attachments in messages:
        classify_message(message, attachments)
    means, per_message = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        for message, attachments in messages:
            one = time.perf_counter()
            classify_message(message, attachments)
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
