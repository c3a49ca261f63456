"""Train the sensitivity model from the labelled set and write its weights (data/model.npz)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from tickets.wellbeing.model import MODEL_PATH
from tickets.wellbeing.training import C_GRID, COMPOSED_PER_CATEGORY, DEFAULT_FOLDS, LABELLED_DIR, SECOND_C_GRID
from tickets.wellbeing.training import train as train_model


class Command(BaseCommand):
    help = (
        "Fit the n-gram model on the training split, choose each category's threshold on the validation "
        "split and write the weights the classifier loads."
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", type=Path, default=LABELLED_DIR / "train.tsv")
        parser.add_argument("--validation", type=Path, default=LABELLED_DIR / "validation.tsv")
        parser.add_argument("--output", type=Path, default=MODEL_PATH)
        parser.add_argument(
            "--composed", type=int, default=COMPOSED_PER_CATEGORY, help="composed messages per category and language"
        )
        parser.add_argument(
            "--c", type=float, action="append", dest="c_grid", help="a regularisation strength to try (repeatable)"
        )
        parser.add_argument(
            "--second-c",
            type=float,
            action="append",
            dest="second_c_grid",
            help="a regularisation strength of the second stage to try (repeatable; cross-fitting only)",
        )
        parser.add_argument(
            "--no-second-stage", action="store_true", help="no category takes a second stage (as before v10)"
        )
        parser.add_argument("--model-version", default=None, help="stored with the weights and named in each verdict")
        parser.add_argument(
            "--folds",
            type=int,
            default=DEFAULT_FOLDS,
            help="cross-fit: choose C and the thresholds on K held-out folds of the training and validation "
            "splits together, then fit on all of them (0: fit the training split, choose on the validation split)",
        )

    def handle(self, *args, train: Path, validation: Path, output: Path, **options):
        result = train_model(
            train,
            validation,
            version=options["model_version"],
            composed_per_category=options["composed"],
            c_grid=tuple(options["c_grid"] or C_GRID),
            folds=options["folds"],
            second_c_grid=() if options["no_second_stage"] else tuple(options["second_c_grid"] or SECOND_C_GRID),
        )
        result.weights.save(output)
        self.stdout.write(
            f"trained on {result.train_cases} cases (and their altered copies), "
            f"thresholds and C chosen on {result.validation_cases} held-out cases"
            + (f" ({options['folds']} folds):" if options["folds"] else ":")
        )
        # "stage 2": the second stage's C for a category that takes it (its threshold is then the second stage's).
        self.stdout.write(f"{'category':<14} {'C':>6} {'stage 2':>7} {'threshold':>9} {'precision':>9} {'recall':>7}")
        for threshold in result.thresholds:
            second = result.second_c.get(threshold.category)
            self.stdout.write(
                f"{threshold.category:<14} {result.c[threshold.category]:>6g} "
                f"{'-' if second is None else f'{second:g}':>7} {threshold.value:>9.3f} "
                f"{threshold.precision:>9.2f} {threshold.recall:>7.2f}"
            )
        self.stdout.write(f"wrote {output} ({output.stat().st_size // 1024} KiB)")
