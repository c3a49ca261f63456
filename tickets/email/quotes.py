"""Quoted history in mail: what the user wrote apart from what they quoted, without ever hiding new text.

Only a block that is quoted history is collapsed: a top-posted tail after an attribution line (or an
Outlook header block), a quoted block, or a block that repeats an earlier message of the thread without any
marker (`History`). A bottom-posted or interleaved reply keeps every line the user wrote visible, in order,
with the quoted blocks between them collapsed in place (`<details>`).

Why our own code: the maintained libraries were tried on the corpus and both hide new text.
`quotequail` (0.5) takes everything after the first attribution line as quoted, so a bottom-posted
Thunderbird reply ("Am … schrieb …:" then "> …" then the answer) and every interleaved reply lose the
answer; its `unwrap` reads one bottom-posted level only and calls a pt Outlook "De:/Enviado:" block a
forward. `mail-parser-reply` (1.36) returns everything from the first attribution line on as one
"reply", answer included, and does not know the pt Outlook block. Neither bounds its HTML work.

The client markers (attribution lines in pt, en, de, es, fr; Outlook's header blocks; HTML classes and
ids) are data, in quote_markers.json. Every pattern has bounded repetition, and HTML is read by a linear
tag scanner instead of patterns over the whole document, so hostile mail costs linear time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path

MARKERS = json.loads((Path(__file__).with_name("quote_markers.json")).read_text(encoding="utf-8"))


def _compile(entries: list[dict]) -> re.Pattern:
    """One pattern for a list of them (one match call per line, not one per client)."""
    return re.compile("|".join(f"(?:{entry['pattern']})" for entry in entries), re.IGNORECASE)


ATTRIBUTION = _compile(MARKERS["attribution"])
SEPARATOR = _compile(MARKERS["separator"])
FORWARD = _compile(MARKERS["forward"])
# A signature delimiter ("-- ") starts the signature; a phone's footer ("Sent from my iPhone") is only its own
# line: what the user types under it is theirs.
SIGNATURE = _compile([entry for entry in MARKERS["signature"] if not entry.get("one_line")])
FOOTER = _compile([entry for entry in MARKERS["signature"] if entry.get("one_line")])
HEADER_FROM = re.compile(MARKERS["header_block"]["from"], re.IGNORECASE)
HEADER_DATE = re.compile(MARKERS["header_block"]["date"], re.IGNORECASE)
HEADER_SUBJECT = re.compile(MARKERS["header_block"]["subject"], re.IGNORECASE)
HEADER_WINDOW = int(MARKERS["header_block"]["window"])

# The most HTML the splitter reads; past this the HTML is not split (the plain text still is).
HTML_SPLIT_LIMIT = 512 * 1024
# The most lines read for quote markers; lines past it stay visible (never hidden unread).
MAX_SPLIT_LINES = 20_000
# A signature is a few lines (the old "four lines" rule, with room for a phone and an address).
MAX_SIGNATURE_LINES = 8
# A line longer than this is never an attribution or header line (and is not matched at all).
MAX_MARKER_LINE = 1000
# What a collapsed quote shows before it is opened: no words, so nothing to translate at parse time.
SUMMARY = "\u2026"


def is_forward(line: str) -> bool:
    return len(line) <= MAX_MARKER_LINE and FORWARD.match(line) is not None


def is_attribution(line: str) -> bool:
    return len(line) <= MAX_MARKER_LINE and ATTRIBUTION.match(line) is not None


def _is_quote(line: str) -> bool:
    return line.lstrip(" ").startswith(">")


def _is_signature(line: str) -> bool:
    return len(line) <= MAX_MARKER_LINE and SIGNATURE.match(line) is not None


def _is_footer(line: str) -> bool:
    return len(line) <= MAX_MARKER_LINE and FOOTER.match(line) is not None


class _HeaderLines:
    """Which lines are an Outlook header block's date and subject lines, each line read once."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.date: dict[int, bool] = {}
        self.subject: dict[int, bool] = {}

    def _is(self, cache: dict[int, bool], pattern: re.Pattern, index: int) -> bool:
        if index not in cache:
            line = self.lines[index]
            cache[index] = ":" in line and len(line) <= MAX_MARKER_LINE and pattern.match(line) is not None
        return cache[index]

    def block_at(self, index: int) -> bool:
        """Outlook's From:/Sent:/To:/Subject: block (or De:/Enviado:/Para:/Assunto:) starts at this line."""
        line = self.lines[index]
        if ":" not in line or len(line) > MAX_MARKER_LINE or not HEADER_FROM.match(line):
            return False
        window = range(index + 1, min(index + 1 + HEADER_WINDOW, len(self.lines)))
        return any(self._is(self.date, HEADER_DATE, i) for i in window) and any(
            self._is(self.subject, HEADER_SUBJECT, i) for i in window
        )


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1-3) an attribution starting at `index` takes, 0 when there is none. Gmail wraps
    "On <date> <name> <\\naddress> wrote:" over two or three lines."""
    for size in (1, 2, 3):
        if index + size > len(lines):
            break
        chunk = lines[index : index + size]
        if size > 1 and (not chunk[-1].strip() or _is_quote(chunk[-1])):
            break
        if not chunk[-1].rstrip().endswith(":"):
            continue  # every attribution line ends with ":"; most lines are ruled out without a pattern
        if is_attribution(" ".join(part.strip() for part in chunk)):
            return size
    return 0


@dataclass
class TextSplit:
    new: str  # every line the user wrote, in order (quoted blocks between them left out)
    quoted: str  # the quoted history and signature
    interleaved: bool  # True when user text follows quoted text: the reply is bottom-posted or interleaved
    forward: bool  # a forward marker was met: what follows it stays visible
    segments: list[tuple[bool, str]]  # (is_quoted, text) in document order, for showing quotes in place
    earlier: bool = False  # a block repeating an earlier message of the thread was collapsed


# --- unmarked history -------------------------------------------------------------------------------------
# A reply may carry an earlier message of its thread with no ">" and no attribution line: mobile clients that
# paste the previous message under the answer, or our own reply pasted back. Such a block is found by runs of
# HISTORY_SHINGLE words that an earlier message has in the same order (case, punctuation and line breaks
# aside, as clients rewrap what they paste); a line is history only when every word of it is in such a run.
HISTORY_SHINGLE = 5
# A shorter block stays visible: short lines ("Obrigada!", "Any update?") repeat by chance.
MIN_HISTORY_WORDS = 12
# The most words read from a thread's earlier messages, and from a reply: linear, bounded work.
MAX_HISTORY_WORDS = 50_000
_WORD = re.compile(r"\w+")


def _words(text: str, limit: int) -> list[str]:
    # Ten characters a word is more than any language here needs: the cut only bounds the regex's work.
    return _WORD.findall(text[: limit * 10].casefold())[:limit]


class History:
    """The earlier messages of a thread, newest first, as the runs of HISTORY_SHINGLE words they hold."""

    def __init__(self, texts: Iterable[str]):
        self.runs: set[str] = set()
        budget = MAX_HISTORY_WORDS
        for text in texts:
            if budget <= 0:
                break
            words = _words(text or "", budget)
            budget -= len(words)
            self.runs.update(" ".join(words[i : i + HISTORY_SHINGLE]) for i in range(len(words) - HISTORY_SHINGLE + 1))

    def __bool__(self) -> bool:
        return bool(self.runs)

    def repeated_lines(self, lines: list[str], quoted: list[bool], stop: int) -> list[int]:
        """The lines (before `stop`, not quoted already) in blocks that repeat an earlier message: each block
        runs from one such line to another, blank or wordless lines between them included, and holds at
        least MIN_HISTORY_WORDS words. A quoted line ends a block: runs never span it."""
        words: list[str] = []
        line_of: list[int] = []
        found: list[int] = []
        start = 0
        budget = MAX_HISTORY_WORDS
        for index in range(stop + 1):
            if index < stop and not quoted[index] and budget > 0:
                line = lines[index]
                line_words = _WORD.findall(line.casefold()) if len(line) <= 10 * budget else None
                if line_words is not None and len(line_words) <= budget:
                    budget -= len(line_words)
                    words += line_words
                    line_of += [index] * len(line_words)
                    continue
                budget = 0  # a line not read to its end is never history, nor anything after it
            found += self._blocks(words, line_of, range(start, index))
            words, line_of, start = [], [], index + 1
        return found

    def _blocks(self, words: list[str], line_of: list[int], span: range) -> list[int]:
        size = HISTORY_SHINGLE
        covered = [False] * len(words)
        for i in range(len(words) - size + 1):
            if " ".join(words[i : i + size]) in self.runs:
                covered[i : i + size] = [True] * size
        whole: dict[int, bool] = {}  # line -> every word of it covered (lines with words only)
        counts: dict[int, int] = {}
        for position, line in enumerate(line_of):
            whole[line] = whole.get(line, True) and covered[position]
            counts[line] = counts.get(line, 0) + 1
        found: list[int] = []
        block: list[int] = []  # lines of the block being read, up to its last repeated line
        pending: list[int] = []  # wordless lines after it, which join it if another repeated line follows
        block_words = 0
        for line in [*span, None]:
            if line is not None and line not in whole:
                pending.append(line)
                continue
            if line is not None and whole[line]:
                if block:
                    block += pending
                block.append(line)
                block_words += counts[line]
                pending = []
                continue
            if block_words >= MIN_HISTORY_WORDS:
                found += block
            block, pending, block_words = [], [], 0
        return found


def split_text(text: str, history: History | None = None) -> TextSplit:
    """Split plain text into what the user wrote and what they quoted.

    Blocks of quoted history are: runs of ">" lines (with the attribution line and blank lines just
    before them); an Outlook separator or header block, which runs to the end (Outlook quotes unmarked);
    a signature, which runs to the next quoted block; and, given the thread's `history`, a block that
    repeats an earlier message. Whatever is not in a block is the user's and stays visible. When the
    earlier-message blocks would leave none of the user's words visible (the same mail sent again), they
    are not collapsed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted = [False] * len(lines)
    headers = _HeaderLines(lines)
    index = 0
    forward = False
    stop = min(len(lines), MAX_SPLIT_LINES)
    while index < min(len(lines), MAX_SPLIT_LINES):
        line = lines[index]
        if is_forward(line):
            forward = True
            stop = index
            # A forward's quoted mail is the point of the message: it stays visible, to the end.
            break
        if (len(line) <= MAX_MARKER_LINE and SEPARATOR.match(line)) or headers.block_at(index):
            for rest in range(index, len(lines)):
                quoted[rest] = True
            break
        span = _attribution_span(lines, index)
        if span:
            after = index + span
            while after < len(lines) and not lines[after].strip():
                after += 1
            # An attribution opens quoted history when a quote follows it, or when nothing but blank
            # lines does (the quote was trimmed) or an Outlook-style unmarked copy follows a top-post.
            if after >= len(lines) or _is_quote(lines[after]):
                for marked in range(index, after):
                    quoted[marked] = True
                index = after
                continue
        if _is_quote(line):
            quoted[index] = True
            # Blank lines inside one quote run belong to it.
            after = index + 1
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after < len(lines) and _is_quote(lines[after]):
                for marked in range(index + 1, after):
                    quoted[marked] = True
                index = after
                continue
            index += 1
            continue
        if _is_footer(line):
            quoted[index] = True
            index += 1
            continue
        if _is_signature(line):
            # A signature runs to the next quoted block, history separator or the end; one longer than a
            # signature is text the user wrote after a "--" of their own, and stays visible.
            end, written = index + 1, 0
            # The scan stops past MAX_SIGNATURE_LINES lines of text, so many "--" lines cost linear time.
            while end < len(lines) and not _is_quote(lines[end]) and not _attribution_span(lines, end):
                if (len(lines[end]) <= MAX_MARKER_LINE and SEPARATOR.match(lines[end])) or headers.block_at(end):
                    break
                written += bool(lines[end].strip())
                if written > MAX_SIGNATURE_LINES:
                    break
                end += 1
            if written <= MAX_SIGNATURE_LINES:
                for marked in range(index, end):
                    quoted[marked] = True
                index = end
                continue
        index += 1

    earlier = False
    if history:
        repeated = history.repeated_lines(lines, quoted, stop)
        left = [i for i in range(len(lines)) if not quoted[i] and _WORD.search(lines[i][:MAX_MARKER_LINE])]
        if repeated and set(left) - set(repeated):
            for marked in repeated:
                quoted[marked] = True
            earlier = True

    runs: list[tuple[bool, list[str]]] = []
    for line, is_quoted in zip(lines, quoted, strict=True):
        if runs and runs[-1][0] == is_quoted:
            runs[-1][1].append(line)
        else:
            runs.append((is_quoted, [line]))
    segments = [(is_quoted, "\n".join(chunk)) for is_quoted, chunk in runs]
    # Blank lines between a quoted block and the user's text are neither: trim them off the user's side.
    segments = [(is_quoted, chunk) for is_quoted, chunk in segments if is_quoted or chunk.strip()]
    first_quote = next((i for i, (is_quoted, _) in enumerate(segments) if is_quoted), None)
    interleaved = first_quote is not None and any(not q for q, _ in segments[first_quote:])
    new = "\n\n".join(chunk.strip("\n") for is_quoted, chunk in segments if not is_quoted).strip()
    quoted_text = "\n\n".join(chunk.strip("\n") for is_quoted, chunk in segments if is_quoted).strip()
    return TextSplit(
        new=new, quoted=quoted_text, interleaved=interleaved, forward=forward, segments=segments, earlier=earlier
    )


def text_with_quotes_in_place(split: TextSplit) -> str:
    """HTML for a plain-text interleaved reply: the user's lines as written, each quoted block collapsed
    where it was. Not sanitised here (sanitise_html does it before storing), but every line is escaped."""
    html = []
    for is_quoted, chunk in split.segments:
        body = escape(chunk.strip("\n")).replace("\n", "<br>")
        if is_quoted:
            html.append(f"<details><summary>{SUMMARY}</summary><blockquote>{body}</blockquote></details>")
        else:
            html.append(f"<div>{body}</div>")
    return "".join(html)


# --- HTML -----------------------------------------------------------------------------------------------

TAG_NAME = re.compile(r"</?\s{0,4}([a-zA-Z][a-zA-Z0-9:-]{0,30})")
ATTRIBUTE = re.compile(r"""([a-zA-Z-]{1,20})\s{0,4}=\s{0,4}("[^"]{0,2000}"|'[^']{0,2000}'|[^\s"'>]{1,2000})""")
MAX_TAG = 4096  # a tag longer than this is not looked into (its attributes are not read)
VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}


@dataclass
class _Tag:
    start: int
    end: int  # just past ">"
    name: str
    closing: bool
    attributes: dict[str, str]


def _tags(html: str):
    """Every tag in document order, in one linear pass: a tag runs from "<" to the next ">". Comments
    are skipped whole."""
    position = 0
    size = len(html)
    while position < size:
        start = html.find("<", position)
        if start < 0:
            return
        if html.startswith("<!--", start):
            close = html.find("-->", start + 4)
            if close < 0:
                return
            position = close + 3
            continue
        end = html.find(">", start + 1)
        if end < 0:
            return
        end += 1
        raw = html[start:end]
        name_match = TAG_NAME.match(raw)
        if name_match:
            attributes: dict[str, str] = {}
            if len(raw) <= MAX_TAG:
                for key, value in ATTRIBUTE.findall(raw[name_match.end() :]):
                    attributes.setdefault(key.lower(), value.strip("\"'"))
            yield _Tag(start, end, name_match.group(1).lower(), raw[1:2] == "/" or raw[1:2].isspace(), attributes)
        position = end


def _matches(tag: _Tag, rules: list[dict]) -> bool:
    for rule in rules:
        if rule["tag"] != tag.name:
            continue
        if "class" in rule and rule["class"].lower() not in tag.attributes.get("class", "").lower().split():
            continue
        if "id" in rule and not tag.attributes.get("id", "").lower().startswith(rule["id"].lower()):
            continue
        if "type" in rule and tag.attributes.get("type", "").lower() != rule["type"]:
            continue
        if "style_contains" in rule and rule["style_contains"] not in tag.attributes.get("style", "").lower():
            continue
        return True
    return False


def _quote_blocks(html: str) -> tuple[list[tuple[int, int]], bool]:
    """Top-level quoted blocks as (start, end) offsets, and whether the last one is an Outlook-style tail
    (which runs to the end of the document)."""
    rules = MARKERS["html"]
    blocks: list[tuple[int, int]] = []
    open_name = ""
    depth = 0
    block_start = 0
    pending_attribution = None  # start of an attribution element waiting for its quote
    for tag in _tags(html):
        if open_name:
            if tag.name == open_name and tag.name not in VOID:
                depth += -1 if tag.closing else 1
                if depth == 0:
                    blocks.append((block_start, tag.end))
                    open_name = ""
            continue
        if tag.closing:
            continue
        if _matches(tag, rules["tail"]):
            start = pending_attribution if pending_attribution is not None else tag.start
            blocks.append((start, len(html)))
            return blocks, True
        if _matches(tag, rules["attribution"]):
            pending_attribution = tag.start
            open_name, depth, block_start = tag.name, 1, tag.start
            continue
        if _matches(tag, rules["container"]):
            start = tag.start
            if pending_attribution is not None and blocks and blocks[-1][0] == pending_attribution:
                start = blocks.pop()[0]  # the attribution and its quote are one block
            pending_attribution = None
            open_name, depth, block_start = tag.name, 1, start
            if tag.name in VOID:
                open_name = ""
    if open_name:
        blocks.append((block_start, len(html)))  # never closed: runs to the end
    return blocks, False


def too_deep(html: str, limit: int) -> bool:
    """Whether elements nest deeper than `limit` (read in one linear pass). HTML sanitisers do work in
    proportion to the depth for each tag, so very deep HTML costs quadratic time; no mail client nests
    anywhere near the limit."""
    depth = 0
    for tag in _tags(html):
        if tag.name in VOID:
            continue
        depth += -1 if tag.closing else 1
        if depth > limit:
            return True
        depth = max(depth, 0)
    return False


def strip_tags(html: str) -> str:
    """The text of HTML, in one linear pass (for HTML too deep to hand to the sanitiser)."""
    return unescape(_visible_text(html))


def _visible_text(html: str) -> str:
    """The text between tags (entities left as they are): enough to tell whether a stretch is empty."""
    parts = []
    position = 0
    for tag in _tags(html):
        parts.append(html[position : tag.start])
        position = tag.end
    if "<" not in html[position:]:
        parts.append(html[position:])
    return "".join(parts).replace("&nbsp;", " ").replace("&#160;", " ")


def _only_signature(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and (_is_signature(lines[0]) or all(_is_footer(line) for line in lines))


def _attribution_before(html: str, start: int) -> int:
    """Where the quoted history starts when the text just before `start` is an attribution line."""
    head = html[:start]
    last_text, text_start, tag_before = "", start, None
    position = 0
    previous = None
    for tag in _tags(head):
        if head[position : tag.start].strip():
            last_text, text_start, tag_before = head[position : tag.start], position, previous
        previous = tag
        position = tag.end
    if head[position:].strip():
        last_text, text_start, tag_before = head[position:], position, previous
    if not last_text or not is_attribution(" ".join(unescape(last_text).split())):
        return start
    # Back to the element that holds the line, when it is opened right before it.
    if tag_before is not None and not tag_before.closing and tag_before.name in {"div", "p", "span"}:
        return tag_before.start
    return text_start


@dataclass
class HtmlSplit:
    new: str  # the HTML to show: the user's part (top-posted), or the whole with quotes collapsed in place
    quoted: str  # quoted history as one piece (top-posted), '' when it is collapsed in place
    interleaved: bool
    user_only: str  # the HTML without any quoted block: what the user wrote, for the plain text
    quoted_blocks: list[str]  # each quoted block, in order


def split_html(html: str) -> HtmlSplit | None:
    """Where the quoted history is in an HTML body, or None when no quote marker was found (or the HTML
    is over HTML_SPLIT_LIMIT and was not read). When user text follows a quoted block, the new HTML is the
    whole document with every quoted block collapsed in place."""
    if len(html) > HTML_SPLIT_LIMIT:
        return None
    blocks, _ = _quote_blocks(html)
    if not blocks:
        return None
    starts = [start for start, _ in blocks[1:]] + [len(html)]
    between = [html[end:next_start] for (_, end), next_start in zip(blocks, starts, strict=True)]
    user_after = [chunk for chunk in between if _visible_text(chunk).strip()]
    if not user_after or all(_only_signature(_visible_text(chunk)) for chunk in user_after):
        # Top-posted: everything from the first block on is history, with an unmarked attribution line
        # just before it (Apple Mail's "<div>On … wrote:</div>").
        start = _attribution_before(html, blocks[0][0])
        return HtmlSplit(html[:start], html[start:], False, html[:start], [html[start:]])
    pieces, user, position = [], [], 0
    for start, end in blocks:
        pieces.append(html[position:start])
        user.append(html[position:start])
        pieces.append(f"<details><summary>{SUMMARY}</summary>{html[start:end]}</details>")
        position = end
    pieces.append(html[position:])
    user.append(html[position:])
    return HtmlSplit("".join(pieces), "", True, "<br>".join(user), [html[s:e] for s, e in blocks])
