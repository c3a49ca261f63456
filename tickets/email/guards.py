"""The loop and noise guard: auto-replies, bulk mail and bounces never become tickets; mailing-list mail
and mail from a null sender never get an acknowledgement, and become tickets only where their queue says
so (`Queue.list_mail`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value

from tickets.email.parsing import ParsedEmail, header_text, message_ids, parse_bytes, payload_bytes

OUT_OF_OFFICE_SUBJECT = re.compile(
    r"^\s*(resposta autom[aá]tica|ausente|fora do escrit[oó]rio|aus[eê]ncia tempor[aá]ria|f[eé]rias"
    r"|out of (the )?office|automatic reply|auto[- ]?reply|autoreply|away from (the )?office)\b",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounces?)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery status notification|returned mail|mail delivery (failed|failure)"
    r"|n[aã]o (foi )?entregue|falha na entrega)",
    re.IGNORECASE,
)


# Senders that are a list's machinery, not a person: Mailman's `-request@`/`-bounces@` (and VERP
# `-bounces+...@`), Majordomo's and Sympa's `owner-...@` and `...-owner@`.
LIST_SENDER_SUFFIXES = ("-request", "-bounces", "-bounce", "-owner")
LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "X-Loop")


@dataclass(frozen=True)
class Verdict:
    kind: str  # "auto_reply", "bulk", "bounce", "list" or "null_sender"
    reason: str
    bounced_message_ids: tuple[str, ...] = ()


def suppresses_auto_responses(msg: Message | None) -> bool:
    """True when the sender asked for no automatic answer, or is itself automatic."""
    if msg is None:
        return False
    auto = header_text(msg, "Auto-Submitted").lower()
    suppress = header_text(msg, "X-Auto-Response-Suppress").lower()
    return (auto not in {"", "no"}) or (bool(suppress) and suppress != "none")


def _bounced_ids(msg: Message) -> tuple[str, ...]:
    """Message-IDs of the original mail inside a DSN or a plain bounce."""
    found: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in {"message/rfc822", "message/rfc822-headers", "text/rfc822-headers"}:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found += message_ids(header_text(inner[0], "Message-ID"))
            else:
                text = inner if isinstance(inner, str) else payload_bytes(part).decode("utf-8", "replace")
                found += message_ids(header_text(parse_bytes(text.encode("utf-8", "replace")), "Message-ID"))
        elif ctype == "text/plain" and not found:
            body = payload_bytes(part).decode("utf-8", "replace")
            found += [
                m for line in body.splitlines() if line.lower().startswith("message-id:") for m in message_ids(line)
            ]
    found += message_ids(header_text(msg, "In-Reply-To"))
    return tuple(dict.fromkeys(found))


def is_delivery_report(msg: Message) -> bool:
    """A DSN (RFC 3464): a `multipart/report` that says `report-type=delivery-status`, or, as some MTAs
    send it, says nothing but carries a `message/delivery-status` part."""
    if msg.get_content_type() != "multipart/report":
        return False
    if collapse_rfc2231_value(msg.get_param("report-type") or "").lower() == "delivery-status":
        return True
    return any(part.get_content_type() == "message/delivery-status" for part in msg.walk())


def classify(parsed: ParsedEmail) -> Verdict | None:
    """None for mail a person wrote; otherwise why it must not open or reopen a ticket."""
    msg = parsed.headers
    if msg is None:
        return None
    ctype = msg.get_content_type()
    report_type = (
        collapse_rfc2231_value(msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    )
    if is_delivery_report(msg) or (
        BOUNCE_SENDERS.match(parsed.from_address) and (BOUNCE_SUBJECT.search(parsed.subject) or report_type)
    ):
        return Verdict("bounce", f"bounce from {parsed.from_address or 'unknown sender'}", _bounced_ids(msg))
    if BOUNCE_SENDERS.match(parsed.from_address):
        return Verdict("auto_reply", f"mail from the system address {parsed.from_address}")
    auto = header_text(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return Verdict("auto_reply", f"Auto-Submitted: {auto}")
    precedence = header_text(msg, "Precedence").lower()
    if precedence in {"bulk", "junk", "auto_reply", "auto-reply"}:
        return Verdict("bulk", f"Precedence: {precedence}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if header_text(msg, name):
            return Verdict("auto_reply", f"{name}: {header_text(msg, name)}")
    if OUT_OF_OFFICE_SUBJECT.match(parsed.subject):
        return Verdict("auto_reply", f"out-of-office subject: {parsed.subject[:80]}")
    return None


def is_list_sender(address: str) -> bool:
    local = address.rpartition("@")[0].lower().partition("+")[0]
    return local.startswith("owner-") or local.endswith(LIST_SENDER_SUFFIXES)


def classify_noise(parsed: ParsedEmail, *, envelope_sender: str = "") -> Verdict | None:
    """Mail from a mailing list or a null sender: never acknowledged; whether it opens a ticket is its
    queue's choice. Run after `classify` (DSNs and auto-replies also come from null senders)."""
    msg = parsed.headers
    if msg is None:
        return None
    for name in LIST_HEADERS:
        value = header_text(msg, name)
        if value:
            return Verdict("list", f"mailing list ({name}: {value[:120]})")
    mailman = next((key for key in msg if key.lower().startswith("x-mailman-")), None)
    if mailman:
        return Verdict("list", f"mailing list ({mailman} header)")
    if header_text(msg, "Precedence").lower() == "list":
        return Verdict("list", "mailing list (Precedence: list)")
    if is_list_sender(parsed.from_address):
        return Verdict("list", f"mailing list address {parsed.from_address}")
    return_paths = [str(value).strip() for value in msg.get_all("Return-Path", [])]
    if "<>" in return_paths or envelope_sender.strip() == "<>":
        return Verdict("null_sender", "null sender (Return-Path: <>)")
    return None
