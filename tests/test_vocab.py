"""The vocabulary pass: question terms, hotwords, guarded fusion, sound-alike correction."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mockinterview import vocab
from mockinterview.schema import Segment, Transcript, Word
from mockinterview.textnorm import contains_phrase, normalize, wer

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"

TERMS = ["regularization", "XGBoost", "L2", "Gini impurity", "entropy", "softmax", "RAG",
         "cross-validation", "backpropagation", "precision recall curve", "recall", "precision",
         "k-means", "dropout", "batch normalization", "LightGBM", "BM25"]


def transcript_of(marked: str, t0: float = 0.0, step: float = 0.5) -> Transcript:
    """A decoder-like transcript: one segment, one word every ``step`` seconds. A word marked
    with ``~`` is one the decoder was unsure of (probability 0.2, as tiny.en gave "regular nation"
    0.04 and 0.11); the others get 0.95."""
    words = [Word(word=w.rstrip("~"), start=round(t0 + i * step, 3),
                  end=round(t0 + i * step + 0.4, 3), probability=0.2 if w.endswith("~") else 0.95)
             for i, w in enumerate(marked.split())]
    text = " ".join(w.word for w in words)
    return Transcript(text=text, segments=[Segment(start=t0, end=words[-1].end, text=text,
                                                   words=words)])


def plain(marked: str) -> str:
    return marked.replace("~", "")


def replay(raw_words: list[str], corrections) -> list[str]:
    """Apply the listed corrections to the raw words: must give the corrected words."""
    out = list(raw_words)
    for c in sorted(corrections, key=lambda c: -c.position):
        n = len(c.original.split())
        assert " ".join(out[c.position:c.position + n]) == c.original
        out[c.position:c.position + n] = c.corrected.split()
    return out


def all_words(t: Transcript) -> list[Word]:
    return [w for s in t.segments for w in s.words]


# ----------------------------------------------------------------------------- correction


@pytest.mark.parametrize(
    ("heard", "expected", "original", "corrected"),
    [
        ("we used regular~ nation~ to avoid overfitting", "we used regularization to avoid "
         "overfitting", "regular nation", "regularization"),
        ("I trained ex~ g~ boost on the features", "I trained XGBoost on the features",
         "ex g boost", "XGBoost"),
        ("then I added el~ two~ on the weights", "then I added L2 on the weights", "el two", "L2"),
        ("the split uses DNA~ impurity or entropy", "the split uses Gini impurity or entropy",
         "DNA impurity", "Gini impurity"),
        ("with are~ a~ g~ you retrieve documents", "with RAG you retrieve documents", "are a g",
         "RAG"),
        ("it ends with a soft max layer", "it ends with a softmax layer", "soft max", "softmax"),
        ("we pick lambda by cross-malination~", "we pick lambda by cross-validation",
         "cross-malination", "cross-validation"),
        ("the precision recoil~ curve is more honest", "the precision recall curve is more "
         "honest", "precision recoil curve", "precision recall curve"),
    ],
)
def test_near_misses_become_the_expected_term(heard, expected, original, corrected) -> None:
    t = vocab.correct(transcript_of(heard), TERMS)
    assert t.text == expected
    assert t.raw_text == plain(heard)
    assert [(c.original, c.corrected) for c in t.corrections] == [(original, corrected)]
    c = t.corrections[0]
    assert plain(heard).split()[c.position:c.position + len(original.split())] == original.split()
    assert 0 < c.score <= 1


def test_words_the_decoder_was_sure_of_keep_their_letters() -> None:
    """Only spacing is fixed in words heard with confidence: "soft max" -> softmax, but a
    confident "regular nation" stays (it may be what was said)."""
    t = vocab.correct(transcript_of("we used regular nation and a soft max"), TERMS)
    assert t.text == "we used regular nation and a softmax"
    typed = vocab.correct(Transcript(text="we used regular nation", source="text"), TERMS)
    assert typed.text == "we used regular nation"


def test_sentence_capital_and_punctuation_are_kept() -> None:
    t = vocab.correct(transcript_of("Regular~ nation,~ in short, shrinks weights."), TERMS)
    assert t.text == "Regularization, in short, shrinks weights."


@pytest.mark.parametrize(
    "text",
    [
        "the regular~ customers~ of the nation~ were happy",  # common words, not adjacent
        "a nation~ is regular~",
        "we recall~ the precise moment",  # one common word never becomes a one-word term
        "the reason is rag~ and bone",
        "I drop~ it out~ of the window",
        "the gene~ pool and the DNA~ test",
        "it was tedious~ to~ read",  # sounds like "t test" to Metaphone
        "he felt a reset~ was due",  # "a reset" is not R-C-T
        "we used regularization~ again",  # adding words ("L1 regularization") is not a repair
        "the eigenvalue~ is large",  # nor changing an inflection ("eigenvalues")
    ],
)
def test_common_english_is_left_alone(text: str) -> None:
    terms = TERMS + ["t-test", "RCT", "L1 regularization", "eigenvalues"]
    t = vocab.correct(transcript_of(text), terms)
    assert t.text == plain(text)
    assert t.corrections == []


def test_terms_not_expected_are_not_corrected() -> None:
    t = vocab.correct(transcript_of("we used regular~ nation~ here"), ["XGBoost", "softmax"])
    assert t.text == "we used regular nation here"
    assert t.corrections == []


def test_correct_terms_are_protected() -> None:
    t = vocab.correct(transcript_of("precision and recall and the F1 score"), TERMS)
    assert t.corrections == []


def test_raw_corrected_and_corrections_are_consistent() -> None:
    heard = "I trained ex~ g~ boost with el~ two~ and regular~ nation~ then a soft max on top"
    t = vocab.correct(transcript_of(heard), TERMS)
    assert len(t.corrections) == 4
    assert replay(t.raw_text.split(), t.corrections) == t.text.split()
    assert t.text == " ".join(w.word for w in all_words(t))
    assert t.segments[0].text == t.text


def test_merged_words_span_first_start_to_last_end() -> None:
    heard = "I trained ex~ g~ boost on it"
    t = vocab.correct(transcript_of(heard), TERMS)
    words = all_words(t)
    assert [w.word for w in words] == ["I", "trained", "XGBoost", "on", "it"]
    before = all_words(transcript_of(heard))
    assert words[2].start == before[2].start  # "ex"
    assert words[2].end == before[4].end  # "boost"
    assert words[3].start == before[5].start
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in words)


def test_multi_word_term_from_fewer_words_gets_increasing_times() -> None:
    t = vocab.correct(transcript_of("we need the drop out rate"), ["dropout rate"])
    assert t.text == "we need the dropout rate"
    words = all_words(t)
    assert [w.word for w in words][3:] == ["dropout", "rate"]
    assert words[3].start < words[3].end <= words[4].start < words[4].end


def test_correcting_twice_keeps_raw_text_and_positions() -> None:
    heard = "we used regular~ nation~ and ex~ g~ boost"
    once = vocab.correct(transcript_of(heard), ["regularization"])
    twice = vocab.correct(once, ["XGBoost"])
    heard = plain(heard)
    assert twice.raw_text == heard
    assert twice.text == "we used regularization and XGBoost"
    assert replay(heard.split(), twice.corrections) == twice.text.split()
    assert [c.position for c in twice.corrections] == [2, 5]


def test_a_corrected_word_is_not_corrected_again() -> None:
    """Each raw word is changed at most once, so the corrections replay on the raw text."""
    once = vocab.correct(transcript_of("we used el~ two~ ex~ g~ boost"), ["L2"])
    assert once.text == "we used L2 ex g boost"
    twice = vocab.correct(once, ["L2 XGBoost"])
    assert replay(twice.raw_text.split(), twice.corrections) == twice.text.split()
    spans = [set(range(c.position, c.position + len(c.original.split())))
             for c in twice.corrections]
    assert all(not (a & b) for k, a in enumerate(spans) for b in spans[k + 1:])
    assert twice.corrections[0] == once.corrections[0]


def test_text_only_transcript() -> None:
    t = vocab.correct(Transcript(text="we used soft max and drop out", source="text"), TERMS)
    assert t.text == "we used softmax and dropout"
    assert [c.position for c in t.corrections] == [2, 5]
    assert t.raw_text == "we used soft max and drop out"


# ----------------------------------------------------------------------------- fusion


def test_fusion_imports_an_aligned_term_and_records_it() -> None:
    plain = transcript_of("the split uses needed impurity at each node")
    biased = transcript_of("the split uses Gini impurity at each node")
    fused = vocab.fuse(plain, biased, ["Gini impurity"])
    assert fused.text == "the split uses Gini impurity at each node"
    assert fused.raw_text == plain.text
    assert len(fused.corrections) == 1
    assert fused.corrections[0].corrected in ("Gini", "Gini impurity")
    assert replay(plain.text.split(), fused.corrections) == fused.text.split()


def test_fusion_rejects_a_hotword_inserted_after_the_speech() -> None:
    plain = transcript_of("it was the first great sorrow of his life")
    biased = transcript_of("it was the first great sorrow of his life RAG")
    fused = vocab.fuse(plain, biased, ["RAG"])
    assert fused.text == plain.text
    assert fused.corrections == []


def test_fusion_rejects_a_loop_and_a_copied_hotword_list() -> None:
    plain = transcript_of("the lasso penalty gives sparse weights and we tune lambda")
    looping = transcript_of("the lasso penalty gives sparsity sparsity sparsity sparsity lambda")
    fused = vocab.fuse(plain, looping, ["lasso", "sparsity", "lambda"])
    assert fused.text == plain.text
    unrelated = transcript_of("L1 lasso sparsity elastic net lambda cross-validation ridge L2 a")
    fused = vocab.fuse(plain, unrelated, ["L1", "lasso", "sparsity", "elastic net", "ridge"])
    assert "lasso penalty" in fused.text
    assert "elastic net" not in fused.text


def test_fusion_never_trades_away_a_term_the_plain_pass_heard() -> None:
    plain = transcript_of("we used dropout here")
    biased = transcript_of("we used drop rate here")
    assert vocab.fuse(plain, biased, ["dropout", "drop rate"]).text == plain.text


# ----------------------------------------------------------------------------- terms


def test_question_terms_from_the_bank(bank) -> None:
    q = bank.questions["tech-decision-tree"]
    terms = vocab.question_terms(q, bank.rubric("technical"))
    norm = [tuple(normalize(t)) for t in terms]
    assert ("gini", "impurity") in norm
    assert len(norm) == len(set(norm))
    # the question's own vocabulary comes before the section's
    assert norm.index(("gini", "impurity")) < norm.index(("softmax",))
    only_section = vocab.question_terms(None, bank.rubric("technical"))
    assert "XGBoost" in only_section and "gini" not in [t.lower() for t in only_section]


def test_is_technical() -> None:
    assert vocab.is_technical("XGBoost")
    assert vocab.is_technical("k-means")
    assert vocab.is_technical("heteroscedasticity")
    assert vocab.is_technical("L2 penalty")
    assert not vocab.is_technical("labelled data")
    assert not vocab.is_technical("patterns in the data")
    assert not vocab.is_technical("a long phrasing that reads like a whole sentence")


def test_hotwords_budget_order_and_common_words() -> None:
    terms = ["Gini impurity", "precision", "XGBoost", "heteroscedasticity", "recall"] + [
        f"term{i}x" for i in range(200)]
    hw = vocab.hotwords_for(terms, max_tokens=40)
    assert hw.startswith("Gini impurity XGBoost heteroscedasticity")
    assert "precision" not in hw.split() and "recall" not in hw.split()
    assert vocab.bpe_pieces(hw) <= 40
    assert "," not in hw
    assert vocab.hotwords_for([]) == ""


def test_spoken_forms() -> None:
    forms = vocab.spoken_forms("XGBoost")
    assert ["ex", "gee", "boost"] in forms
    assert ["el", "two"] in vocab.spoken_forms("L2")
    assert ["bee", "em", "twenty", "five"] in vocab.spoken_forms("BM25")


# ----------------------------------------------------------------------------- real audio


def _clips() -> list[dict[str, str]]:
    manifest = SPEECH / "manifest.tsv"
    if not manifest.exists():
        pytest.skip(f"{manifest} not found")
    return list(csv.DictReader(manifest.open(encoding="utf-8"), delimiter="\t"))


def test_real_speech_is_not_changed_by_any_bank_vocabulary(transcriber, bank) -> None:
    every = vocab.bank_terms(bank)
    for clip in _clips():
        plain = transcriber.transcribe(SPEECH / clip["file"])
        corrected = vocab.correct(plain, every)
        assert corrected.corrections == [], clip["file"]
        assert corrected.text == plain.text


@pytest.mark.parametrize("qid", ["tech-decision-tree", "tech-lora-peft", "sd-ml-monitoring"])
def test_real_speech_with_biasing_is_unchanged(transcriber, bank, qid: str) -> None:
    """Biasing towards a question's vocabulary (and the verified pass with the whole bank's)
    must not alter real speech that holds none of it (with the question's hotwords tiny.en heard
    "cotton" as "carton" here, and appended a hotword after the last word: the fusion must keep
    both out)."""
    q = bank.questions[qid]
    terms = vocab.question_terms(q, bank.rubric(q.section))
    for clip in _clips():
        plain = transcriber.transcribe(SPEECH / clip["file"])
        full = vocab.transcribe_with_vocabulary(transcriber, SPEECH / clip["file"], terms,
                                                wider_terms=vocab.bank_terms(bank))
        assert full.corrections == [], clip["file"]
        assert full.text == plain.text
        assert wer(clip["reference"], full.text) == wer(clip["reference"], plain.text)


def test_synthesised_answer_with_biasing(transcriber, tmp_path: Path) -> None:
    from mockinterview.testing.answers import EspeakCliVoice

    answer = ("For the split I would measure Gini impurity, and I would regularise the trees "
              "with L2 regularization, the way XGBoost does.")
    wav = tmp_path / "answer.wav"
    # the same espeak-ng voice, rendered identically every run (see EspeakCliVoice)
    EspeakCliVoice().render(answer, wav)
    terms = ["Gini impurity", "L2 regularization", "XGBoost", "entropy", "information gain"]
    plain = transcriber.transcribe(wav)
    full = vocab.transcribe_with_vocabulary(transcriber, wav, terms)
    hyp = normalize(full.text)
    found = [t for t in ("Gini impurity", "L2 regularization", "XGBoost")
             if contains_phrase(hyp, normalize(t))]
    assert found == ["Gini impurity", "L2 regularization", "XGBoost"], full.text
    assert wer(answer, full.text) <= wer(answer, plain.text)
    assert full.raw_text == plain.text
    if full.text != plain.text:
        assert full.corrections
    words = all_words(full)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert full.text == " ".join(s.text for s in full.segments)


# ----------------------------------------------------------------------------- verification


def test_windows_stay_under_the_encoder_span_and_cut_in_the_widest_pause() -> None:
    # about 66 s of words every 0.5 s, with a 0.9 s pause after the 41st word (20.4 s) and
    # another after the 91st (45.8 s)
    words, t = [], 0.0
    for i in range(130):
        words.append(vocab.rebuild._W(f"w{i}", t, t + 0.4, 0.9, i, 0))
        t += 0.5 + (0.8 if i in (40, 90) else 0.0)
    wins = vocab.verification._windows(words, t + 0.5, 28.0)
    assert [w[0] for w in wins][0] == 0 and wins[-1][1] == len(words)
    for (a, b, t0, t1), nxt in zip(wins, wins[1:] + [None], strict=True):
        assert t1 - t0 <= 30.0 and a < b
        assert words[a].start >= t0 and words[b - 1].end <= t1
        if nxt is not None:
            assert nxt[0] == b and nxt[2] == t1  # windows tile the answer
    # the cuts fall in the long pauses
    cut_times = [t1 for _a, _b, _t0, t1 in wins[:-1]]
    assert len(cut_times) == 2
    assert 20.4 < cut_times[0] < 21.3 and 45.8 < cut_times[1] < 46.7


def test_terms_keep_their_best_cased_spelling() -> None:
    assert vocab.terms._dedupe(["lightgbm", "LightGBM", "smote", "SMOTE", "xgboost"]) == [
        "LightGBM", "SMOTE", "xgboost"]


def test_verified_pass_keeps_edits_the_audio_supports(transcriber, bank, tmp_path) -> None:
    """Real audio, real model: the verified pass proposes terms and keeps an edit only when the
    model scores the audio higher with it; each kept edit says so and replays on the raw text."""
    from mockinterview.testing.answers import EspeakCliVoice

    answer = ("With a huge sample almost any tiny effect is significant, so I always look at the "
              "effect size and the confidence interval too, and I watch out for multiple "
              "comparisons. For sparse features I would try LightGBM with early stopping.")
    wav = tmp_path / "answer.wav"
    EspeakCliVoice().render(answer, wav)
    q = bank.questions["tech-p-value"]
    terms = vocab.question_terms(q, bank.rubric(q.section))
    plain = transcriber.transcribe(wav)
    full = vocab.transcribe_with_vocabulary(transcriber, wav, terms,
                                            wider_terms=vocab.bank_terms(bank))
    assert wer(answer, full.text) <= wer(answer, plain.text)
    assert full.raw_text == plain.text
    raw_words = [w.word for s in plain.segments for w in s.words]
    assert replay(raw_words, full.corrections) == [w.word for w in all_words(full)]
    verified = [c for c in full.corrections if c.via == "verified"]
    for c in verified:
        assert c.gain is not None and c.gain > vocab.VerifyOptions().margin
    hyp = normalize(full.text)
    expected = ["effect size", "confidence interval", "multiple comparisons", "LightGBM"]
    found = [t for t in expected if contains_phrase(hyp, normalize(t))]
    missed_plain = [t for t in expected if not contains_phrase(normalize(plain.text),
                                                               normalize(t))]
    assert len(found) >= len(expected) - 1, (full.text, full.corrections)
    assert len(found) > len(expected) - len(missed_plain) or not missed_plain, full.text


def test_scorer_prefers_what_was_said(transcriber, tmp_path) -> None:
    from mockinterview.speech.audio import load_audio
    from mockinterview.testing.answers import EspeakCliVoice

    said = "I would check the confidence interval and the effect size."
    wav = tmp_path / "said.wav"
    EspeakCliVoice().render(said, wav)
    score = transcriber.scorer(load_audio(wav))
    right = score(said)
    assert right > score("I would check the conference in a world and the affect size.") + 3
    assert right > score("The weather is nice today and I like to go for a walk.") + 10
    assert right < 0


@pytest.mark.parametrize("heard,expected", [
    ("gradient boosting like XGBoost or light GBM, built",
     "gradient boosting like XGBoost or LightGBM, built"),
    ("Q LoRA goes further", "QLoRA goes further"),
    ("then we re rank them", "then we rerank them"),
    # unchanged: the term's own words, common words, letters that are not the term's
    ("the k means method", "the k means method"),
    ("we need any more data", "we need any more data"),
    ("a light model on a GBM", "a light model on a GBM"),
])
def test_respell_writes_a_heard_term_the_way_the_vocabulary_spells_it(heard, expected):
    t = transcript_of(heard)
    out = vocab.respell(t, TERMS + ["QLoRA", "rerank", "anymore"])
    assert out.text == expected
    assert out.raw_text == heard
    assert all(c.via == "spelling" for c in out.corrections)
    assert len(out.corrections) == (heard != expected)
    assert replay(heard.split(), out.corrections) == expected.split()
    # the rewritten words keep the time the heard ones spanned
    assert all_words(out)[0].start == all_words(t)[0].start
    assert all_words(out)[-1].end == all_words(t)[-1].end


def test_respell_joins_a_term_whisper_split_across_two_segments():
    first = transcript_of("boosting like XGBoost or light")
    second = transcript_of("GBM, built shallow trees", t0=2.6)
    far = transcript_of("GBM, built shallow trees", t0=4.0)  # after a pause: another thought
    for nxt, expected in ((second, "boosting like XGBoost or LightGBM, built shallow trees"),
                          (far, "boosting like XGBoost or light GBM, built shallow trees")):
        t = Transcript(text=first.text + " " + nxt.text,
                       segments=first.segments + nxt.segments)
        out = vocab.respell(t, TERMS)
        assert out.text == expected
        assert sum(bool(s.words) for s in out.segments) >= 1
        assert [w.word for w in all_words(out)] == expected.split()


@pytest.mark.parametrize("term,heard_last,forms", [
    ("scalers", "scalar", ["scalers", "scaler"]),
    ("embedding", "embeddings", ["embedding", "embeddings"]),
    ("vanishing gradients", "gradient", ["vanishing gradients", "vanishing gradient"]),
    ("lasso", "lassos", ["lasso", "lassos"]),
    ("PCA", "pcs", ["PCA"]),  # letters, not a noun to inflect
    ("bias", "buyer", ["bias"]),  # "bias" is no plural
    ("analysis", "analyst", ["analysis"]),
])
def test_verification_also_proposes_the_term_in_the_number_the_candidate_said(term, heard_last,
                                                                               forms):
    assert vocab.verification._number_forms(term, heard_last) == forms
