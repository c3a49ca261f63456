"""Precision and recall of a classifier on a labelled set (used by `sensitivity_report` and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tickets.wellbeing.detection import CATEGORIES, Classifier


@dataclass
class Case:
    expected: frozenset[str]
    language: str
    text: str


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


NONE = "-"


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=dict)
    misses: list[tuple[Case, frozenset[str]]] = field(default_factory=list)
    cases: int = 0
    # confusion[expected][flagged]: how many cases labelled `expected` were flagged `flagged` ("-" for none
    # on either side); a case with two labels or two flags counts in each pair.
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)


def read_cases(path: Path) -> list[Case]:
    """Lines of `categories<TAB>language<TAB>text`; "-" means no category."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            labels, language, text = line.split("\t", 2)
        except ValueError as exc:
            raise ValueError(f"{path.name}:{number}: expected three tab-separated columns") from exc
        expected = frozenset() if labels.strip() == "-" else frozenset(labels.strip().split(","))
        unknown = expected - set(CATEGORIES)
        if unknown:
            raise ValueError(f"{path.name}:{number}: unknown categories {sorted(unknown)}")
        cases.append(Case(expected=expected, language=language.strip(), text=text))
    return cases


def evaluate(classifier: Classifier, cases: list[Case]) -> Report:
    labels = [*CATEGORIES, NONE]
    report = Report(
        scores={category: Score() for category in CATEGORIES},
        cases=len(cases),
        confusion={expected: dict.fromkeys(labels, 0) for expected in labels},
    )
    for case in cases:
        found = frozenset(classifier.classify(case.text).categories)
        for category, score in report.scores.items():
            if category in found and category in case.expected:
                score.true_positives += 1
            elif category in found:
                score.false_positives += 1
            elif category in case.expected:
                score.false_negatives += 1
            else:
                score.true_negatives += 1
        for expected in case.expected or {NONE}:
            for flagged in found or {NONE}:
                report.confusion[expected][flagged] += 1
        if found != case.expected:
            report.misses.append((case, found))
    return report
