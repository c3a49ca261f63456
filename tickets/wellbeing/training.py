"""Training the n-gram model from the labelled set in `data/labelled/` (run by
`manage.py train_sensitivity_model`; the result is committed as `data/model.npz`).

- The labelled messages are fitted, each also seen in two altered copies (a typo or two, a greeting or
  sign-off of its language around it), so that spelling slips and small talk do not decide.
- Composed messages are fitted too: a clause from `fragments-<language>.txt` (one of a category, or an
  ordinary support request) set in a frame of the same file, sometimes two clauses of different
  categories together (both labels). The fragments were written apart from the three splits and share no
  sentence with them; they widen the vocabulary the model has seen, and are never scored.
- Each category's regularisation strength and threshold are chosen on held-out scores. By default
  (cross-fitting, `folds`) the training and validation splits are cut together into five folds, each scored
  by a model fitted on the others, and the committed model is fitted on all of them; with `folds=0` the
  training split is fitted and the validation split, never fitted, chooses.
- With cross-fitting, every category takes a second stage (stacking, since v10): a logistic regression over
  the six held-out logits (each under its category's C), their sigmoids and the six term-list confidences,
  itself scored out of fold on the same folds, with its own C (among `second_c_grid`, by `_merit`) and
  threshold; it is then fitted on every labelled message's held-out first-stage columns.
- The test split (`tests/fixtures/sensitivity/test.tsv`) is read by neither: `sensitivity_report` scores on it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tickets.wellbeing.detection import CATEGORIES, DATA_DIR, Category, TermListClassifier, normalise
from tickets.wellbeing.evaluation import Case, read_cases
from tickets.wellbeing.model import Featurizer, Weights, second_stage_columns, windows

LABELLED_DIR = DATA_DIR / "labelled"
# Every category's threshold is the one with the highest recall whose precision still reaches PRECISION_GOAL
# on the validation split (the goals are stated as a precision to keep and a recall to reach). When none
# does, the best F-beta: recall weighs twice for self-harm and child safety (a missed report costs more
# than a second look), as much as precision for the others.
RECALL_WEIGHT = {Category.SELF_HARM: 2.0, Category.CHILD_SAFETY: 2.0}
PRECISION_GOAL = 0.85
# Inverse regularisation strengths tried on the validation split.
C_GRID = (16.0, 32.0, 64.0)
# Inverse regularisation strengths of the second stage, chosen per category (cross-fitting only; empty: no
# second stage, as before v10).
SECOND_C_GRID = (1.0, 10.0, 100.0)
SEED = 18
# Folds of cross-fitting by default (0: the training split fitted, the validation split held out).
DEFAULT_FOLDS = 5

OPENERS = {
    "pt": ["oi", "ola, suporte", "boa noite", "bom dia gente", "por favor me ajudem", "urgente", "oii", "socorro"],
    "en": ["hi", "hello support", "good evening", "hey", "please help", "urgent", "hi there", "hello?"],
}
CLOSERS = {
    "pt": ["obrigada", "o que eu faco?", "alguem responde pfv", "aguardo", "vlw", "me ajudem por favor", "obg"],
    "en": ["thanks", "what do i do?", "please answer", "thank you", "thx", "any help?", "waiting for a reply"],
}


def typo(text: str, rng: random.Random) -> str:
    """One or two slips a hurried writer makes: a letter dropped, doubled or swapped with the next."""
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        letters = [i for i, c in enumerate(chars[:-1]) if c.isalpha() and chars[i + 1].isalpha()]
        if not letters:
            break
        at = rng.choice(letters)
        slip = rng.randrange(3)
        if slip == 0:
            del chars[at]
        elif slip == 1:
            chars.insert(at, chars[at])
        else:
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
    return "".join(chars)


def altered(case: Case, rng: random.Random) -> list[Case]:
    language = case.language if case.language in OPENERS else "en"
    framed = f"{rng.choice(OPENERS[language])}, {case.text} {rng.choice(CLOSERS[language])}"
    return [
        Case(expected=case.expected, language=case.language, text=typo(case.text, rng)),
        Case(expected=case.expected, language=case.language, text=typo(framed, rng)),
    ]


# Composed messages per category and language (and twice this many ordinary requests).
COMPOSED_PER_CATEGORY = 300
TWO_CLAUSE_SHARE = 0.2


def read_fragments(path: Path) -> dict[str, list[str]]:
    """Sections `[category]`, `[none]` and `[frames]` (each frame holds `{core}`), one line each."""
    sections: dict[str, list[str]] = {}
    section = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section not in CATEGORIES and section not in ("none", "frames"):
                raise ValueError(f"{path.name}:{number}: unknown section [{section}]")
            continue
        if section is None:
            raise ValueError(f"{path.name}:{number}: a line before any [section]")
        if section == "frames" and "{core}" not in line:
            raise ValueError(f"{path.name}:{number}: a frame without {{core}}")
        sections.setdefault(section, []).append(line)
    return sections


def composed(
    rng: random.Random, per_category: int = COMPOSED_PER_CATEGORY, directory: Path = LABELLED_DIR
) -> list[Case]:
    cases = []
    for language in ("pt", "en"):
        fragments = read_fragments(directory / f"fragments-{language}.txt")
        frames = fragments["frames"]
        pools = [(category, fragments[category]) for category in CATEGORIES] + [("none", fragments["none"])] * 2
        for category, pool in pools:
            for _ in range(per_category):
                core, expected = rng.choice(pool), {category} - {"none"}
                if rng.random() < TWO_CLAUSE_SHARE:
                    other, other_pool = rng.choice([p for p in pools if p[0] != category])
                    joiner = " e " if language == "pt" else " and "
                    core = core + joiner + rng.choice(other_pool)
                    expected |= {other} - {"none"}
                text = rng.choice(frames).replace("{core}", core)
                cases.append(Case(expected=frozenset(expected), language=language, text=typo(text, rng)))
    return cases


@dataclass
class Threshold:
    category: str
    value: float
    precision: float
    recall: float


@dataclass
class TrainingResult:
    weights: Weights
    # The regularisation strength each category chose.
    c: dict[str, float]
    thresholds: list[Threshold] = field(default_factory=list)
    # The second stage's C of each category (none without a second stage).
    second_c: dict[str, float] = field(default_factory=dict)
    train_cases: int = 0
    validation_cases: int = 0


class Encoder:
    """Folds, scores with the term lists and counts the n-grams of a list of cases once (one window each:
    cases are short); `matrix` weighs any subset of them with inverse document frequencies learnt from
    another subset, so each fold of cross-validation costs only its fits."""

    def __init__(self, cases: list[Case]):
        self.featurizer = Featurizer()
        terms = TermListClassifier()
        folded = [windows(normalise(case.text))[0] for case in cases]
        self.found = [{c: conf for c, (conf, _p) in terms.scores(text).items()} for text in folded]
        self.counts = [block.tocsr() for block in self.featurizer.counts(folded)]

    def fit_idf(self, rows: np.ndarray) -> np.ndarray:
        """Each n-gram's inverse document frequency over the given rows (smoothed, as scikit-learn)."""
        idf = []
        for block in self.counts:
            block = block[rows]
            block.sum_duplicates()
            documents = np.bincount(block.indices, minlength=block.shape[1])
            idf.append(np.log((1 + block.shape[0]) / (1 + documents)) + 1.0)
        return np.array(idf, dtype=np.float32)

    def matrix(self, rows: np.ndarray, idf: np.ndarray):
        self.featurizer.idf = idf
        return self.featurizer.weigh([block[rows] for block in self.counts], [self.found[i] for i in rows])


def labels(cases: list[Case]) -> np.ndarray:
    return np.array([[category in case.expected for category in CATEGORIES] for case in cases], dtype=np.int8)


def f_beta(precision: float, recall: float, beta: float) -> float:
    if precision + recall == 0:
        return 0.0
    return (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def choose_threshold(category: str, probabilities: np.ndarray, truth: np.ndarray) -> Threshold:
    """The threshold with the highest recall at a precision of PRECISION_GOAL or more on the validation split
    (on a tie the lower threshold, as far from the last positive caught as the goal allows); when none
    reaches the goal, the best F-beta (beta from RECALL_WEIGHT, else 1; on a tie the lower threshold)."""
    beta = RECALL_WEIGHT.get(category, 1.0)
    ordered = np.unique(probabilities)
    candidates = [0.5, *((ordered[:-1] + ordered[1:]) / 2)]
    best: tuple[float, Threshold] | None = None
    most_recall: Threshold | None = None
    positives = int(truth.sum())
    for value in sorted(candidates):
        flagged = probabilities >= value
        true_positives = int((flagged & (truth == 1)).sum())
        precision = true_positives / int(flagged.sum()) if flagged.any() else 1.0
        recall = true_positives / positives if positives else 1.0
        threshold = Threshold(category, float(value), precision, recall)
        score = f_beta(precision, recall, beta)
        if best is None or score > best[0]:
            best = (score, threshold)
        if precision >= PRECISION_GOAL and (most_recall is None or recall > most_recall.recall):
            most_recall = threshold
    assert best is not None
    if most_recall is not None:
        return most_recall
    return best[1]


def _fit(encoder: Encoder, rows: np.ndarray, truth: np.ndarray, c: float, columns) -> tuple[np.ndarray, dict]:
    """A logistic regression for each category column given, fitted on the given rows: the idf learnt from
    them and {column: (coef, intercept)}."""
    idf = encoder.fit_idf(rows)
    x = encoder.matrix(rows, idf)
    models = {}
    for column in columns:
        y = truth[rows, column]
        model = _logistic_regression(c)
        model.fit(x, y)
        models[column] = (model.coef_[0], model.intercept_[0])
    return idf, models


def _logits(encoder: Encoder, rows: np.ndarray, idf: np.ndarray, models: dict) -> np.ndarray:
    x = encoder.matrix(rows, idf)
    return np.column_stack([x @ coef + intercept for coef, intercept in (models[k] for k in sorted(models))])


def _probabilities(encoder: Encoder, rows: np.ndarray, idf: np.ndarray, models: dict) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-_logits(encoder, rows, idf, models)))


def _logistic_regression(c: float):
    """The model every fit of training makes, first stage or second, scored out of fold or committed: one
    category's balanced logistic regression with inverse regularisation strength `c`."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000)


def _second_stage(
    columns_x: np.ndarray, truth: np.ndarray, parts: list[np.ndarray], c_grid: tuple[float, ...]
) -> dict[int, tuple[float, Threshold]]:
    """Each category's second-stage C and its threshold on out-of-fold scores: each fold scored by a second
    stage fitted on the other folds' rows of `columns_x` (the held-out first-stage columns)."""
    count = len(columns_x)
    best: dict[int, tuple[float, Threshold]] = {}
    for c in c_grid:
        probabilities = np.zeros((count, truth.shape[1]))
        for part in parts:
            rest = np.setdiff1d(np.arange(count), part)
            for column in range(truth.shape[1]):
                model = _logistic_regression(c)
                model.fit(columns_x[rest], truth[rest, column])
                probabilities[part, column] = model.predict_proba(columns_x[part])[:, 1]
        for column, threshold in enumerate(_thresholds(probabilities, truth)):
            if column not in best or _merit(threshold) > _merit(best[column][1]):
                best[column] = (c, threshold)
    return best


def _thresholds(probabilities: np.ndarray, truth: np.ndarray) -> list[Threshold]:
    return [choose_threshold(category, probabilities[:, i], truth[:, i]) for i, category in enumerate(CATEGORIES)]


def _merit(threshold: Threshold) -> tuple[bool, float, float]:
    """How a category's threshold under one C compares with another C's: reaching the precision goal first,
    then recall, then F1."""
    return (threshold.precision >= PRECISION_GOAL, threshold.recall, f_beta(threshold.precision, threshold.recall, 1.0))


def folds_of(count: int, folds: int) -> list[np.ndarray]:
    """Contiguous folds of the labelled messages, in file order: a message and its translation, written
    next to each other, stay on the same side."""
    return [np.array(part, dtype=np.int64) for part in np.array_split(np.arange(count), folds)]


def train(
    train_path: Path = LABELLED_DIR / "train.tsv",
    validation_path: Path = LABELLED_DIR / "validation.tsv",
    *,
    version: str | None = None,
    composed_per_category: int = COMPOSED_PER_CATEGORY,
    c_grid: tuple[float, ...] = C_GRID,
    folds: int = DEFAULT_FOLDS,
    second_c_grid: tuple[float, ...] = SECOND_C_GRID,
) -> TrainingResult:
    """One logistic regression per category. Deterministic for a given data set.

    With `folds=0`, the training split is fitted and the validation split chooses C and the thresholds.
    With `folds=K` (cross-fitting), the training and validation splits together are cut into K contiguous
    folds; each fold is scored by a model fitted on the other folds (with their altered copies and the
    composed messages), C and the thresholds are chosen on those held-out scores of every labelled
    message, and the model committed is fitted on all of them; then every category takes a second stage
    (`_second_stage`, over the held-out logits under each category's C) unless `second_c_grid` is empty.
    Either way the test split is never read."""
    rng = random.Random(SEED)
    train_cases, validation_cases = read_cases(train_path), read_cases(validation_path)
    labelled = [*train_cases, *validation_cases] if folds else train_cases
    copies = [altered(case, rng) for case in labelled]
    extra = composed(rng, composed_per_category)
    # Rows: the labelled cases, then their altered copies (two each), then the composed cases, then (with
    # a validation split) the validation cases.
    held_out = [] if folds else validation_cases
    cases = [*labelled, *(copy for pair in copies for copy in pair), *extra, *held_out]
    encoder, truth = Encoder(cases), labels(cases)
    count = len(labelled)
    copy_rows = {i: np.array([count + 2 * i, count + 2 * i + 1]) for i in range(count)}
    composed_rows = np.arange(3 * count, 3 * count + len(extra))

    def fitted_rows(labelled_rows: np.ndarray) -> np.ndarray:
        return np.concatenate([labelled_rows, *(copy_rows[i] for i in labelled_rows), composed_rows])

    if folds:
        parts = folds_of(count, folds)
        scored_rows, scored_truth = np.arange(count), truth[:count]
    else:
        scored_rows = np.arange(len(cases) - len(held_out), len(cases))
        scored_truth = truth[scored_rows]
    # Every category takes the C under which its held-out threshold does best (`_merit`).
    columns = range(len(CATEGORIES))
    best: dict[int, tuple[float, Threshold]] = {}
    # Without folds, the model scored for each C is already the one to commit: kept, not fitted again.
    fitted_on_all: dict[float, tuple[np.ndarray, dict]] = {}
    held_out_logits: dict[float, np.ndarray] = {}
    for c in c_grid:
        if folds:
            logits = held_out_logits[c] = np.zeros((count, len(CATEGORIES)))
            for part in parts:
                rest = np.setdiff1d(np.arange(count), part)
                idf, models = _fit(encoder, fitted_rows(rest), truth, c, columns)
                logits[part] = _logits(encoder, part, idf, models)
            probabilities = 1.0 / (1.0 + np.exp(-logits))
        else:
            idf, models = fitted_on_all[c] = _fit(encoder, fitted_rows(np.arange(count)), truth, c, columns)
            probabilities = _probabilities(encoder, scored_rows, idf, models)
        for column, threshold in enumerate(_thresholds(probabilities, scored_truth)):
            if column not in best or _merit(threshold) > _merit(best[column][1]):
                best[column] = (c, threshold)
    # The committed model: one fit per C chosen, on every labelled message (cross-fitting) or the training
    # split, of the categories that chose it; one idf, learnt from the same rows whatever the C.
    coef, intercept = {}, {}
    for c in sorted({c for c, _threshold in best.values()}):
        chose_c = [k for k, v in best.items() if v[0] == c]
        idf, models = fitted_on_all.get(c) or _fit(encoder, fitted_rows(np.arange(count)), truth, c, chose_c)
        for column in chose_c:
            coef[column], intercept[column] = models[column]
    thresholds = [best[column][1] for column in columns]
    # The second stage: fitted on the held-out first-stage columns of every labelled message, applied to the
    # committed first stage's; its threshold replaces the first stage's.
    stacked = np.zeros(len(CATEGORIES), dtype=np.bool_)
    stack_coef = np.zeros((3 * len(CATEGORIES), len(CATEGORIES)), dtype=np.float32)
    stack_intercept = np.zeros(len(CATEGORIES), dtype=np.float32)
    second_c: dict[str, float] = {}
    if folds and second_c_grid:
        first = np.column_stack([held_out_logits[best[column][0]][:, column] for column in columns])
        terms = np.array([[encoder.found[i].get(category, 0.0) for category in CATEGORIES] for i in range(count)])
        columns_x = second_stage_columns(first, terms)
        second = _second_stage(columns_x, scored_truth, parts, second_c_grid)
        for column in columns:
            c, threshold = second[column]
            model = _logistic_regression(c)
            model.fit(columns_x, scored_truth[:, column])
            stacked[column] = True
            stack_coef[:, column], stack_intercept[column] = model.coef_[0], model.intercept_[0]
            thresholds[column] = threshold
            second_c[list(CATEGORIES)[column]] = c
    weights = Weights(
        coef=np.column_stack([coef[column] for column in columns]).astype(np.float32),
        intercept=np.array([intercept[column] for column in columns], dtype=np.float32),
        thresholds=np.array([t.value for t in thresholds], dtype=np.float32),
        categories=tuple(CATEGORIES),
        version=version or f"v{date.today():%Y%m%d}",
        idf=idf,
        stacked=stacked,
        stack_coef=stack_coef,
        stack_intercept=stack_intercept,
    )
    return TrainingResult(
        weights=weights,
        c={category: best[column][0] for column, category in enumerate(CATEGORIES)},
        thresholds=thresholds,
        second_c=second_c,
        train_cases=len(labelled),
        validation_cases=len(scored_rows),
    )
