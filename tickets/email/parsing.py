"""Turn raw MIME into what a ticket needs: addresses, bodies (new text apart from quoted history),
attachments. Pure functions over bytes: no database, so they are cheap to test and fuzz."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.header import decode_header
from email.headerregistry import Address
from email.message import Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

import nh3

from tickets.email import quotes

# Tags and attributes kept in sanitised HTML: formatting, links and images, nothing that runs.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "details", "div", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
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

# Every pattern here runs over mail content: each has bounded repetition, so it is linear on any input.
REPLY_PREFIX = re.compile(
    r"^\s{0,20}((re|res|resp|fw|fwd|enc|tr|aw|wg)\s{0,5}(\[\d{1,5}\])?\s{0,5}:\s{0,5}){1,20}", re.IGNORECASE
)
# A forward (Outlook writes its quoted mail the same way as a reply's): what it quotes is its point.
FORWARD_SUBJECT = re.compile(r"^\s{0,20}(fwd?|enc|tr|wg|rv)\s{0,5}:", re.IGNORECASE)
SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")
MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,998}>")
HTML_LINE_BREAKS = re.compile(
    r"(?i)<br\s{0,20}/?\s{0,20}>|</(p|div|li|tr|h\d)\s{0,20}>|</?blockquote\b[^<>]{0,2000}>|<hr\b[^<>]{0,2000}>"
)
HEAD_OPEN = re.compile(r"<head[\s/>]", re.IGNORECASE)
HEAD_CLOSE = re.compile(r"</head\s{0,20}>", re.IGNORECASE)
BODY_OPEN = re.compile(r"<body[\s/>]", re.IGNORECASE)
TITLE_OPEN = re.compile(r"<title[\s/>]", re.IGNORECASE)
TITLE_CLOSE = re.compile(r"</title\s{0,20}>", re.IGNORECASE)
SURROGATE = re.compile("[\udc80-\udcff]")
# A header line: a name of printable characters but ":" and space, then ":" (RFC 5322 3.6.8).
HEADER_LINE = re.compile(rb"[!-9;-~]{1,200}[ \t]{0,20}:")
# Deeper HTML than this is not kept as HTML (see quotes.too_deep); real mail nests a few dozen levels.
MAX_HTML_DEPTH = 400
# The most leading non-header lines (a mbox "From " line, an export's junk line) skipped before the headers.
MAX_LEADING_JUNK = 5


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
    # The bodies before splitting ("" for a forward, whose quoted mail stays visible): a reply is split again
    # once its thread is known (`collapse_history`).
    whole_text: str = ""
    whole_html: str = ""


def parse_bytes(raw: bytes) -> Message:
    # compat32 parses the MIME tree leniently and headers lazily; the headers we read are decoded with
    # email.policy.default (header_text, _addresses, _part_filename).
    return email.message_from_bytes(_skip_leading_junk(raw), policy=email.policy.compat32)


def _skip_leading_junk(raw: bytes) -> bytes:
    """Drop a leading mbox "From " line, blank lines or an export's junk line before the headers, when a
    header follows them. The parser would otherwise read the junk as the end of the headers."""
    position = 0
    for _ in range(MAX_LEADING_JUNK):
        end = raw.find(b"\n", position, position + 4096)
        if HEADER_LINE.match(raw, position) or end < 0:
            break
        position = end + 1
    if position and HEADER_LINE.match(raw, position):
        return raw[position:]
    return raw


def _unsurrogate(value: str) -> str:
    """compat32 keeps 8-bit header bytes as surrogate escapes: read them as UTF-8 (RFC 6532), or as
    Windows-1252 when they are not UTF-8 (older clients writing Latin-1 raw)."""
    if not SURROGATE.search(value):
        return value
    data = value.encode("ascii", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace")


def _raw_header_values(msg: Message, name: str) -> list[str]:
    try:
        return [_unsurrogate(str(v)) for v in _header_index(msg).get(name.lower(), ())]
    except Exception:  # a header the parser cannot make sense of is as good as missing
        return []


def _header_index(msg: Message) -> dict[str, list]:
    """The message's raw header values by lower-case name, built once per message: a mail's headers are
    read some twenty times while it is applied, and a scan of all of them per read was a tenth of the
    parse. Built again if the message gained or lost a header since."""
    count = len(msg)
    cached = getattr(msg, "_acolhe_header_index", None)
    if cached is not None and cached[0] == count:
        return cached[1]
    index: dict[str, list] = {}
    for key, value in msg.raw_items() if hasattr(msg, "raw_items") else msg.items():
        index.setdefault(key.lower(), []).append(value)
    msg._acolhe_header_index = (count, index)  # type: ignore[attr-defined]
    return index


def _policy_header(name: str, value: str):
    """The header as email.policy.default reads it: encoded words decoded per RFC 2047 as the header's
    grammar allows (inside a quoted display name too), folded lines unfolded first, so an encoded word
    with a comma in it ("Last, First") is never split at the comma."""
    return default_policy.header_fetch_parse(name, value)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words in unstructured text, tolerating unknown charsets and bad encodings.
    The standard library's parser (email.policy.default) does it; its result is checked for the bytes of
    an unknown charset, which it leaves as surrogate escapes, and those are read as Windows-1252
    (decode_header below is the fallback for the rare value the policy parser rejects)."""
    if "=?" not in value:
        return value
    try:
        return _clean_decoded(str(_policy_header("Subject", value)))
    except Exception:
        pass
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


def _clean_decoded(text: str) -> str:
    # An encoded word in an unknown charset comes back with its bytes as surrogate escapes.
    return _unsurrogate(text)


def _plain(value: str) -> bool:
    """ASCII with no encoded word: nothing for the policy parser to decode (most headers of most mail),
    so the cheaper compat32 reading gives the same result."""
    return value.isascii() and "=?" not in value


def header_text(msg: Message, name: str) -> str:
    """A header's decoded text ('' when missing or unreadable); raw UTF-8 (RFC 6532) and every
    encoded-word form are read by email.policy.default."""
    values = _raw_header_values(msg, name)
    if not values:
        return ""
    value = values[0]
    if _plain(value):
        return without_nul("".join(value.splitlines())).strip()  # what the policy parser would return
    try:
        text = _clean_decoded(str(_policy_header(name, value)))
    except Exception:  # the policy parser gives up on some broken values: decode the words alone
        text = decode_words(" ".join(value.split()))
    return without_nul(text).strip()


def _addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of address headers, decoded by email.policy.default's address
    parser. getaddresses() is the fallback only where that parser finds no address at all (a header too
    broken for its grammar): it splits before decoding, so it is never the first choice."""
    pairs = []
    for name in names:
        for value in _raw_header_values(msg, name):
            found = []
            if _plain(value):
                # Nothing to decode: getaddresses reads plain addresses as the policy parser does, at a
                # tenth of its cost. Anything encoded or 8-bit goes to the policy parser below.
                found = getaddresses([" ".join(value.split())])
            try:
                for address in [] if found else _policy_header(name, value).addresses:
                    found.append((_clean_decoded(address.display_name or ""), address.addr_spec or ""))
            except Exception:
                found = []
            if not any("@" in addr for _, addr in found):
                found = [(decode_words(d), a) for d, a in getaddresses([" ".join(value.split())])]
            for display, addr in found:
                if addr and "@" in addr:
                    pairs.append((without_nul(" ".join(display.split())), without_nul(addr.strip())))
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


def payload_bytes(part: Message) -> bytes:
    """A part's content with its transfer encoding undone; b'' for a multipart or an empty part."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _decode_part(part: Message) -> str:
    payload = payload_bytes(part)
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


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def without_head(html: str) -> str:
    """The HTML without its <head> and any <title>: neither is part of what the sender wrote. A <head>
    left open (its end tag is optional) ends where <body> starts. Each search moves forward only, so this
    is linear on any input."""
    opening = HEAD_OPEN.search(html)
    if opening:
        closing = HEAD_CLOSE.search(html, opening.end())
        body = None if closing else BODY_OPEN.search(html, opening.end())
        if closing:
            html = html[: opening.start()] + html[closing.end() :]
        elif body:
            html = html[: opening.start()] + html[body.start() :]
    pieces = []
    position = 0
    while True:
        opening = TITLE_OPEN.search(html, position)
        closing = TITLE_CLOSE.search(html, opening.end()) if opening else None
        if not opening or not closing:
            break  # no end tag after here: the rest has no complete <title> either
        pieces.append(html[position : opening.start()])
        position = closing.end()
    pieces.append(html[position:])
    return "".join(pieces)


def html_to_text(html: str) -> str:
    text = HTML_LINE_BREAKS.sub("\n", without_head(html))
    text = nh3.clean(text, tags=set())
    # nh3 writes text back with only these four entities (it decoded all others): replacing them is
    # html.unescape() at a fraction of its cost on input made of entities.
    text = text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


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
    """The part's file name, from Content-Disposition's filename or Content-Type's name, as
    email.policy.default reads parameters: RFC 2231 (filename*=utf-8''…), encoded words inside the
    quotes (not standard, but what many clients write) and raw UTF-8."""
    raw_values = [(header, value) for header in ("Content-Disposition", "Content-Type")
                  for value in _raw_header_values(part, header)]  # fmt: skip
    if all(_plain(value) for _, value in raw_values):
        try:  # nothing encoded: compat32 reads the parameter (RFC 2231 included) as the policy would
            return without_nul(part.get_filename() or "")
        except Exception:
            return ""
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        for value in _raw_header_values(part, header):
            try:
                name = _policy_header(header, value).params.get(param)
            except Exception:
                name = None
            if name:
                return without_nul(_clean_decoded(decode_words(str(name))))
    try:
        return without_nul(decode_words(part.get_filename() or ""))
    except Exception:
        return ""


def _is_attachment(part: Message) -> bool:
    """As the standard library decides (EmailMessage.is_attachment): `Content-Disposition: attachment`."""
    try:
        return (part.get_content_disposition() or "").lower() == "attachment"
    except Exception:
        return False


def _collect_parts(msg: Message) -> tuple[list[Message], list[Message], list[Message]]:
    """Walk the MIME tree: (text parts, html parts, attachment parts) in document order."""
    texts: list[Message] = []
    htmls: list[Message] = []
    files: list[Message] = []

    def visit(part: Message) -> None:
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or _is_attachment(part):
            files.append(part)  # a forwarded mail stays whole, as an attachment
        elif part.is_multipart():
            for child in part.get_payload() or []:
                if isinstance(child, Message):
                    visit(child)
        elif ctype in ("text/plain", "text/html") and (texts or htmls) and _part_filename(part):
            # A named text part after the body is a file; the first one is the body even with a name
            # ("msg.txt"), as the standard library's get_body() takes it.
            files.append(part)
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
            content = payload_bytes(part)
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


def _split_bodies(text: str, html: str) -> tuple[str, str, str, str]:
    """(new text, quoted text, new HTML, quoted HTML). The plain text part decides whether there is quoted
    history at all (a forward keeps its quoted mail visible); HTML-only mail is split on its HTML, whose
    quote markers say more than its text does."""
    split = quotes.split_text(text or html_to_text(html))
    # The HTML is read for quote markers only where it decides (HTML-only mail) or the text found some.
    wanted = html and not split.forward and (not text or split.quoted)
    html_split = quotes.split_html(html) if wanted else None
    if not text and html_split is not None:
        new_text = html_to_text(html_split.user_only)
        quoted_text = "\n\n".join(html_to_text(block) for block in html_split.quoted_blocks)
        return new_text, quoted_text, html_split.new, html_split.quoted
    if not split.quoted:
        return split.new, "", html, ""
    if html_split is not None and (html_split.interleaved or not split.interleaved):
        new_html, quoted_html = html_split.new, html_split.quoted
    else:
        # Quoted history the HTML does not mark, HTML too big to read, or HTML that would put in the
        # history what the plain text shows the user wrote below it: show the text, which is split.
        new_html, quoted_html = "", ""
    if split.interleaved and not new_html:
        # Plain text written between quotes: show it as written, each quote collapsed in place.
        new_html = quotes.text_with_quotes_in_place(split)
    return split.new, split.quoted, new_html, quoted_html


def parse_email(raw: bytes) -> ParsedEmail:
    """Everything the pipeline needs from one raw mail; tolerant of malformed input."""
    msg = parse_bytes(raw)
    texts, htmls, files = _collect_parts(msg)
    text = "\n\n".join(decode_part(p) for p in texts).strip()
    html = without_head("\n".join(decode_part(p) for p in htmls)).strip()
    if html and quotes.too_deep(html, MAX_HTML_DEPTH):
        # Crafted nesting: read its text only (linear); the HTML is neither kept nor sanitised.
        text = text or quotes.strip_tags(html)
        html = ""
    forward = FORWARD_SUBJECT.match(header_text(msg, "Subject"))
    if forward:
        new_text, quoted_text, new_html, quoted_html = (text or html_to_text(html)), "", html, ""
    else:
        new_text, quoted_text, new_html, quoted_html = _split_bodies(text, html)
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
        whole_text="" if forward else text,
        whole_html="" if forward else html,
    )


def collapse_history(parsed: ParsedEmail, earlier: Iterable[str]) -> ParsedEmail:
    """The mail with each block that repeats an earlier message of its thread (`earlier`: their texts,
    newest first) collapsed as quoted history, as `quotes.split_text` finds them; the same mail when there is
    none. The HTML does not mark such a block, so the split text is then shown, each block in place.

    HTML-only mail whose HTML had quotes is left as it is: its text, read from the HTML, no longer shows
    which lines were quoted, and the earlier message is most likely inside those quotes."""
    if not parsed.whole_text and (not parsed.whole_html or parsed.quoted_text or parsed.quoted_html_unsafe):
        return parsed
    history = quotes.History(earlier)
    if not history:
        return parsed
    split = quotes.split_text(parsed.whole_text or html_to_text(parsed.whole_html), history)
    if not split.earlier:
        return parsed
    in_place = bool(parsed.whole_html) or split.interleaved
    return dataclasses.replace(
        parsed,
        text=split.new,
        quoted_text=split.quoted,
        html_unsafe=quotes.text_with_quotes_in_place(split) if in_place else "",
        quoted_html_unsafe="",
    )


def raw_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def format_address(name: str, address: str) -> str:
    username, _, domain = address.partition("@")
    return str(Address(display_name=name, username=username, domain=domain))
