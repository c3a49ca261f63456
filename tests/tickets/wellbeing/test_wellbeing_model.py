"""The learned sensitivity classifier: the labelled data set, the floors on its test split, the weights file
and the training command."""

import re
import unicodedata
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tickets.wellbeing import detection
from tickets.wellbeing.detection import CATEGORIES, Category
from tickets.wellbeing.evaluation import evaluate, read_cases
from tickets.wellbeing.model import MODEL_PATH, LearnedClassifier, Weights
from tickets.wellbeing.training import LABELLED_DIR, choose_threshold, read_fragments

TEST_SPLIT = Path(__file__).resolve().parents[2] / "fixtures" / "sensitivity" / "test.tsv"
# The goals of the issue that asked for the model (docs/wellbeing.md has the measured figures).
RECALL_FLOOR = {Category.SELF_HARM: 0.90, Category.CHILD_SAFETY: 0.90}
DEFAULT_RECALL_FLOOR = 0.85
PRECISION_FLOOR = 0.85


@pytest.fixture(scope="module")
def classifier():
    return LearnedClassifier()


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", folded)


def _five_grams(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


# What the committed model reaches on the test split today (docs/wellbeing.md), less a small margin: a
# retrained model or edited term lists must not fall below it. Since v14 the test split is a third one, written
# apart from the data set: v14 finds 45 of 53 self-harm and 49 of 53 child-safety messages (recalls 0.85 and
# 0.92), its lowest other recall is bullying's 0.89, and bullying's precision is 0.75, the lowest.
REGRESSION_RECALL_FLOOR = {Category.SELF_HARM: 0.80, Category.CHILD_SAFETY: 0.85}
REGRESSION_DEFAULT_RECALL_FLOOR = 0.80
REGRESSION_PRECISION_FLOOR = 0.70


@pytest.fixture(scope="module")
def test_report(classifier):
    return evaluate(classifier, read_cases(TEST_SPLIT))


@pytest.mark.xfail(
    strict=True,
    reason="Not reached yet on the test split (docs/wellbeing.md): bullying precision 0.75, violence precision 0.82, "
    "self-harm recall 0.85 (45 of 53). Strict: remove the mark when reached.",
)
def test_every_category_meets_the_goal_floors_on_the_test_split(test_report):
    for category, score in test_report.scores.items():
        assert score.recall >= RECALL_FLOOR.get(category, DEFAULT_RECALL_FLOOR), (category, score)
        assert score.precision >= PRECISION_FLOOR, (category, score)


def test_no_category_falls_below_what_the_committed_model_reaches_on_the_test_split(test_report):
    for category, score in test_report.scores.items():
        assert score.true_positives + score.false_negatives >= 25, category
        recall_floor = REGRESSION_RECALL_FLOOR.get(category, REGRESSION_DEFAULT_RECALL_FLOOR)
        assert score.recall >= recall_floor, (category, score)
        assert score.precision >= REGRESSION_PRECISION_FLOOR, (category, score)


def test_the_learned_classifier_does_better_than_the_term_lists_alone_on_the_test_split(test_report):
    lists = evaluate(detection.TermListClassifier(), read_cases(TEST_SPLIT))

    def macro_f1(report):
        scores = report.scores.values()
        return sum(2 * s.precision * s.recall / (s.precision + s.recall or 1) for s in scores) / len(scores)

    assert macro_f1(test_report) > macro_f1(lists) + 0.1


def test_the_data_set_has_1500_messages_in_both_languages_with_every_category_and_hard_negatives():
    splits = [read_cases(LABELLED_DIR / "train.tsv"), read_cases(LABELLED_DIR / "validation.tsv")]
    cases = [case for split in [*splits, read_cases(TEST_SPLIT)] for case in split]
    assert len(cases) >= 1500
    assert {case.language for case in cases} == {"pt", "en"}
    for category in CATEGORIES:
        for language in ("pt", "en"):
            assert sum(category in c.expected and c.language == language for c in cases) >= 50, (category, language)
    assert sum(not case.expected for case in cases) >= 400
    assert sum(len(case.expected) > 1 for case in cases) >= 40


def test_no_test_message_shares_five_words_in_a_row_with_training_validation_or_fragments():
    seen = set()
    for path in (LABELLED_DIR / "train.tsv", LABELLED_DIR / "validation.tsv"):
        for case in read_cases(path):
            seen |= _five_grams(case.text)
    for language in ("pt", "en"):
        for section, lines in read_fragments(LABELLED_DIR / f"fragments-{language}.txt").items():
            if section != "frames":
                for line in lines:
                    seen |= _five_grams(line)
    # Only the line numbers are reported, never the text, so that a failure does not show the test split.
    shared = [number for number, case in enumerate(read_cases(TEST_SPLIT), start=1) if _five_grams(case.text) & seen]
    assert shared == [], f"test messages (by position) sharing five words in a row: {shared}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've made my peace and said my goodbyes", {"self_harm"}),
        ("ninguém vai sentir falta de mim", {"self_harm"}),
        ("an adult keeps messaging my 11-year-old and told her to keep it between them", {"child_safety"}),
        (
            "schoolmates keep posting videos mocking me and telling me to hurt myself",
            {"bullying", "self_harm"},
        ),
        ("this update is killing me", set()),
        ("my video about rescuing a stray dog was removed, why?", set()),
        ("how do I turn on parental controls for my 10 year old?", set()),
        ("esse bug vai me matar, não consigo entrar na conta", set()),
    ],
)
def test_the_phrasings_from_the_report_are_read_as_people_mean_them(classifier, text, expected):
    assert set(classifier.classify(text).categories) == expected


# Everyday support phrasing that shares words with self-harm (the false positives found on mail the model
# had not seen); none of these sentences is in the labelled set.
@pytest.mark.parametrize(
    "text",
    [
        "Obrigado, vou tentar de novo amanhã.",
        "desisto desse app, o vídeo nunca termina de carregar",
        "não aguento mais esse bug na tela de login",
        "I'm done with this update, where is the old editor?",
        "tried again today and it still fails with error 500",
        "this lag is killing me during ranked matches",
        "vou me matar de tanto estudar pro vestibular kkk",
        "kill me now, the payment page reloaded and charged me twice",
        "I give up, how do I get my banned account back?",
        "cansei de tentar, alguém me ajuda com o reembolso?",
    ],
)
def test_everyday_support_phrasing_about_apps_and_exams_is_not_flagged(classifier, text):
    assert classifier.classify(text).categories == []


@pytest.mark.parametrize(
    "text",
    [
        "cansei de tudo, já escrevi uma carta pra minha família e não vou tentar mais nada",
        "I'm done trying to get better, I just want everything to stop for good",
        "I've given my things away and won't need this account after tonight",
        "não quero mais acordar amanhã, já pensei em como acabar com tudo",
    ],
)
def test_indirect_self_harm_with_the_same_words_is_still_flagged(classifier, text):
    assert "self_harm" in classifier.classify(text).categories


def test_a_flag_keeps_the_term_lists_phrases_and_names_the_model(classifier):
    verdict = classifier.classify("Estou pensando em suicídio e já escrevi minha carta de despedida")
    stored = verdict.as_json()
    assert "self_harm" in stored["categories"]
    assert "suicidio" in stored["phrases"]["self_harm"]
    assert stored["classifier"].startswith("terms+ngrams-")
    assert 0 < stored["confidence"]["self_harm"] <= 1


def test_a_long_mail_is_read_in_windows_so_a_late_paragraph_still_counts(classifier):
    filler = "Segue o relatório do pagamento do mês, com as notas fiscais anexas. " * 120
    text = filler + "Ps: eu não aguento mais, quero tirar minha vida hoje."
    assert "self_harm" in classifier.classify(text).categories
    assert classifier.classify(filler).categories == []


def test_every_category_takes_the_most_recall_at_the_precision_goal_else_the_best_f_beta():
    import numpy as np

    # Ten validation messages, four of them positive. Lowering the threshold from 0.75 to 0.25 finds the
    # fourth positive at a precision of 4 in 6: F2 would take it, the precision goal does not.
    probabilities = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.15, 0.1, 0.05])
    truth = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    for category in CATEGORIES:
        chosen = choose_threshold(category, probabilities, truth)
        assert (chosen.value, chosen.precision, chosen.recall) == (0.75, 1.0, 0.75), category
    # On a tie in recall, the lowest threshold that keeps the goal: the most room below the last positive.
    tie = choose_threshold(Category.CHILD_SAFETY, np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 1, 0, 0]))
    assert (tie.value, tie.precision, tie.recall) == (0.5, 1.0, 1.0)
    # The best F1 (0.889 at 0.35, a precision of 4 in 5) would fall under the goal; the goal keeps 0.65.
    probabilities = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3])
    truth = np.array([1, 1, 1, 0, 1, 0])
    for category in (Category.BULLYING, Category.VIOLENCE):
        chosen = choose_threshold(category, probabilities, truth)
        assert (round(chosen.value, 3), chosen.precision, chosen.recall) == (0.65, 1.0, 0.75), category
    # No threshold reaches the goal: the best F2 (recall weighs twice) for self-harm.
    probabilities = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.15, 0.1, 0.05])
    truth = np.array([0, 1, 0, 1, 0, 1, 0, 0, 1, 0])
    fallback = choose_threshold(Category.SELF_HARM, probabilities, truth)
    assert (round(fallback.value, 3), fallback.recall) == (0.075, 1.0)


def test_each_category_keeps_the_c_whose_threshold_reaches_the_goal_with_the_most_recall():
    from tickets.wellbeing.training import Threshold, _merit

    # Under several strengths C, a category keeps the one whose held-out threshold reaches the precision goal
    # with the most recall; more recall under the goal does not win.
    under_the_goal = Threshold(Category.VIOLENCE, 0.3, 0.80, 0.95)
    short = Threshold(Category.VIOLENCE, 0.5, 0.86, 0.70)
    best = Threshold(Category.VIOLENCE, 0.4, 0.85, 0.80)
    assert max([under_the_goal, short, best], key=_merit) is best


def test_the_weights_file_is_small_and_holds_numbers_only():
    assert MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    weights = Weights.load()
    assert weights.categories == tuple(CATEGORIES)
    assert all(0 < threshold < 1 for threshold in weights.thresholds)


def test_the_learned_classifier_is_the_default(settings):
    detection._load.cache_clear()
    assert detection.get_classifier().name.startswith("terms+ngrams-")


@pytest.mark.timeout(600)
def test_the_training_command_fits_and_writes_weights_with_a_threshold_per_category(tmp_path):
    # A small data set keeps this quick: the same command trains the committed weights on the full one.
    train, validation = tmp_path / "train.tsv", tmp_path / "validation.tsv"
    for source, target, every in (
        (LABELLED_DIR / "train.tsv", train, 4),
        (LABELLED_DIR / "validation.tsv", validation, 2),
    ):
        lines = [line for line in source.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        target.write_text("\n".join(lines[::every]) + "\n", encoding="utf-8")
    output = tmp_path / "model.npz"
    out = StringIO()
    call_command(
        "train_sensitivity_model",
        train=train,
        validation=validation,
        output=output,
        model_version="t1",
        composed=10,
        c_grid=[8.0],
        folds=0,
        stdout=out,
    )
    for category in CATEGORIES:
        assert category in out.getvalue()
    trained = LearnedClassifier(output)
    assert trained.name == "terms+ngrams-t1"
    assert trained.model.weights.thresholds.shape == (len(CATEGORIES),)


@pytest.mark.timeout(600)
def test_cross_fitting_scores_every_labelled_message_held_out_and_fits_them_all(tmp_path):
    import numpy as np

    from tickets.wellbeing.training import folds_of, train

    # Folds are contiguous runs of the files' lines, so a message and its translation (written next to each
    # other) are never split between fitting and scoring.
    parts = folds_of(10, 3)
    assert [part.tolist() for part in parts] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    train_path, validation_path = tmp_path / "train.tsv", tmp_path / "validation.tsv"
    for source, target in (
        (LABELLED_DIR / "train.tsv", train_path),
        (LABELLED_DIR / "validation.tsv", validation_path),
    ):
        lines = [line for line in source.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        target.write_text("\n".join(lines[::12]) + "\n", encoding="utf-8")
    labelled = len(read_cases(train_path)) + len(read_cases(validation_path))
    result = train(train_path, validation_path, version="cf", composed_per_category=4, c_grid=(8.0,), folds=2)
    # Thresholds are chosen on every labelled message, each scored by a model that never saw it.
    assert (result.train_cases, result.validation_cases) == (labelled, labelled)
    assert result.c == dict.fromkeys(CATEGORIES, 8.0)
    assert [threshold.category for threshold in result.thresholds] == list(CATEGORIES)
    # The weights file keeps each category's threshold as chosen, and every category's second stage.
    output = tmp_path / "model.npz"
    result.weights.save(output)
    trained = LearnedClassifier(output)
    assert trained.name == "terms+ngrams-cf"
    assert trained.model.weights.thresholds.tolist() == pytest.approx([t.value for t in result.thresholds], abs=1e-6)
    assert set(result.second_c) == set(CATEGORIES)
    assert all(c in (1.0, 10.0, 100.0) for c in result.second_c.values())
    stacked = trained.model.weights.stacked
    assert stacked is not None and stacked.all()
    # Without a second stage (as before v10) the first stage is the same and scores alone.
    plain = train(
        train_path, validation_path, version="cf", composed_per_category=4, c_grid=(8.0,), folds=2, second_c_grid=()
    )
    assert plain.second_c == {} and not plain.weights.any_stacked
    assert np.array_equal(plain.weights.coef, result.weights.coef)


def test_a_stacked_category_takes_the_second_stage_probability_and_the_others_the_first(tmp_path):
    import numpy as np

    from tickets.wellbeing.model import HASHED_COLUMNS, NgramModel, second_stage_columns

    # Weights with no n-gram weight: each category's first-stage logit is its bias, so the second stage's
    # columns are known. Self-harm takes a second stage, the others do not.
    n, at = len(CATEGORIES), list(CATEGORIES).index(Category.SELF_HARM)
    intercept = np.linspace(-2.0, 1.0, n).astype(np.float32)
    stack_coef = np.zeros((3 * n, n), dtype=np.float32)
    stack_coef[:, at] = np.arange(3 * n) / 10
    stacked = np.array([category == Category.SELF_HARM for category in CATEGORIES])
    stack_intercept = np.zeros(n, dtype=np.float32)
    stack_intercept[at] = -1.5
    weights = Weights(
        coef=np.zeros((2 * HASHED_COLUMNS + n, n), dtype=np.float32),
        intercept=intercept,
        thresholds=np.full(n, 0.5, dtype=np.float32),
        categories=tuple(CATEGORIES),
        version="stack",
        idf=np.ones((2, HASHED_COLUMNS), dtype=np.float32),
        stacked=stacked,
        stack_coef=stack_coef,
        stack_intercept=stack_intercept,
    )
    path = tmp_path / "model.npz"
    weights.save(path)
    loaded = Weights.load(path)
    assert loaded.stacked is not None and loaded.stacked.tolist() == stacked.tolist()
    terms = {Category.SELF_HARM: 0.5, Category.VIOLENCE: 0.25}
    got = NgramModel(loaded).probabilities("qualquer texto", terms)
    term_row = np.array([terms.get(category, 0.0) for category in CATEGORIES])
    second = second_stage_columns(intercept.astype(np.float64), term_row) @ stack_coef[:, at] - 1.5
    assert got[Category.SELF_HARM] == pytest.approx(1 / (1 + np.exp(-second)), rel=1e-5)
    for index, category in enumerate(CATEGORIES):
        if category != Category.SELF_HARM:
            assert got[category] == pytest.approx(1 / (1 + np.exp(-intercept[index])), rel=1e-5)
    # Weights written before v10 have no second-stage arrays: they load without one and score as before.
    with np.load(path) as stored:
        older = {key: stored[key] for key in stored.files if not key.startswith("stack")}
    np.savez_compressed(path, **older)
    assert Weights.load(path).stacked is None
    first = NgramModel(Weights.load(path)).probabilities("qualquer texto", terms)
    assert first[Category.SELF_HARM] == pytest.approx(1 / (1 + np.exp(-intercept[at])), rel=1e-5)


def test_the_report_prints_precision_recall_and_confusion_on_the_test_split():
    out = StringIO()
    call_command("sensitivity_report", stdout=out)
    text = out.getvalue()
    assert "test.tsv" in text
    assert "confusion" in text
    for category in CATEGORIES:
        assert category in text


def test_scoring_row_by_row_equals_the_feature_matrix_times_the_weights(classifier):
    import numpy as np

    from tickets.wellbeing.detection import normalise
    from tickets.wellbeing.model import windows

    model = classifier.model
    for case in read_cases(TEST_SPLIT)[::10]:
        folded = normalise(case.text * 40)  # long enough for several windows
        found = {c: confidence for c, (confidence, _p) in classifier.terms.scores(folded).items()}
        parts = windows(folded)
        matrix = model.featurizer.transform(parts, [found] * len(parts))
        expected = np.asarray(matrix @ model.weights.coef) + model.weights.intercept
        assert np.allclose(model.logits(parts, found), expected)


def _labelled_texts() -> list[str]:
    texts = [case.text for path in sorted(LABELLED_DIR.glob("*.tsv")) for case in read_cases(path)]
    sample = texts[::4]
    # Longer mail (several windows, some cut inside a word), one-letter words, tokens past 32 characters.
    sample += [" ".join(texts[i : i + 60]) for i in range(0, 600, 60)]
    sample += ["a b c d e f g", "x", "", "  \n\t ", "ab " * 900, "senha:" + "k9z" * 900, "palavra " * 300]
    return sample


def test_scoring_without_scikit_learn_gives_the_vectorizers_probabilities_on_the_labelled_set(classifier):
    import numpy as np

    from tickets.wellbeing.detection import normalise
    from tickets.wellbeing.model import second_stage_columns, windows

    model = classifier.model
    weights = model.weights
    texts = _labelled_texts()
    assert len(texts) > 300
    for text in texts:
        folded = normalise(text)
        found = {c: confidence for c, (confidence, _p) in classifier.terms.scores(folded).items()}
        parts = windows(folded)
        matrix = model.featurizer.transform(parts, [found] * len(parts))
        expected = np.asarray(matrix @ model.weights.coef) + model.weights.intercept
        assert np.allclose(model.logits(parts, found), expected, rtol=1e-6, atol=1e-6), text[:80]
        best = expected.max(axis=0)
        probabilities = 1.0 / (1.0 + np.exp(-best))
        if weights.stacked is not None and weights.stack_coef is not None and weights.stack_intercept is not None:
            # The categories that take a second stage: its probability over the first stage's best windows.
            terms = np.array([found.get(c, 0.0) for c in weights.categories])
            second = second_stage_columns(best, terms) @ weights.stack_coef + weights.stack_intercept
            probabilities = np.where(weights.stacked, 1.0 / (1.0 + np.exp(-second)), probabilities)
        got = model.probabilities(folded, found)
        assert np.allclose([got[c] for c in model.weights.categories], probabilities, rtol=1e-6, atol=1e-9)


def test_the_numpy_n_gram_hash_is_scikit_learns_murmurhash():
    import random

    import numpy as np
    from sklearn.utils import murmurhash3_32 as reference

    from tickets.wellbeing.model import murmurhash3_32

    rng = random.Random(16)
    text = bytes(rng.randrange(256) for _ in range(3000))
    lengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 35, 36, 37, 100, 999]
    keys = [(rng.randrange(0, 2000), rng.choice(lengths)) for _ in range(2000)] + [(0, 3000), (2999, 1), (3000, 0)]
    starts = np.array([start for start, _length in keys], dtype=np.int64)
    sizes = np.array([length for _start, length in keys], dtype=np.int64)
    expected = [reference(text[start : start + length], seed=0) for start, length in keys]
    assert murmurhash3_32(text, starts, sizes).tolist() == expected


def test_the_scoring_path_reads_the_vectorizers_token_pattern_and_never_imports_scikit_learn():
    import subprocess
    import sys

    from tickets.wellbeing.model import _TOKEN, Featurizer

    assert Featurizer().word.token_pattern == _TOKEN.pattern
    # Importing scikit-learn and SciPy costs a worker most of a second of CPU.
    script = (
        "import sys, django; django.setup()\n"
        "from tickets.wellbeing.model import LearnedClassifier\n"
        "LearnedClassifier().classify('Estou pensando em suicídio, não aguento mais')\n"
        "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules, 'scikit-learn was imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[3])
