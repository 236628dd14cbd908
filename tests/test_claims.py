"""Claims, not words: stated claims, wrong claims and swapped pairs, on the real bank's pairs.

Everything here is the real offline engine on typed answers; the bank is the shipped one (its
rubrics/pairs.yaml), or a small question built in the test where the test needs to control the
key points' claims.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mockinterview.bank import check_bank, load_bank
from mockinterview.interviewer.base import AnswerContext
from mockinterview.interviewer.claims import (
    _literal_hit,
    find_swapped_pairs,
    find_wrong_misconceptions,
    match_claim,
    read_claims,
    relevant_pairs,
    sentences,
)
from mockinterview.interviewer.offline import OfflineBrain
from mockinterview.interviewer.scoring import delivery_metrics
from mockinterview.schema import KeyPoint, Misconception, Question, Transcript


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def swapped(text: str, bank) -> list[str]:
    return [w.source for w in find_swapped_pairs(sentences(text), bank.pairs)]


# ----------------------------------------------------------------------------- pairs


@pytest.mark.parametrize("text,pair", [
    ("High bias means the model is too complex and overfits.", "pair:bias-variance"),
    ("Precision is the fraction of the actual positives that the model catches.",
     "pair:precision-recall"),
    ("L2 regularisation drives the weights to exactly zero, so it does feature selection.",
     "pair:l1-l2"),
    ("Boosting trains the models in parallel on bootstrap samples and averages them.",
     "pair:bagging-boosting"),
    ("Overfitting is caused by high bias.", "pair:underfitting-overfitting"),
    ("A type I error is a false negative.", "pair:type-i-ii-errors"),
    # one side's name given as the other's, whatever follows
    ("L1, which is ridge regression, adds lambda times the sum of squared weights.",
     "pair:l1-l2"),
    ("Then there is L2, also called lasso, which is what we used.", "pair:l1-l2"),
    ("The share of the actual positives that we catch is precision.", "pair:precision-recall"),
    ("Unsupervised learning uses labeled data.", "pair:supervised-unsupervised"),
    ("Unsupervised learning is when the model learns by trial and error from a reward signal.",
     "pair:unsupervised-reinforcement"),
    # the partner's term right after the definition starts the next clause, it does not own it
    ("The later layers learn the generic stuff like edges and textures, while the early layers "
     "hold the concepts of the original task.", "pair:early-late-layers"),
    # an apposition: the term before the comma is the subject of what follows
    ("IVF, the inverted file, compresses each vector into short codebook codes.", "pair:ivf-pq"),
    # a verb that is no linking word, close behind its term in one clause
    ("The later layers zoom in on fine details like edges and textures.",
     "pair:early-late-layers"),
    ("Tanh is the one that goes from zero to one, so we use it for output probabilities.",
     "pair:sigmoid-tanh"),
    # a pronoun goes on about the same subject: no subject of its own
    ("L2, it's the one that drives the weights to exactly zero.", "pair:l1-l2"),
])
def test_a_term_bound_to_its_partners_definition_is_wrong(bank, text, pair):
    assert pair in swapped(text, bank)


@pytest.mark.parametrize("text", [
    "Bias is the error from simplifying assumptions, so a high-bias model underfits. Variance is "
    "sensitivity to the training data, so a high-variance model overfits.",
    "The bias-variance trade-off: a model that is too simple underfits and one too complex "
    "overfits.",
    "Precision is the share of the predicted positives that are actually positive, and recall is "
    "the share of the actual positives we catch.",
    "L2 shrinks the weights but never to exactly zero, whereas L1 can set them to exactly zero.",
    "Bagging trains models independently, boosting trains them sequentially.",
    "To increase recall you lower the threshold, which increases false positives and lowers "
    "precision.",
    "High bias does not mean overfitting.",  # negation is read
    "A common misconception is that high bias means overfitting.",  # distancing is read
    "Unsupervised learning works without labels, unlike supervised learning which uses labeled "
    "data.",
    # a definition before a term of the other side, in another clause, does not bind to it
    "Both are sensitive to outliers, so I'd mention MAE as the robust alternative.",
    "L1, which is lasso, zeroes weights; L2, which is ridge, shrinks them.",
    "You can use L1 or ridge, whichever validates better.",
    "Chunks that are too large dilute the embedding, so add metadata filters and try hybrid "
    "search combining BM25 with dense embeddings.",
    # the comma-part after the term has a subject of its own before its link word
    "I'd use L2 as a robust default, and elastic net when I want sparsity with correlated "
    "features.",
])
def test_right_statements_and_rejections_are_not_swaps(bank, text):
    assert swapped(text, bank) == []


def test_the_correction_names_both_sides(bank):
    [w] = find_swapped_pairs(sentences("Precision is the share of the actual positives we find."),
                             bank.pairs)
    assert "describes recall, not precision" in w.correction
    assert w.feedback().startswith('you said "Precision is the share')


def test_relevant_pairs_are_those_the_question_or_answer_names(bank):
    q = bank.questions["tech-bias-variance"]
    ids = {p.id for p in relevant_pairs(q, bank.pairs)}
    assert "bias-variance" in ids and "dense-sparse-retrieval" not in ids


def test_a_broken_pairs_file_is_reported_with_file_and_line(tmp_path):
    (tmp_path / "pairs.yaml").write_text(
        "pairs:\n  - id: a-b\n    sides:\n      - term: a\n        defines: [x]\n"
        "      - term: b\n        defines: [y]\n        colour: red\n")
    _, problems = check_bank(tmp_path)
    assert any("pairs.yaml:8:" in p and "unknown key" in p for p in problems), problems
    (tmp_path / "pairs.yaml").write_text(
        "pairs:\n  - id: a-b\n    sides:\n      - term: a\n        defines: [x]\n")
    _, problems = check_bank(tmp_path)
    assert any("sides" in p for p in problems), problems


# ----------------------------------------------------------------------------- claims


@pytest.mark.parametrize("claim,text,stated", [
    # in order within a sentence, words between, stems and synonyms
    ("L1 drives weights to exactly zero",
     "With L1 a lot of the coefficients get pushed to exactly zero.", True),
    ("scaled by the square root of the key dimension",
     "we divide by the square root of d k, the key dimension", True),
    # number words are numbers
    ("a fair coin has 2 outcomes", "A fair coin has two possible outcomes.", True),
    # polarity is read
    ("L1 drives weights to exactly zero", "L1 does not drive weights to exactly zero.", False),
    # the words across sentences are not a claim
    ("L1 drives weights to exactly zero", "We used L1. The loss went to exactly zero weights.",
     False),
])
def test_claims_are_matched_by_content_words_in_order(claim, text, stated):
    assert (match_claim(claim, sentences(text)) is not None) is stated


@pytest.mark.parametrize("claim,text", [
    ("RAG eliminates hallucinations", "RAG eliminates hallucinations."),
    ("RAG eliminates hallucinations", "Honestly, RAG basically eliminates all hallucinations."),
])
def test_a_misconception_said_as_is_is_found(claim, text):
    assert match_claim(claim, sentences(text), strict=True) is not None


def test_a_name_with_a_word_inside_it_is_another_name(bank):
    """"missing completely at random" is MCAR's definition, not a misconception about MAR."""
    q = bank.questions["tech-missing-data"]
    right = "Missing completely at random means missingness is independent of everything."
    assert find_wrong_misconceptions(sentences(right), q) == []
    wrong = "Missing at random means missingness is independent of everything."
    assert find_wrong_misconceptions(sentences(wrong), q) != []


def test_a_claim_after_a_negated_clause_is_read_in_its_own_clause():
    text = "At inference it doesn't use the batch statistics, it uses the running averages instead."
    assert match_claim("uses the running averages of the statistics at inference",
                       sentences(text)) is not None
    assert match_claim("uses the batch statistics at inference", sentences(text)) is None


@pytest.mark.parametrize("claim,text", [
    ("a larger ef search lowers recall", "Raising ef search lowers the recall."),
    ("more trees make a random forest overfit", "More trees make the random forest overfit."),
])
def test_a_phrasing_with_its_own_opposite_words_still_matches(claim, text):
    assert match_claim(claim, sentences(text), strict=True) is not None


@pytest.mark.parametrize("claim,text", [
    ("RAG eliminates hallucinations", "RAG can reduce hallucinations but does not eliminate them."),
    ("RAG eliminates hallucinations", "It is a myth that RAG eliminates hallucinations."),
    ("adding more data fixes high bias", "Adding more data fixes high variance, not high bias."),
    ("stochastic gradient descent uses the whole dataset",
     "Batch gradient descent uses the whole dataset per step."),
])
def test_rejected_hedged_or_other_claims_are_not_misconceptions(claim, text):
    assert match_claim(claim, sentences(text), strict=True) is None


@pytest.mark.parametrize("claim,text", [
    ("dump all the documents in the prompt",
     "Rather than dump all the documents in the prompt, retrieve the top five chunks."),
    ("sample without replacement", "Instead of sample without replacement, it draws with it."),
    ("the p value is the probability the result is real",
     "The probability the result is real is not what the p value gives you."),
    ("transfer learning always helps", "Transfer learning almost always helps."),
    ("embeddings are sparse vectors", "Embeddings are dense, unlike sparse vectors."),
    # every word of a long phrasing: the one left out may be the one that makes it wrong
    ("recall is true positives over everything predicted positive",
     "Precision is true positives over everything we predicted positive, recall is true "
     "positives over all the actual positives."),
    # an opposite word inside the match
    ("recall is true positives over true positives plus false positives",
     "Recall is true positives over true positives plus false negatives, how many of the real "
     "positives we caught."),
    # a condition is not a statement
    ("p value is the probability the null hypothesis is true",
     "The p-value is the probability, assuming the null hypothesis is true, of seeing data at "
     "least as extreme."),
    # a supposition is not a proposal
    ("tune the hyperparameters on the test set",
     "If you tune the hyperparameters on the test set, the score is optimistic."),
    # what the answer avoids, and a bug named as one
    ("skip queries with no relevant result",
     "Skip queries with no relevant result would inflate MRR, so they stay in."),
    ("check for nan with equals",
     "A common bug is to check for NaN with equals, which is always false."),
    # a list of bugs names errors; a claim as the subject of a sentence is talked about
    ("apply softmax before crossentropyloss",
     "Typical bugs: forgetting zero_grad, or you apply softmax before CrossEntropyLoss."),
    ("there is a 95% probability the parameter is in the interval",
     "Saying there is a 95% probability the parameter is in the interval is a Bayesian "
     "statement, which a credible interval makes."),
    # "sort" is a word unless it is "sort of"
    ("sort the predictions and the labels",
     "Accuracy is the fraction of positions where the prediction equals the label."),
])
def test_rejections_before_or_after_the_claim_and_near_absolutes_are_read(claim, text):
    sents = sentences(text)
    assert match_claim(claim, sents, strict=True) is None
    assert _literal_hit(claim, sents) is None


def test_a_phrasing_that_claims_nothing_absolute_is_not_read_as_a_false_absolute():
    q = Question(id="tech-x", section="technical", text="How do you choose a regression metric?",
                 roles=["ml-engineer"], levels=["mid"],
                 key_points=[KeyPoint(id="mape", point="MAPE is scale-free", phrasings=["mape"])],
                 misconceptions=[Misconception(claim="mape is fine when actual values are zero",
                                               kind="absolute"),
                                 Misconception(claim="mape always works", kind="absolute")])
    right = ("MAPE is scale-free, but it explodes when actual values are near zero, and a 100 "
             "percent error there means little.")
    assert find_wrong_misconceptions(sentences(right), q) == []
    wrong = find_wrong_misconceptions(sentences("Honestly MAPE basically always works, it is "
                                                "a solved choice."), q)
    assert [w.claim for w in wrong] == ["mape always works"]


# ----------------------------------------------------------------------------- scoring

QUESTION = Question(
    id="tech-l1-l2", section="technical", text="How do L1 and L2 regularisation differ?",
    roles=["ml-engineer"], levels=["mid"],
    key_points=[
        KeyPoint(id="l1", point="L1 penalises absolute weights and drives some to exactly zero.",
                 phrasings=["l1", "lasso"],
                 claims=["L1 penalises the sum of absolute weights",
                         "L1 drives some weights to exactly zero"]),
        KeyPoint(id="l2", point="L2 penalises squared weights and shrinks them smoothly.",
                 phrasings=["l2", "ridge"],
                 claims=["L2 penalises the sum of squared weights",
                         "L2 shrinks weights towards zero without making them exactly zero"]),
        KeyPoint(id="use", point="L1 suits feature selection; L2 suits correlated features.",
                 phrasings=["feature selection", "correlated features"],
                 claims=["L1 performs feature selection", "L2 handles correlated features"]),
    ],
    misconceptions=[Misconception(claim="L1 and L2 give identical results", kind="other",
                                  correction="they differ: L1 gives sparse weights, L2 small "
                                             "dense ones")],
)


def _score(q: Question, answer: str, pairs):
    bank = load_bank()
    rubric = bank.rubric(q.section)
    ctx = AnswerContext(question=q, rubric=rubric, answers=[answer],
                        delivery=[delivery_metrics(Transcript(text=answer, source="text"))],
                        section_terms=list(rubric.common_terms), pairs=pairs)
    return OfflineBrain().score(ctx)


PRECISE = ("L1 penalises the sum of the absolute values of the weights, and it drives some "
           "weights to exactly zero, so L1 performs feature selection. L2 penalises the sum of "
           "squared weights; it shrinks weights towards zero without making them exactly zero, "
           "and L2 handles correlated features better because it spreads weight across them.")
NAMED_ONLY = ("Well, L1 and L2 are both regularisation. There is lasso and there is ridge, and "
              "people talk about feature selection and correlated features a lot with these, "
              "and both of them matter in practice in my experience with many models and data.")
SWAPPED = ("L2 penalises the sum of squared weights and it drives the weights to exactly zero, so "
           "L2 does feature selection. L1 penalises the sum of absolute weights and shrinks "
           "weights smoothly, and L2 handles correlated features.")


def test_precise_claims_score_high_and_named_terms_stay_at_two(bank):
    precise = _score(QUESTION, PRECISE, bank.pairs)
    named = _score(QUESTION, NAMED_ONLY, bank.pairs)
    correctness = {s.question_id: c for s in (precise,) for c in s.criteria
                   if c.criterion == "correctness"}
    assert correctness["tech-l1-l2"].level >= 4
    nc = next(c for c in named.criteria if c.criterion == "correctness")
    assert nc.level <= 2
    assert "not verified offline" in nc.rationale
    assert any(n.startswith("not verified offline") for n in named.notes)
    assert precise.overall > named.overall + 1


def test_a_swapped_pair_caps_the_answer_at_two_and_the_feedback_corrects_it(bank):
    s = _score(QUESTION, SWAPPED, bank.pairs)
    assert s.overall <= 2.0
    assert next(c for c in s.criteria if c.criterion == "correctness").level <= 2
    corrections = [n for n in s.notes if n.startswith("correction: ")]
    assert corrections and "describes L1, not L2" in corrections[0]
    fb = OfflineBrain().feedback([s], {QUESTION.id: QUESTION}, "neutral")
    assert "describes L1, not L2" in fb.improvements[0]


def test_a_listed_misconception_caps_the_answer_whatever_else_it_covers(bank):
    s = _score(QUESTION, PRECISE + " In the end L1 and L2 give identical results.", bank.pairs)
    assert s.overall <= 2.0
    assert any("they differ: L1 gives sparse weights" in n for n in s.notes)


def test_behavioural_scoring_does_not_read_claims_or_pairs(bank):
    q = bank.questions[next(i for i, q in bank.questions.items() if q.section == "behavioral")]
    answer = ("At my last company I led a migration. High bias means the model is too complex. "
              "I decided to split the work, I wrote the plan and we shipped on time, cutting "
              "costs by 20 percent. I learned to agree on scope early.")
    with_pairs = _score(q, answer, bank.pairs)
    without = _score(q, answer, [])
    assert with_pairs.model_dump(exclude={"notes"}) == without.model_dump(exclude={"notes"})
    assert not any(n.startswith("correction") for n in with_pairs.notes)


VAGUE_WORDY = ("Regularisation is really important in machine learning, and L1 and L2 are the "
               "two classic kinds that everybody uses. They both help the model in different "
               "ways, and which one you pick depends on the data and the problem, so in practice "
               "I try both and see which works better on validation. Lasso and ridge are the "
               "names people use, and they are built into most libraries like scikit-learn, so "
               "it is easy to switch between them and tune the strength with a parameter.")


def test_a_vague_but_wordy_answer_is_a_two_and_a_short_one_or_a_wrong_one_lower(bank):
    """The descriptors put "terms named without their claims" at 2: a long vague answer on the
    subject is not an empty one; a short one, or one that states a misconception, is not lifted."""
    vague = _score(QUESTION, VAGUE_WORDY, bank.pairs)
    assert round(vague.overall) == 2
    assert next(c for c in vague.criteria if c.criterion == "correctness").level == 2
    short = _score(QUESTION, "Regularisation is important and both kinds differ in how they "
                             "help the model, depending on the data.", bank.pairs)
    assert short.overall < 1.5
    wrong = _score(QUESTION, VAGUE_WORDY + " In the end L1 and L2 give identical results.",
                   bank.pairs)
    assert next(c for c in wrong.criteria if c.criterion == "correctness").level == 1


def test_read_claims_reports_stated_points(bank):
    r = read_claims(PRECISE, QUESTION, bank.pairs)
    assert {p.key_point for p in r.stated} == {"l1", "l2", "use"}
    assert r.wrong == []


def test_the_shipped_bank_loads_its_pairs():
    bank = load_bank(Path(__file__).resolve().parents[1] / "rubrics")
    assert len(bank.pairs) >= 25
    assert all(len(p.sides) == 2 for p in bank.pairs)


# ----------------------------------------------------------------------------- matcher gaps (17e)


@pytest.mark.parametrize("text", [
    # a negation that belongs to a definition ("no labels") does not deny the binding, and a bare
    # "instead" goes on with the same term (tune.jsonl t2-supervised-vs-unsupervised-1)
    "Unsupervised learning is when there are no labels, so instead the model learns by trial and "
    "error from a reward signal.",
])
def test_a_negation_inside_a_definition_does_not_hide_a_swap(bank, text):
    assert "pair:unsupervised-reinforcement" in swapped(text, bank)


@pytest.mark.parametrize("text", [
    # "instead of" still contrasts; a negation of the binding still denies it
    "Unsupervised learning finds structure instead of learning by trial and error.",
    "Unsupervised learning is not trial and error from a reward signal.",
])
def test_instead_of_and_a_real_negation_still_clear_a_pair(bank, text):
    assert "pair:unsupervised-reinforcement" not in swapped(text, bank)


@pytest.mark.parametrize("claim,text,found", [
    # one-letter quantities are words of a misconception: without the k, a sentence about
    # supervised learning stated "k means is a supervised algorithm" (tune.jsonl line 20)
    ("k means is a supervised algorithm",
     "Supervised learning means the algorithm learns from labelled data.", False),
    ("k means is a supervised algorithm", "K-means is a supervised algorithm.", True),
    ("the mle of the variance divides by n minus one",
     "The MLE of the variance divides by n minus one.", True),
    ("the mle of the variance divides by n minus one",
     "The MLE of the variance divides by n, not by n minus one.", False),
])
def test_one_letter_quantities_count_in_misconceptions(claim, text, found):
    assert (match_claim(claim, sentences(text), strict=True) is not None) is found


def test_one_letter_quantities_are_not_required_for_a_key_point_claim():
    # "returns the top-k most similar vectors" is stated without saying "k"
    hit = match_claim("returns the top k most similar vectors",
                      sentences("The index returns the top most similar vectors to the query."))
    assert hit is not None


@pytest.mark.parametrize("text,stated", [
    ("A huge input space is impossible to precompute.", True),
    ("A huge input space is not possible to precompute.", True),
    ("A huge input space is possible to precompute.", False),
])
def test_impossible_reads_as_not_possible(text, stated):
    hit = match_claim("a huge input space cannot be precomputed", sentences(text))
    assert (hit is not None) is stated


def _absolute_question() -> Question:
    return Question(
        id="tech-prompt-injection", section="technical",
        text="What is prompt injection and how do you defend against it?",
        roles=["ml-engineer"], levels=["mid"],
        key_points=[KeyPoint(id="defence", point="Layered defences; none is complete.",
                             phrasings=["defence in depth"])],
        misconceptions=[Misconception(kind="absolute", claim="a good system prompt prevents it",
                                      phrasings=["a strong system prompt prevents injection"])])


@pytest.mark.parametrize("text,found", [
    # the fix named after the sentence's own "solved" (tune.jsonl t2-prompt-injection-1)
    ("The good news is that it's a solved problem if you do two things: put a strong system "
     "prompt in front, and run every input through a classifier.", True),
    ("It is not a solved problem: a strong system prompt helps, but attackers get around it.",
     False),
    ("A strong system prompt is a good first layer, but nothing has solved injection.", False),
])
def test_a_false_absolute_said_as_a_solved_problem(text, found):
    report = read_claims(text, _absolute_question())
    assert bool(report.wrong) is found, report.wrong


def _hallucination_question() -> Question:
    return Question(
        id="t-rag", section="technical", text="When would you use RAG rather than fine-tuning?",
        roles=["ml-engineer"], levels=["mid"],
        key_points=[KeyPoint(id="grounding", point="RAG grounds answers; it reduces but does not "
                             "remove hallucination.", phrasings=["grounding"])],
        misconceptions=[Misconception(kind="absolute", claim="RAG eliminates hallucinations",
                                      phrasings=["with rag the model cannot hallucinate"])])


@pytest.mark.parametrize("text,found", [
    # an absolute said as "can't", the question's own name far before it
    ("A big plus of RAG is that since the model is grounded in the retrieved documents, it "
     "simply can't hallucinate.", True),
    # "can't reliably", "can't always": admits that it sometimes does
    ("With RAG the model still can't always avoid it: the model can hallucinate when retrieval "
     "misses.", False),
    ("Even grounded, the model can't reliably avoid it, so it can still hallucinate.", False),
    ("RAG doesn't mean the model can't hallucinate.", False),
])
def test_a_false_absolute_said_with_cannot(text, found):
    report = read_claims(text, _hallucination_question())
    assert bool(report.wrong) is found, report.wrong
