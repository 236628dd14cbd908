"""Phonemes from the real espeak-ng, for sound-alike matching."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from mockinterview import phones


def sim(a: str, b: str) -> float:
    pa, pb = phones.phonemes([a, b])
    return Levenshtein.normalized_similarity(pa, pb)


def test_mishearings_are_closer_in_phonemes_than_unrelated_words():
    # what tiny.en wrote for a term, against the term: close in sound
    assert sim("psycho sign similarity", "cosine similarity") >= 0.8
    assert sim("regular nation", "regularization") >= 0.75
    assert sim("ex g boost", "XGBoost") == 1.0
    assert sim("el two", "L2") == 1.0
    # unrelated words of similar length: far
    assert sim("the weather today", "cosine similarity") < 0.4
    assert sim("banana", "regularization") < 0.4


def test_batches_map_one_to_one_and_odd_texts_do_not_shift_the_rest():
    texts = ["optimizer", "A/B test.", "", "what? no. yes!", "k-means", "optimizer"]
    got = phones.phonemes(texts)
    assert got is not None and len(got) == len(texts)
    assert got[0] == got[5] and got[0]
    assert got[2] == ""
    assert got[4] == phones.phonemes(["k means"])[0]
    assert "ˈ" not in got[0] and " " not in got[1]  # folded: no stress marks, no spaces


def test_without_espeak_the_answer_is_none(monkeypatch):
    monkeypatch.setattr(phones.shutil, "which", lambda name: None)
    assert phones.phonemes(["never seen before xyzzy"]) is None
