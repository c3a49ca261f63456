"""Print precision, recall and the confusion per sensitivity category on a labelled set (by default the
test split, which neither training nor the choice of thresholds ever reads)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.wellbeing.detection import CATEGORIES, get_classifier
from tickets.wellbeing.evaluation import NONE, evaluate, read_cases

DEFAULT_SET = Path(settings.BASE_DIR) / "tests" / "fixtures" / "sensitivity" / "test.tsv"


class Command(BaseCommand):
    help = "Precision and recall per sensitivity category of the configured classifier on a labelled set."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=Path, default=DEFAULT_SET, help="categories<TAB>language<TAB>text lines")
        parser.add_argument("--misses", action="store_true", help="also list the cases the classifier got wrong")

    def handle(self, *args, cases: Path, misses: bool, **options):
        if not cases.exists():
            raise CommandError(f"no labelled set at {cases}")
        classifier = get_classifier()
        report = evaluate(classifier, read_cases(cases))
        self.stdout.write(f"{classifier.name} on {report.cases} cases from {cases.name}")
        self.stdout.write(f"{'category':<14} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4}")
        for category, score in report.scores.items():
            self.stdout.write(
                f"{category:<14} {score.precision:>9.2f} {score.recall:>7.2f} {score.true_positives:>4} "
                f"{score.false_positives:>4} {score.false_negatives:>4} {score.true_negatives:>4}"
            )
        self.stdout.write(f"exactly right: {report.cases - len(report.misses)} of {report.cases}")
        labels = [*CATEGORIES, NONE]
        self.stdout.write("confusion (rows: expected, columns: flagged; - is none):")
        self.stdout.write(f"{'':<14}" + "".join(f"{label[:8]:>9}" for label in labels))
        for expected in labels:
            row = report.confusion[expected]
            self.stdout.write(f"{expected:<14}" + "".join(f"{row[flagged]:>9}" for flagged in labels))
        if misses:
            for case, found in report.misses:
                expected = ",".join(sorted(case.expected)) or "-"
                self.stdout.write(f"  expected {expected:<20} got {','.join(sorted(found)) or '-':<20} {case.text}")
