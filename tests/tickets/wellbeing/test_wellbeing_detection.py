"""Sensitive-content detection: the bilingual labelled set, idioms that must not flag, spellings that must."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tickets.wellbeing import detection
from tickets.wellbeing.detection import CATEGORIES, TermListClassifier, Verdict, normalise
from tickets.wellbeing.evaluation import evaluate, read_cases

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sensitivity"
# The set the lists were written against must stay well above this; the held-out set is an honest estimate.
FLOOR = 0.9
HOLDOUT_PRECISION_FLOOR = 0.8
HOLDOUT_RECALL_FLOOR = 0.6


@pytest.fixture(scope="module")
def classifier():
    return TermListClassifier()


def test_every_category_meets_the_precision_and_recall_floor_on_the_labelled_set(classifier):
    cases = read_cases(FIXTURES / "cases.tsv")
    assert {c for case in cases for c in case.expected} == set(CATEGORIES)
    assert {case.language for case in cases} == {"pt", "en"}
    report = evaluate(classifier, cases)
    for category, score in report.scores.items():
        assert score.true_positives >= 10, category
        assert score.precision >= FLOOR, (category, score)
        assert score.recall >= FLOOR, (category, score)


def test_held_out_set_written_after_tuning_stays_above_a_lower_floor(classifier):
    report = evaluate(classifier, read_cases(FIXTURES / "holdout.tsv"))
    tp = sum(s.true_positives for s in report.scores.values())
    fp = sum(s.false_positives for s in report.scores.values())
    fn = sum(s.false_negatives for s in report.scores.values())
    assert tp / (tp + fp) >= HOLDOUT_PRECISION_FLOOR
    assert tp / (tp + fn) >= HOLDOUT_RECALL_FLOOR


@pytest.mark.parametrize(
    "text",
    [
        "this game is killing me",
        "matei a saudade",
        "a live foi um massacre de risadas",
        "I'm dying of laughter",
        "esse jogo tá me matando",
        "we will shoot a video at school tomorrow",
        "my blood test was fine",
    ],
)
def test_idioms_and_everyday_talk_are_not_flagged(classifier, text):
    assert classifier.classify(text).categories == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Eu QUERO ME MATAR", "self_harm"),
        ("quero morreeeer, nao quero mais viver", "self_harm"),
        ("pensando em su1c1d10", "self_harm"),
        ("suicídio", "self_harm"),
        ("someone keeps h4rassing me", "bullying"),
        ("vou te matar", "violence"),
        ("minha filha de 12 anos recebeu pedido de nudes", "child_safety"),
        ("they are torturing a puppy", "animal_harm"),
    ],
)
def test_accents_case_digit_spellings_and_stretched_letters_still_match(classifier, text, category):
    assert category in classifier.classify(text).categories


def test_violence_in_a_game_counts_for_less_than_a_threat(classifier):
    assert classifier.classify("I will shoot you").categories == ["violence"]
    assert classifier.classify("in the game I will shoot you first, noob").categories == []


def test_a_sexual_word_alone_or_a_child_alone_is_not_child_safety(classifier):
    assert classifier.classify("minha filha quer criar uma conta").categories == []
    assert classifier.classify("conteúdo adulto foi marcado por engano").categories == []
    assert classifier.classify("um adulto mandou nudes para uma criança").categories == ["child_safety"]


def test_verdict_keeps_categories_confidence_and_the_matched_phrases(classifier):
    stored = classifier.classify("Oi. Estou pensando em suicídio. Vou te matar, seu lixo.").as_json()
    assert stored["categories"] == ["bullying", "self_harm", "violence"]
    assert stored["classifier"] == "terms-v1"
    assert stored["phrases"]["self_harm"] == ["suicidio"]
    assert 0.5 <= stored["confidence"]["violence"] <= 1


def test_normalise_folds_accents_case_apostrophes_and_spellings():
    assert normalise("Não AGUENTO mais, I'm t1red, ação, sooooo") == "nao aguento mais, im tired, acao, so"
    assert normalise("14 88 e 12yo") == "14 88 e 12yo"  # numbers stay numbers


def test_a_broken_term_file_names_its_line(tmp_path):
    broken = tmp_path / "xx.txt"
    broken.write_text("[violence]\nfine phrase\nbad (phrase\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.txt:3"):
        TermListClassifier([broken])
    unknown = tmp_path / "yy.txt"
    unknown.write_text("[gossip]\nsomething\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown section"):
        TermListClassifier([unknown])


class EverythingIsViolence:
    name = "test-model"

    def classify(self, text):
        return Verdict(findings=(detection.Finding("violence", 1.0, ()),), classifier=self.name)


def test_the_classifier_is_pluggable_through_settings(settings):
    settings.ACOLHE_SENSITIVITY_CLASSIFIER = f"{__name__}.EverythingIsViolence"
    assert detection.classify("bom dia").categories == ["violence"]
    settings.ACOLHE_SENSITIVITY_CLASSIFIER = "tickets.wellbeing.detection.TermListClassifier"
    assert detection.classify("bom dia").categories == []


def test_report_command_prints_precision_and_recall_per_category():
    out = StringIO()
    call_command("sensitivity_report", "--misses", stdout=out)
    text = out.getvalue()
    for category in CATEGORIES:
        assert category in text
    assert "precision" in text and "recall" in text
    assert "exactly right" in text
