"""The learned half of sensitivity detection: character and word n-grams of the folded text, hashed into a
fixed number of columns, plus the term lists' confidence per category, scored by one linear model per
category (logistic regression, trained by `manage.py train_sensitivity_model`).

The weights live in `data/model.npz` (numbers only, read with `allow_pickle=False`): nothing is downloaded
and nothing is executed when it is loaded. Scoring one message is a hash of its n-grams and a sparse dot
product, well under a millisecond for a support message (`make bench`, `sensitivity_scan_ms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tickets.wellbeing.detection import CATEGORIES, DATA_DIR, Finding, TermListClassifier, Verdict, normalise

MODEL_PATH = DATA_DIR / "model.npz"
# Columns for the hashed n-grams; collisions at this size cost less than a point of F1 on the validation
# split, and the file stays under 2 MB.
HASHED_COLUMNS = 2**18
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
# The model reads a long text in windows of this many characters (a category's score is its best window),
# and no more than MODEL_CHARS in all: the term lists still read the whole text.
WINDOW_CHARS = 2_000
MODEL_CHARS = 20_000
# The term lists' confidence enters the model as one column per category, scaled so that it weighs like a
# handful of n-grams before training.
TERM_SCALE = 3.0


def _vectorizers():
    # scikit-learn is imported here, not at module level: only processes that scan text pay for it.
    from sklearn.feature_extraction.text import HashingVectorizer

    common = {"n_features": HASHED_COLUMNS, "alternate_sign": False, "norm": None, "lowercase": False}
    return (
        HashingVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common),
        HashingVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, token_pattern=r"(?u)\b\w+\b", **common),
    )


class Featurizer:
    """Text to the model's columns: [char n-grams | word n-grams | term-list confidence per category].

    Each n-gram block is TF-IDF weighted (1 + log of the count, times the inverse document frequency
    learnt in training, which keeps "de", "the" and "my" from deciding) and scaled to unit length."""

    categories = tuple(CATEGORIES)

    def __init__(self, idf: np.ndarray | None = None):
        self.char, self.word = _vectorizers()
        # (2, HASHED_COLUMNS): char then word; all ones until training sets it.
        self.idf = idf if idf is not None else np.ones((2, HASHED_COLUMNS), dtype=np.float32)

    @property
    def width(self) -> int:
        return 2 * HASHED_COLUMNS + len(self.categories)

    def counts(self, folded_texts: list[str]):
        return self.char.transform(folded_texts), self.word.transform(folded_texts)

    def transform(self, folded_texts: list[str], term_confidences: list[dict[str, float]]):
        """A sparse matrix, one row per text; texts must already be folded by `normalise`."""
        from scipy import sparse

        blocks = []
        for index, block in enumerate(self.counts(folded_texts)):
            block = block.tocsr().astype(np.float64)
            block.data = (1.0 + np.log(block.data)) * self.idf[index][block.indices]
            norms = np.sqrt(np.asarray(block.multiply(block).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            blocks.append(sparse.diags(1.0 / norms) @ block)
        terms = np.array(
            [[TERM_SCALE * found.get(category, 0.0) for category in self.categories] for found in term_confidences],
            dtype=np.float64,
        ).reshape(len(folded_texts), len(self.categories))
        return sparse.hstack([*blocks, sparse.csr_matrix(terms)], format="csr")


def windows(folded: str) -> list[str]:
    """The parts of a folded text the model reads, cut at spaces where it can."""
    folded = folded[:MODEL_CHARS]
    parts, start = [], 0
    while start < len(folded):
        end = min(start + WINDOW_CHARS, len(folded))
        if end < len(folded):
            space = folded.rfind(" ", start + WINDOW_CHARS // 2, end)
            end = space if space > 0 else end
        parts.append(folded[start:end])
        start = end
    return parts or [""]


@dataclass(frozen=True)
class Weights:
    """What training writes: a weight per column and category, a bias and a threshold per category."""

    coef: np.ndarray  # (columns, categories), float32
    intercept: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,)
    categories: tuple[str, ...]
    version: str
    idf: np.ndarray  # (2, HASHED_COLUMNS): char and word n-gram weights

    def save(self, path: Path = MODEL_PATH) -> None:
        # Most hashed columns never occur in training: keep only the rows with a weight, as float16.
        rows = np.flatnonzero(np.abs(self.coef).max(axis=1) > 1e-4).astype(np.int32)
        # An n-gram never seen in training has the highest IDF: store that once, and the others by column.
        unseen = float(self.idf.max())
        idf_columns = np.flatnonzero(self.idf.ravel() < unseen).astype(np.int32)
        np.savez_compressed(
            path,
            rows=rows,
            values=self.coef[rows].astype(np.float16),
            idf_columns=idf_columns,
            idf_values=self.idf.ravel()[idf_columns].astype(np.float16),
            idf_unseen=np.array([unseen], dtype=np.float32),
            columns=np.array([self.coef.shape[0]], dtype=np.int64),
            intercept=self.intercept.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            categories=np.array(self.categories),
            version=np.array([self.version]),
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Weights:
        with np.load(path, allow_pickle=False) as stored:
            coef = np.zeros((int(stored["columns"][0]), len(stored["categories"])), dtype=np.float32)
            coef[stored["rows"]] = stored["values"].astype(np.float32)
            idf = np.full(2 * HASHED_COLUMNS, stored["idf_unseen"][0], dtype=np.float32)
            idf[stored["idf_columns"]] = stored["idf_values"].astype(np.float32)
            return cls(
                idf=idf.reshape(2, HASHED_COLUMNS),
                coef=coef,
                intercept=stored["intercept"].astype(np.float32),
                thresholds=stored["thresholds"].astype(np.float32),
                categories=tuple(str(c) for c in stored["categories"]),
                version=str(stored["version"][0]),
            )


class NgramModel:
    """Scores folded text with stored weights: a probability per category."""

    def __init__(self, weights: Weights):
        if weights.categories != Featurizer.categories:
            raise ValueError(f"model categories {weights.categories} differ from {Featurizer.categories}")
        self.weights = weights
        self.featurizer = Featurizer(weights.idf)

    @cached_property
    def thresholds(self) -> dict[str, float]:
        return dict(zip(self.weights.categories, (float(t) for t in self.weights.thresholds), strict=True))

    def probabilities(self, folded: str, term_confidence: dict[str, float]) -> dict[str, float]:
        logits = self.logits(windows(folded), term_confidence)
        best = logits.max(axis=0)
        probabilities = 1.0 / (1.0 + np.exp(-best))
        return dict(zip(self.weights.categories, (float(p) for p in probabilities), strict=True))

    def logits(self, parts: list[str], term_confidence: dict[str, float]) -> np.ndarray:
        """`Featurizer.transform(parts) @ coef + intercept`, computed row by row from the n-grams each
        part has: only those rows of the weights are read, so a message costs a fraction of a millisecond
        (multiplying the sparse matrix by the whole weight matrix converts all of it on every call)."""
        coef, featurizer = self.weights.coef, self.featurizer
        terms = np.array([TERM_SCALE * term_confidence.get(c, 0.0) for c in featurizer.categories])
        logits = np.tile(self.weights.intercept + terms @ coef[2 * HASHED_COLUMNS :], (len(parts), 1))
        for index, block in enumerate(featurizer.counts(parts)):
            offset = index * HASHED_COLUMNS
            idf = featurizer.idf[index]
            for row in range(len(parts)):
                start, end = block.indptr[row], block.indptr[row + 1]
                if start == end:
                    continue
                columns = block.indices[start:end]
                values = (1.0 + np.log(block.data[start:end])) * idf[columns]
                values /= np.sqrt(values @ values)
                logits[row] += values @ coef[offset + columns]
        return logits


class LearnedClassifier:
    """The term lists as a fast first pass, then the n-gram model, which takes their confidence as columns
    of its own: a category is flagged when the model's probability reaches that category's threshold
    (chosen on the validation split, stored with the weights). The matched phrases stay in the verdict."""

    def __init__(self, path: Path = MODEL_PATH, terms: TermListClassifier | None = None):
        self.terms = terms or TermListClassifier()
        self.model = NgramModel(Weights.load(path))
        self.name = f"terms+ngrams-{self.model.weights.version}"

    def probabilities(self, text: str) -> tuple[dict[str, float], dict[str, tuple[float, tuple[str, ...]]]]:
        folded = normalise(text)
        found = self.terms.scores(folded)
        return self.model.probabilities(folded, {c: confidence for c, (confidence, _p) in found.items()}), found

    def classify(self, text: str) -> Verdict:
        if not text or not text.strip():
            return Verdict(classifier=self.name)
        probabilities, found = self.probabilities(text)
        thresholds = self.model.thresholds
        findings = tuple(
            Finding(category, probability, found.get(category, (0.0, ()))[1])
            for category, probability in probabilities.items()
            if probability >= thresholds[category]
        )
        return Verdict(findings=findings, classifier=self.name)
