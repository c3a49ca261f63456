"""Turn raw MIME into what a ticket needs: addresses, bodies (new text apart from quoted history),
attachments. Pure functions over bytes: no database, so they are cheap to test and fuzz."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email.header import decode_header
from email.headerregistry import Address
from email.message import Message
from email.utils import getaddresses, parseaddr
from html import unescape

import nh3

# Tags and attributes kept in sanitised HTML: formatting, links and images, nothing that runs.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"title", "dir", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}

REPLY_PREFIX = re.compile(r"^\s*((re|res|resp|fw|fwd|enc|tr|aw|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")
MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]+>")

# Where quoted history starts in plain text, in Portuguese and English clients.
QUOTE_HEADERS = [
    re.compile(r"^\s*(On|Em)\s.{5,200}?(wrote|escreveu)\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^-{2,}\s*(Original Message|Mensagem original)\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),
    re.compile(r"^\s*\*?(From|De)\s*:\*?\s.+$", re.IGNORECASE),
    re.compile(r"^>"),
]
# A forward's quoted mail is the point of the message: it stays visible.
FORWARD_MARKER = re.compile(
    r"^\s*(-{2,}\s*(Forwarded message|Mensagem encaminhada)\s*-{2,}|Begin forwarded message:"
    r"|In[ií]cio da mensagem (re)?encaminhada:)",
    re.IGNORECASE,
)
# Signatures: the standard delimiter and phone clients' footers.
SIGNATURE_LINES = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(Sent from my|Enviado do meu|Enviado de meu|Get Outlook for|Obter o Outlook para)\b", re.I),
]
# HTML markers that open the quoted part in Gmail, Outlook, Apple Mail, Thunderbird and Yahoo.
HTML_QUOTE_MARKERS = re.compile(
    r"""<div[^>]*class=["']?gmail_quote|<blockquote|<div[^>]*id=["']?(divRplyFwdMsg|appendonsend)"""
    r"""|<div[^>]*class=["']?(yahoo_quoted|moz-cite-prefix)|<hr[^>]*id=["']?stopSpelling""",
    re.IGNORECASE,
)


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    is_inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    text: str
    quoted_text: str
    html_unsafe: str  # the new part, NOT sanitised: sanitise_html() before it is stored or shown
    quoted_html_unsafe: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: Message | None = None
    defects: list[str] = field(default_factory=list)


def parse_bytes(raw: bytes) -> Message:
    # compat32 parses headers lazily and cheaply; we decode the few headers we read ourselves.
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words (`=?utf-8?q?...?=`), tolerating unknown charsets and bad encodings."""
    if "=?" not in value:
        return value
    try:
        parts = decode_header(value)
    except Exception:
        return value
    decoded = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            try:
                chunk = chunk.decode(charset or "ascii")
            except (LookupError, UnicodeDecodeError):
                chunk = chunk.decode("windows-1252" if charset else "utf-8", errors="replace")
        decoded.append(chunk)
    return "".join(decoded)


def header_text(msg: Message, name: str) -> str:
    """A header's decoded text ('' when missing or unreadable)."""
    try:
        value = msg.get(name)
    except Exception:  # a header the parser cannot make sense of is as good as missing
        return ""
    if value is None:
        return ""
    return without_nul(decode_words(str(value))).strip()


def _addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    raw_values = []
    for name in names:
        try:
            raw_values += [str(v) for v in msg.get_all(name, [])]
        except Exception:
            continue
    pairs = []
    for display, addr in getaddresses(raw_values):
        if addr and "@" in addr:
            pairs.append((without_nul(" ".join(decode_words(display).split())), without_nul(addr.strip())))
    return pairs


def message_ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value or "")


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes or our tag, for comparing two subjects."""
    subject = SUBJECT_TAG.sub("", REPLY_PREFIX.sub("", subject or ""))
    return " ".join(REPLY_PREFIX.sub("", subject).split()).casefold()


def subject_ticket_number(subject: str) -> int | None:
    match = SUBJECT_TAG.search(subject or "")
    return int(match.group(1)) if match else None


def without_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL; no mail means one.
    return text.replace("\x00", "")


def decode_part(part: Message) -> str:
    """Text of a MIME part in any charset real mail uses, never raising."""
    return without_nul(_decode_part(part))


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "").lower()
    if charset in {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", ""} and re.search(rb"[\x80-\x9f]", payload):
        # Mail labelled Latin-1 (or not at all) but written on Windows: bytes 0x80-0x9F are cp1252 letters.
        charset = "windows-1252"
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("windows-1252", errors="replace")


def split_quoted_text(text: str) -> tuple[str, str]:
    """Split plain text into (new text, quoted history + signature)."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if FORWARD_MARKER.match(line):
            return text.strip(), ""
        # "On <date> <name> wrote:" can wrap over two lines in Gmail.
        joined = line if index + 1 >= len(lines) else line + " " + lines[index + 1]
        if any(p.match(line) for p in SIGNATURE_LINES) or any(p.match(line) for p in QUOTE_HEADERS):
            break
        if QUOTE_HEADERS[0].match(joined) and not line.strip().endswith(":"):
            break
    else:
        return text.strip(), ""
    return "\n".join(lines[:index]).strip(), "\n".join(lines[index:]).strip()


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def split_quoted_html(html: str) -> tuple[str, str]:
    """Split an HTML body at the first quote marker. Neither half is sanitised yet (nh3 closes open tags
    in each when it is)."""
    match = HTML_QUOTE_MARKERS.search(html)
    if not match:
        return html, ""
    return html[: match.start()], html[match.start() :]


def html_to_text(html: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", html)
    text = nh3.clean(text, tags=set())
    text = re.sub(r"&nbsp;", " ", text)
    return re.sub(r"\n{3,}", "\n\n", unescape(text)).strip()


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A display name that is safe anywhere: no path, no control characters, bounded length."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name).strip(" .")
    if not name:
        name = fallback
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:200]
    return name


def _part_filename(part: Message) -> str:
    try:
        return without_nul(decode_words(part.get_filename() or ""))
    except Exception:
        return ""


def _collect_parts(msg: Message) -> tuple[list[Message], list[Message], list[Message]]:
    """Walk the MIME tree: (text parts, html parts, attachment parts) in document order."""
    texts, htmls, files = [], [], []

    def visit(part: Message) -> None:
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        if ctype == "message/rfc822" or disposition == "attachment" or _part_filename(part):
            files.append(part)  # a forwarded mail stays whole, as an attachment
        elif part.is_multipart():
            for child in part.get_payload() or []:
                if isinstance(child, Message):
                    visit(child)
        elif ctype == "text/html":
            htmls.append(part)
        elif ctype == "text/plain" or ctype.startswith("multipart/"):
            # A multipart without its boundary parses as one opaque body: read it as text.
            texts.append(part)
        else:
            files.append(part)

    visit(msg)
    return texts, htmls, files


def _attachment(part: Message, index: int) -> ParsedAttachment:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else inner
        content = inner_msg.as_bytes() if isinstance(inner_msg, Message) else b""
        fallback = "forwarded-message.eml"
    else:
        try:
            content = part.get_payload(decode=True) or b""
        except Exception:
            content = b""
        fallback = f"attachment-{index}"
    content_id = (header_text(part, "Content-ID") or "").strip("<> ")
    is_inline = bool(content_id) and (part.get_content_disposition() or "inline") == "inline"
    return ParsedAttachment(
        filename=safe_filename(_part_filename(part), fallback=fallback),
        content_type=ctype if "/" in ctype else "application/octet-stream",
        content=content,
        content_id=content_id,
        is_inline=is_inline,
    )


def parse_email(raw: bytes) -> ParsedEmail:
    """Everything the pipeline needs from one raw mail; tolerant of malformed input."""
    msg = parse_bytes(raw)
    texts, htmls, files = _collect_parts(msg)
    text = "\n\n".join(decode_part(p) for p in texts).strip()
    html = "\n".join(decode_part(p) for p in htmls).strip()
    new_text, quoted_text = split_quoted_text(text or html_to_text(html))
    # The plain text decides whether there is quoted history at all (forwards keep theirs visible).
    new_html, quoted_html = split_quoted_html(html) if quoted_text else (html, "")

    from_pairs = _addresses(msg, "From") or _addresses(msg, "Sender", "Reply-To")
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    if not from_address:
        from_name, from_address = parseaddr(header_text(msg, "Return-Path"))

    defects = [type(d).__name__ for d in msg.defects]
    for part in msg.walk():
        defects += [type(d).__name__ for d in getattr(part, "defects", [])]
    return ParsedEmail(
        message_id=(message_ids(header_text(msg, "Message-ID")) or [""])[0][:998],
        in_reply_to=(message_ids(header_text(msg, "In-Reply-To")) or [""])[0][:998],
        references=message_ids(header_text(msg, "References"))[-50:],
        subject=" ".join(header_text(msg, "Subject").split())[:998],
        from_address=from_address.strip().lower(),
        from_name=from_name.strip(),
        to=[a.lower() for _, a in _addresses(msg, "To")],
        cc=[a.lower() for _, a in _addresses(msg, "Cc")],
        delivered_to=[a.lower() for _, a in _addresses(msg, "Delivered-To", "X-Original-To", "Envelope-To")],
        text=new_text,
        quoted_text=quoted_text,
        html_unsafe=new_html,
        quoted_html_unsafe=quoted_html,
        attachments=[_attachment(p, i) for i, p in enumerate(files, start=1)],
        headers=msg,
        defects=defects,
    )


def raw_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def format_address(name: str, address: str) -> str:
    username, _, domain = address.partition("@")
    return str(Address(display_name=name, username=username, domain=domain))
