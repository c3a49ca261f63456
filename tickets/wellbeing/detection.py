"""Sensitive-content detection: a small classifier interface and the term-list classifier behind it.

The term lists live in `data/<language>.txt` (see `data/README.md`). They are read and compiled once per
process, so scanning a mail is pure CPU work on the inbound hot path: no database, no file access.
A model can replace the lists later: any class with `name` and `classify(text)` returning a `Verdict`
will do, named by the `ACOLHE_SENSITIVITY_CLASSIFIER` setting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

DATA_DIR = Path(__file__).resolve().parent / "data"
LANGUAGES = ("pt", "en")


class Category:
    BULLYING = "bullying"
    HATE_SPEECH = "hate_speech"
    CHILD_SAFETY = "child_safety"
    SELF_HARM = "self_harm"
    VIOLENCE = "violence"
    ANIMAL_HARM = "animal_harm"


CATEGORIES = {
    Category.BULLYING: _("bullying or harassment"),
    Category.HATE_SPEECH: _("hate speech"),
    Category.CHILD_SAFETY: _("child safety"),
    Category.SELF_HARM: _("self-harm or suicide"),
    Category.VIOLENCE: _("violence"),
    Category.ANIMAL_HARM: _("animal harm"),
}


def category_labels(categories) -> str:
    """The categories of a flagged ticket in the reader's language, for warnings and masked previews."""
    return ", ".join(str(CATEGORIES[c]) for c in categories or () if c in CATEGORIES)


def masked_subject(categories) -> str:
    """What lists and search show instead of a flagged ticket's subject (`tickets/wellbeing/_subject.html`)."""
    return gettext("Sensitive content: %(categories)s") % {"categories": category_labels(categories)}


# Sections of the term files that feed context rules instead of naming a category.
RULE_SECTIONS = ("benign", "sexual", "minor", "game")
DEFAULT_WEIGHT = 0.9
# A category is flagged when its combined confidence reaches this.
THRESHOLD = 0.5
# Violence near game or joke words counts for this share of its weight.
GAME_DAMPING = 0.3
# How close (in characters) the parts of a two-part rule must be.
NEAR = 80
# Longer text is cut: the head of a mail says what it is about, and the scan must stay cheap.
MAX_CHARS = 50_000


@dataclass(frozen=True)
class Finding:
    category: str
    confidence: float
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...] = ()
    classifier: str = ""

    @property
    def categories(self) -> list[str]:
        return [finding.category for finding in self.findings]

    def __bool__(self) -> bool:
        return bool(self.findings)

    def as_json(self) -> dict:
        """The shape stored on `Message.sensitivity`."""
        return {
            "categories": self.categories,
            "confidence": {f.category: round(f.confidence, 3) for f in self.findings},
            "phrases": {f.category: list(f.phrases) for f in self.findings},
            "classifier": self.classifier,
        }


class Classifier(Protocol):
    """What the scanner needs from a classifier. `classify` must be cheap and side-effect free."""

    name: str

    def classify(self, text: str) -> Verdict: ...


# --- normalising text ---------------------------------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
# A word that starts with a letter and carries digit spellings ("su1c1d10", "m4tar", "k1ll").
_LEET_WORD = re.compile(r"(?<![a-z0-9@$])[a-z@$][a-z0-9@$]*[0-9@$][a-z0-9@$]*")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_APOSTROPHES = re.compile("['`\u2019\u00b4]")


def normalise(text: str) -> str:
    """Lower case, no accents, no apostrophes, digit spellings and stretched letters folded back."""
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS].casefold())
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _APOSTROPHES.sub("", text)
    text = _LEET_WORD.sub(lambda m: m.group().translate(_LEET), text)
    return _REPEATS.sub(r"\1", text)


# --- the term lists -----------------------------------------------------------------------------------

_SEPARATOR = r"[^a-z0-9]+"


def phrase_pattern(phrase: str) -> str:
    """The regular expression for one line of a term file (syntax in data/README.md)."""
    phrase = _APOSTROPHES.sub("", " ".join(phrase.split()))
    out, i, in_class = [], 0, False
    while i < len(phrase):
        char = phrase[i]
        if in_class:
            out.append(char)
            in_class = char != "]"
        elif char == "[":
            out.append(char)
            in_class = True
        elif char == "\\" and i + 1 < len(phrase):
            out.append(phrase[i : i + 2])
            i += 1
        elif char == " " and phrase[i + 1 : i + 2] == "?":
            out.append(f"(?:{_SEPARATOR})?")
            i += 1
        elif char == " ":
            out.append(_SEPARATOR)
        elif char == "*":
            out.append(r"[a-z0-9]*")
        elif char == "(":
            out.append("(?:")
        elif char in ")|?.":
            out.append(char)
        else:
            out.append(re.escape(char))
        i += 1
    return r"(?<![a-z0-9])" + "".join(out) + r"(?![a-z0-9])"


@dataclass
class TermList:
    """Every phrase of the term files, by section: (phrase, weight, file and line)."""

    sections: dict[str, list[tuple[str, float, str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, paths: Iterable[Path]) -> TermList:
        terms = cls()
        for path in paths:
            section = None
            for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                line = raw.split("#", 1)[0].strip()
                if not line:
                    continue
                if line.startswith("[") and line.endswith("]") and " " not in line:
                    section = line[1:-1]
                    if section not in CATEGORIES and section not in RULE_SECTIONS:
                        raise ValueError(f"{path.name}:{number}: unknown section [{section}]")
                    continue
                if section is None:
                    raise ValueError(f"{path.name}:{number}: a term before any [section]")
                phrase, _sep, weight = line.partition(" | ")
                value = float(weight) if weight else DEFAULT_WEIGHT
                try:
                    re.compile(phrase_pattern(phrase.strip()))
                except re.error as exc:
                    raise ValueError(f"{path.name}:{number}: {exc}") from exc
                terms.sections.setdefault(section, []).append((phrase.strip(), value, f"{path.name}:{number}"))
        return terms


def _group_end(pattern: str, start: int) -> int:
    depth = 0
    for index in range(start, len(pattern)):
        if pattern[index] == "\\":
            continue
        if pattern[index] == "(":
            depth += 1
        elif pattern[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced parentheses in {pattern!r}")


def _split_alternatives(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += char == "("
        depth -= char == ")"
        current.append(char)
    return [*parts, "".join(current)]


def heads(phrase: str, prefix: str = "", size: int = 3) -> set[str]:
    """The first letters (up to `size`) a phrase's first word can start with; "" when it can be anything."""
    if len(prefix) >= size or not phrase:
        return {prefix}
    char = phrase[0]
    if char == "(":
        close = _group_end(phrase, 0)
        rest = phrase[close + 1 :]
        optional = rest.startswith("?")
        rest = rest[1:] if optional else rest
        found = set()
        for alternative in _split_alternatives(phrase[1:close]):
            found |= heads(alternative + rest, prefix, size)
        return found | heads(rest, prefix, size) if optional else found
    if char.isalnum():
        if phrase[1:2] == "?":
            return heads(phrase[2:], prefix + char, size) | heads(phrase[2:], prefix, size)
        return heads(phrase[1:], prefix + char, size)
    return {prefix}


class PhraseIndex:
    """Phrases of several sections, looked up by the first letters of each word in the text: a word that
    starts no phrase costs a dictionary lookup, so the scan stays fast with hundreds of phrases."""

    _WORD = re.compile(r"[a-z0-9]+")

    def __init__(self, entries: dict[str, list[tuple[str, float, str]]], size: int = 3):
        self.size = size
        grouped: dict[str, dict[str, list[tuple[str, float]]]] = {}
        for section, lines in entries.items():
            for phrase, weight, _line in lines:
                for head in heads(_APOSTROPHES.sub("", phrase), size=size):
                    grouped.setdefault(head, {}).setdefault(section, []).append((phrase_pattern(phrase), weight))
        self.weights: dict[str, float] = {}
        self.buckets: dict[str, list[tuple[str, re.Pattern]]] = {}
        for head, sections in grouped.items():
            for section, patterns in sections.items():
                branches = []
                for pattern, weight in patterns:
                    name = f"t{len(self.weights)}"
                    self.weights[name] = weight
                    branches.append(f"(?P<{name}>{pattern})")
                self.buckets.setdefault(head, []).append((section, re.compile("|".join(branches))))
        self.anywhere = self.buckets.pop("", [])
        # The phrases a word may start, by its first `size` letters: at most 36**size entries.
        self._candidates: dict[str, list[tuple[str, re.Pattern]]] = {}

    def _candidates_for(self, head: str) -> list[tuple[str, re.Pattern]]:
        candidates = list(self.anywhere)
        for length in range(1, len(head) + 1):
            candidates += self.buckets.get(head[:length], ())
        self._candidates[head] = candidates
        return candidates

    def scan(self, text: str) -> list[tuple[str, int, int, float]]:
        """(section, start, end, weight) of each match; matches of one section do not overlap."""
        found = []
        free_from: dict[str, int] = {}
        known, size = self._candidates, self.size
        for word in self._WORD.finditer(text):
            start, head = word.start(), word.group()[:size]
            candidates = known.get(head)
            if candidates is None:
                candidates = self._candidates_for(head)
            for section, pattern in candidates:
                if free_from.get(section, 0) > start:
                    continue
                match = pattern.match(text, start)
                if match is not None:
                    free_from[section] = match.end()
                    found.append((section, start, match.end(), self.weights[match.lastgroup or ""]))
        return found


_AGE = re.compile(
    r"(?<![0-9])(?:[1-9]|1[0-7]) ?(?:anos|anos de idade|years? old|yrs? old|y ?o|yo)(?![a-z])|"
    r"(?<![a-z])(?:aged|idade de) (?:[1-9]|1[0-7])(?![0-9])"
)


class TermListClassifier:
    """Bilingual term lists with inflections and spellings, plus a few context rules:
    idioms are masked first ("this game is killing me"), violence near game words counts less, and
    child safety needs an explicit term or a sexual term near a minor (a word or an age under 18)."""

    name = "terms-v1"

    def __init__(self, paths: Iterable[Path] | None = None, threshold: float = THRESHOLD):
        self.threshold = threshold
        terms = TermList.read(paths or [DATA_DIR / f"{language}.txt" for language in LANGUAGES])
        self._benign = PhraseIndex({"benign": terms.sections.get("benign", [])})
        self._index = PhraseIndex({s: lines for s, lines in terms.sections.items() if s != "benign"})

    def classify(self, text: str) -> Verdict:
        if not text or not text.strip():
            return Verdict(classifier=self.name)
        findings = [
            Finding(category, confidence, phrases)
            for category, (confidence, phrases) in self.scores(normalise(text)).items()
            if confidence >= self.threshold
        ]
        return Verdict(findings=tuple(findings), classifier=self.name)

    def scores(self, folded: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Each category the lists found in text already folded by `normalise`, with its combined
        confidence (below the threshold too) and up to ten matched phrases, in `CATEGORIES` order."""
        for _section, start, end, _weight in self._benign.scan(folded):
            folded = folded[:start] + " " * (end - start) + folded[end:]
        scores: dict[str, dict[str, float]] = {}
        found = self._index.scan(folded)
        spans: dict[str, list[tuple[int, str]]] = {section: [] for section in RULE_SECTIONS}
        for section, start, end, _weight in found:
            if section in spans:
                spans[section].append((start, folded[start:end]))
        animal = [(start, end) for section, start, end, _weight in found if section == Category.ANIMAL_HARM]
        for section, start, end, weight in found:
            if section not in CATEGORIES:
                continue
            if section == Category.VIOLENCE:
                # Violence against an animal is animal harm; near game words it is most likely a game.
                if any(a_start <= start and end <= a_end for a_start, a_end in animal):
                    continue
                if any(abs(at - start) <= NEAR for at, _phrase in spans["game"]):
                    weight *= GAME_DAMPING
            phrase = folded[start:end]
            scores.setdefault(section, {})[phrase] = max(weight, scores.get(section, {}).get(phrase, 0.0))
        if Category.CHILD_SAFETY not in scores and spans["sexual"]:
            minors = spans["minor"] + [(m.start(), m.group()) for m in _AGE.finditer(folded)]
            pair = next(
                (f"{s} + {m}" for s_at, s in spans["sexual"] for m_at, m in minors if abs(s_at - m_at) <= NEAR), ""
            )
            if pair:
                scores[Category.CHILD_SAFETY] = {pair: 0.85}
        combined = {}
        for category in CATEGORIES:
            phrases = scores.get(category)
            if not phrases:
                continue
            # Distinct phrases combine like independent signals: 1 - product of (1 - weight).
            remaining = 1.0
            for weight in phrases.values():
                remaining *= 1.0 - weight
            combined[category] = (1.0 - remaining, tuple(sorted(phrases))[:10])
        return combined


@lru_cache(maxsize=4)
def _load(path: str) -> Classifier:
    return import_string(path)()


def get_classifier() -> Classifier:
    """The classifier named by the ACOLHE_SENSITIVITY_CLASSIFIER setting, built once per process."""
    return _load(settings.ACOLHE_SENSITIVITY_CLASSIFIER)


def classify(text: str) -> Verdict:
    return get_classifier().classify(text)
