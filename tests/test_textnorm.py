"""Text normalisation and WER: the same text written and spoken must compare equal."""

from __future__ import annotations

import pytest

from mockinterview.textnorm import american, contains_phrase, edit_distance, normalize, wer


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("L2 regularization", "l two regularisation"),
        ("An F1-score of 0.85", "an F one score of zero point eighty five"),
        ("k-means with 25 clusters", "K means with twenty-five clusters"),
        ("1,000 trees", "one thousand trees"),
        ("105 features", "one hundred and five features"),
        ("It's labelled data, 5% of it", "its labeled data five percent of it"),
        ("GPT-4", "gpt four"),
        ("The behaviour of the optimiser", "the behavior of the optimizer"),
    ],
)
def test_written_and_spoken_forms_normalise_alike(written: str, spoken: str) -> None:
    assert normalize(written) == normalize(spoken)


def test_normalize_lowercases_and_strips_punctuation() -> None:
    assert normalize("Hello, World! (ROC-AUC)") == ["hello", "world", "roc", "auc"]


def test_common_words_that_end_in_ise_are_kept() -> None:
    for w in ("precise", "noise", "exercise", "raise", "wise", "promise", "expertise"):
        assert american(w) == w
    assert american("regularisation") == "regularization"
    assert american("tokenised") == "tokenized"


def test_separate_numbers_stay_separate() -> None:
    assert normalize("one or two layers") == ["1", "or", "2", "layers"]
    assert normalize("two three") == ["2", "3"]
    assert normalize("a one") == ["a", "1"]  # "a" never joins a number


def test_empty_text() -> None:
    assert normalize("") == []
    assert wer("", "") == 0.0
    assert wer("", "something") == 1.0


def test_edit_distance_counts_each_operation() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert edit_distance(["a", "b", "c"], ["a", "x", "c"]) == 1  # substitution
    assert edit_distance(["a", "b", "c"], ["a", "c"]) == 1  # deletion
    assert edit_distance(["a", "b"], ["a", "b", "c", "d"]) == 2  # insertions
    assert edit_distance([], ["x"]) == 1


def test_wer_after_normalisation() -> None:
    assert wer("Regularisation reduces variance.", "regularization reduces variance") == 0.0
    assert wer("the cat sat on the mat", "the cat sat on a mat") == pytest.approx(1 / 6)
    assert wer("Gini impurity", "DNA impurity") == 0.5


def test_contains_phrase() -> None:
    hay = normalize("we used L2 regularization and ROC AUC")
    assert contains_phrase(hay, normalize("L2 regularization"))
    assert contains_phrase(hay, normalize("ROC-AUC"))
    assert not contains_phrase(hay, normalize("L1"))
    assert not contains_phrase(hay, [])
