"""The learned half of sensitivity detection: character and word n-grams of the folded text, hashed into a
fixed number of columns, plus the term lists' confidence per category, scored by one linear model per
category (logistic regression, trained by `manage.py train_sensitivity_model`).

The weights live in `data/model.npz` (numbers only, read with `allow_pickle=False`): nothing is downloaded
and nothing is executed when it is loaded. Scoring one message is a hash of its n-grams and a sparse dot
product, well under a millisecond for a support message (`make bench`, `sensitivity_scan_ms`).

Since v10 each category's probability is a second stage's (stacking): a logistic regression over the first
stage's six logits of the message (each category's best window), their sigmoids and the term lists' six
confidences, eighteen multiplications a category. The weights say which categories take it (`stacked`);
a category that does not keeps the first stage's probability, as every category did before v10.

Scoring does not use scikit-learn: `ngram_columns` hashes the n-grams with NumPy, to the same columns as the
HashingVectorizers of `Featurizer` (which training uses, and which a test compares it with). Importing
scikit-learn and SciPy costs a worker most of a second of CPU, and each vectorizer call a fixed 0.2 ms
before it reads a character, twice per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tickets.wellbeing.detection import CATEGORIES, DATA_DIR, Finding, TermListClassifier, Verdict, normalise

MODEL_PATH = DATA_DIR / "model.npz"
# Columns for the hashed n-grams; collisions at this size cost less than a point of F1 on the validation
# split, and the file stays under 3 MB.
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
        return self.weigh(self.counts(folded_texts), term_confidences)

    def weigh(self, count_blocks, term_confidences: list[dict[str, float]]):
        """The model's columns from the n-gram counts of `counts` (training counts once and weighs them
        with each fold's inverse document frequencies)."""
        from scipy import sparse

        blocks = []
        for index, block in enumerate(count_blocks):
            block = block.tocsr().astype(np.float64)
            block.data = (1.0 + np.log(block.data)) * self.idf[index][block.indices]
            norms = np.sqrt(np.asarray(block.multiply(block).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            blocks.append(sparse.diags(1.0 / norms) @ block)
        terms = np.array(
            [[TERM_SCALE * found.get(category, 0.0) for category in self.categories] for found in term_confidences],
            dtype=np.float64,
        ).reshape(len(term_confidences), len(self.categories))
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


# --- the n-gram columns without scikit-learn -----------------------------------------------------------

# The word vectorizer's token pattern (a test keeps the two equal).
_TOKEN = re.compile(r"(?u)\b\w+\b")
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_TAIL_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)
# Keys with more 4-byte blocks than this (tokens over 32 characters, rare) finish their blocks one by one.
_PASSES = 8


def _rotl(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << np.uint32(bits)) | (x >> np.uint32(32 - bits))


def _scramble(k: np.ndarray) -> np.ndarray:
    return _rotl(k * _C1, 15) * _C2


def murmurhash3_32(text: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """MurmurHash3 (x86, 32 bits, seed 0) of each key `text[start:start + length]`, as signed 32-bit
    integers: what scikit-learn's hashing vectorizers compute for an n-gram, for all the n-grams of a text
    in a few array operations."""
    padded = np.frombuffer(text + bytes(4), dtype=np.uint8).astype(np.uint32)
    # The little-endian 32-bit word that starts at each byte of the text (and one past its end).
    words = padded[:-3] | padded[1:-2] << 8 | padded[2:-1] << 16 | padded[3:] << 24
    h = np.zeros(len(starts), dtype=np.uint32)
    blocks = lengths >> 2
    most = int(blocks.max(initial=0))
    for block in range(min(most, _PASSES)):
        active = np.flatnonzero(blocks > block)
        h[active] = _rotl(h[active] ^ _scramble(words[starts[active] + 4 * block]), 13) * 5 + 0xE6546B64
    for key in np.flatnonzero(blocks > _PASSES) if most > _PASSES else ():
        value = int(h[key])
        for k in _scramble(words[starts[key] + 4 * np.arange(_PASSES, blocks[key])]).tolist():
            value ^= k
            value = (((value << 13) | (value >> 19)) * 5 + 0xE6546B64) & 0xFFFFFFFF
        h[key] = value
    # The last 1 to 3 bytes; scrambling 0 gives 0, so a key without them is left as it is.
    h ^= _scramble(words[starts + 4 * blocks] & _TAIL_MASKS[lengths & 3])
    h ^= lengths.astype(np.uint32)
    h ^= h >> 16
    h *= 0x85EBCA6B
    h ^= h >> 13
    h *= 0xC2B2AE35
    h ^= h >> 16
    return h.view(np.int32)


def _char_keys(words: list[str], at: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of each character n-gram within words, as the `char_wb` analyzer takes them: every
    substring of each word padded with a space on both sides, a padded word shorter than the smallest n
    once. Positions are in `" " + "  ".join(words) + " "`, placed at `at`."""
    sizes = np.fromiter((len(word) + 2 for word in words), dtype=np.int64, count=len(words))
    ends = np.cumsum(sizes)
    word_end = np.repeat(ends, sizes)
    positions = np.arange(len(word_end), dtype=np.int64)
    low, high = CHAR_NGRAMS
    starts = [ends[sizes < low] - sizes[sizes < low]]
    lengths = [sizes[sizes < low]]
    for n in range(low, high + 1):
        fits = positions[positions + n <= word_end]
        starts.append(fits)
        lengths.append(np.full(len(fits), n, dtype=np.int64))
    return np.concatenate(starts) + at, np.concatenate(lengths)


def _word_keys(tokens: list[str], at: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of each word n-gram (tokens joined by one space), in `" ".join(tokens)` placed at
    `at`: the n-gram from token i spans from its start to the end of token i + n - 1."""
    sizes = np.fromiter((len(token) for token in tokens), dtype=np.int64, count=len(tokens))
    token_starts = np.cumsum(sizes + 1) - (sizes + 1)
    token_ends = token_starts + sizes
    starts, lengths = [], []
    low, high = WORD_NGRAMS
    for n in range(low, high + 1):
        count = len(tokens) - n + 1
        if count <= 0:
            break
        starts.append(token_starts[:count])
        lengths.append(token_ends[n - 1 :] - token_starts[:count])
    if not starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(starts) + at, np.concatenate(lengths)


def ngram_columns(folded: str) -> tuple[np.ndarray, np.ndarray]:
    """The hashed columns (0 to HASHED_COLUMNS - 1, once per occurrence) of the character and of the word
    n-grams of one ASCII text: the columns `Featurizer.counts` counts for it."""
    words, tokens = folded.split(), _TOKEN.findall(folded)
    char_text = " " + "  ".join(words) + " " if words else ""
    word_text = " ".join(tokens)
    char_starts, char_lengths = _char_keys(words, 0) if words else (np.zeros(0, dtype=np.int64),) * 2
    word_starts, word_lengths = _word_keys(tokens, len(char_text))
    hashes = murmurhash3_32(
        (char_text + word_text).encode("ascii"),
        np.concatenate([char_starts, word_starts]),
        np.concatenate([char_lengths, word_lengths]),
    ).astype(np.int64)
    columns = np.abs(hashes) % HASHED_COLUMNS
    return columns[: len(char_starts)], columns[len(char_starts) :]


def second_stage_columns(logits: np.ndarray, term_confidences: np.ndarray) -> np.ndarray:
    """The second stage's columns for each row: the first stage's logits of every category, their sigmoids
    and the term lists' confidence per category (rows of `(categories,)` each, unscaled)."""
    return np.hstack([logits, 1.0 / (1.0 + np.exp(-logits)), term_confidences])


@dataclass(frozen=True)
class Weights:
    """What training writes: a weight per column and category, a bias and a threshold per category, and for
    the categories that take a second stage (`stacked`) its weights over `second_stage_columns`; their
    threshold is then the second stage's."""

    coef: np.ndarray  # (columns, categories), float32
    intercept: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,)
    categories: tuple[str, ...]
    version: str
    idf: np.ndarray  # (2, HASHED_COLUMNS): char and word n-gram weights
    # (categories,) bool; (3 * categories, categories) and (categories,) float32, zero where not stacked.
    stacked: np.ndarray | None = None
    stack_coef: np.ndarray | None = None
    stack_intercept: np.ndarray | None = None

    @property
    def any_stacked(self) -> bool:
        return self.stacked is not None and bool(self.stacked.any())

    def save(self, path: Path = MODEL_PATH) -> None:
        # Most hashed columns never occur in training: keep only the rows with a weight, as float16.
        rows = np.flatnonzero(np.abs(self.coef).max(axis=1) > 1e-4).astype(np.int32)
        # An n-gram never seen in training has the highest IDF: store that once, and the others by column.
        unseen = float(self.idf.max())
        idf_columns = np.flatnonzero(self.idf.ravel() < unseen).astype(np.int32)
        count = len(self.categories)
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
            # Without a second stage: no category stacked, zero weights (a few hundred bytes).
            stacked=self.stacked if self.stacked is not None else np.zeros(count, dtype=np.bool_),
            stack_coef=(
                self.stack_coef.astype(np.float32)
                if self.stack_coef is not None
                else np.zeros((3 * count, count), dtype=np.float32)
            ),
            stack_intercept=(
                self.stack_intercept.astype(np.float32)
                if self.stack_intercept is not None
                else np.zeros(count, dtype=np.float32)
            ),
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Weights:
        with np.load(path, allow_pickle=False) as stored:
            coef = np.zeros((int(stored["columns"][0]), len(stored["categories"])), dtype=np.float32)
            coef[stored["rows"]] = stored["values"].astype(np.float32)
            idf = np.full(2 * HASHED_COLUMNS, stored["idf_unseen"][0], dtype=np.float32)
            idf[stored["idf_columns"]] = stored["idf_values"].astype(np.float32)
            # Weights from before v10 have no second stage.
            stacked = "stacked" in stored.files
            return cls(
                stacked=stored["stacked"].astype(np.bool_) if stacked else None,
                stack_coef=stored["stack_coef"].astype(np.float32) if stacked else None,
                stack_intercept=stored["stack_intercept"].astype(np.float32) if stacked else None,
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

    @cached_property
    def featurizer(self) -> Featurizer:
        # Only for text that is not ASCII, which `normalise` never returns (and for comparing in tests).
        return Featurizer(self.weights.idf)

    @cached_property
    def thresholds(self) -> dict[str, float]:
        return dict(zip(self.weights.categories, (float(t) for t in self.weights.thresholds), strict=True))

    def probabilities(self, folded: str, term_confidence: dict[str, float]) -> dict[str, float]:
        logits = self.logits(windows(folded), term_confidence)
        best = logits.max(axis=0)
        probabilities = 1.0 / (1.0 + np.exp(-best))
        weights = self.weights
        if weights.any_stacked:
            assert weights.stacked is not None and weights.stack_coef is not None
            assert weights.stack_intercept is not None
            terms = np.array([term_confidence.get(c, 0.0) for c in Featurizer.categories])
            second = second_stage_columns(best, terms) @ weights.stack_coef + weights.stack_intercept
            probabilities = np.where(weights.stacked, 1.0 / (1.0 + np.exp(-second)), probabilities)
        return dict(zip(weights.categories, (float(p) for p in probabilities), strict=True))

    def logits(self, parts: list[str], term_confidence: dict[str, float]) -> np.ndarray:
        """`Featurizer.transform(parts) @ coef + intercept`, computed row by row from the n-grams each
        part has: only those rows of the weights are read, so a message costs a fraction of a millisecond
        (multiplying the sparse matrix by the whole weight matrix converts all of it on every call)."""
        coef = self.weights.coef
        terms = np.array([TERM_SCALE * term_confidence.get(c, 0.0) for c in Featurizer.categories])
        logits = np.tile(self.weights.intercept + terms @ coef[2 * HASHED_COLUMNS :], (len(parts), 1))
        if not all(part.isascii() for part in parts):
            return self._add_vectorized(logits, parts)
        idf = self.weights.idf.ravel()
        for row, part in enumerate(parts):
            chars, words = ngram_columns(part)
            # Both blocks at once: word n-grams in the columns after the character n-grams, as in `coef`.
            columns, counts = np.unique(np.concatenate([chars, words + HASHED_COLUMNS]), return_counts=True)
            if not len(columns):
                continue
            values = (1.0 + np.log(counts)) * idf[columns]
            split = int(np.searchsorted(columns, HASHED_COLUMNS))
            for block in (values[:split], values[split:]):
                if len(block):
                    block /= np.sqrt(block @ block)
            logits[row] += values @ coef[columns]
        return logits

    def _block_logits(self, index: int, columns: np.ndarray, counts: np.ndarray) -> np.ndarray:
        # TF-IDF scaled to unit length, as `Featurizer.transform`, times the weight rows of those columns.
        values = (1.0 + np.log(counts)) * self.weights.idf[index][columns]
        values /= np.sqrt(values @ values)
        return values @ self.weights.coef[index * HASHED_COLUMNS + columns]

    def _add_vectorized(self, logits: np.ndarray, parts: list[str]) -> np.ndarray:
        for index, block in enumerate(self.featurizer.counts(parts)):
            for row in range(len(parts)):
                start, end = block.indptr[row], block.indptr[row + 1]
                if start < end:
                    logits[row] += self._block_logits(index, block.indices[start:end], block.data[start:end])
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
