"""Claims, not words: does the answer state what the key points claim, or the opposite?

Coverage of the right words is not correctness. This module reads an answer sentence by sentence
and finds three things, all offline and deterministic:

- **stated claims**: a key point's ``claims`` (its precise forms: "L1 drives weights to exactly
  zero") whose content words occur in order within one sentence, compared by stem, synonym and
  number ("two" = "2"), with the same polarity ("does not need" is not "needs");
- **wrong claims**: a question's misconceptions, matched the same way but more strictly (all or all
  but one content word, never hedged or negated away), and
- **swapped pairs**: a term bound to its partner's definition ("precision is the share of the
  actual positives we catch"), from the bank's general list of paired concepts
  (``rubrics/pairs.yaml``), whatever the question.

Why matching by content words in order within a sentence: spoken answers put words between the
claim's words ("L1 tends to push a lot of the weights to exactly zero") but keep their order; a
bag of words across sentences rewards an answer that names every term in the wrong places, which
is exactly the confidently wrong answer this module exists to catch.

Reading one answer against its question's claims, misconceptions and the 92 pairs takes about
60 ms (61 ms mean over the technical, coding and design answers of tune + graded, 2 shared cores,
with the stop-24 bank of 10,133 phrasings and 5,121 claims). On honest answers the share of key
points stated rises with the coach's grade (0.00, 0.07, 0.44, 0.79, 0.95 for grades 1-5 on tune +
graded). On heldout-5, never tuned on, wrong claims are found in 10 of its 48 adversarial answers
(9 with the stop-23 bank) and in 4 of its 120 honest answers of grade 2 or more; the tuning-side
sets' adversarial answers are nearly all found, because the bank lists their errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from mockinterview.interviewer.scoring import STOPWORDS, Tokens, _same_meaning, stem
from mockinterview.schema import KeyPoint, Misconception, Pair, PairSide, Question
from mockinterview.textnorm import normalize

# a key point's claim is stated when this share of its content words (at least LENIENT_MIN of them)
# occur in order within one sentence (tuned on rubrics/calibration/tune.jsonl)
# (mean share of key points stated, honest answers of tune + graded: grade 1 0.00, 2 0.07, 3 0.35,
# 4 0.72, 5 0.86; at three quarters grade 5 fell to 0.58)
LENIENT_SHARE = 0.5
LENIENT_MIN = 3
TOPIC_SHARE = 0.5  # of a claim's words beyond the question's own words
NEGATIONS = frozenset("""not no never neither nor cannot cant dont doesnt didnt isnt arent wasnt
werent wont wouldnt shouldnt couldnt hasnt havent hadnt without none nothing nobody""".split())
# words read as "not" + a word, in claims and answers alike: "it is impossible to precompute"
# says "not possible" (read as an unknown word before, "impossible" negated nothing)
_SPLIT_NEGATIVE = {"impossible": ("not", "possible"), "unable": ("not", "able")}
# one-letter words that name a quantity ("divided by n minus one", "top k", "p minus y"): content
# words in claims and answers alike (dropped before, a claim with one of them could never match)
VARIABLES = frozenset("n k p x y".split())
# "not only X but also Y" and "no matter" do not negate
_NOT_NEGATING = {("not", "only"), ("not", "just"), ("no", "matter"), ("not", "necessarily")}
HEDGES = frozenset("""might may can could sometimes often usually typically tend tends generally
mostly partly partially some many most help helps reduce reduces reducing mitigate mitigates
lower lowers less""".split())
ABSOLUTES = frozenset("""always never all every eliminate eliminates eliminated guarantee
guarantees guaranteed completely entirely fully impossible any exactly solves solve only zero
prevents prevent""".split())
# words that carry a claim's direction or scope: stop words elsewhere, content words here
_DIRECTIONAL = frozenset("""more most less fewer least up down over under all every only too
higher lower before after same other both always never any""".split())
# verbs that only join a claim's subject to what it says ("X means Y", "X refers to Y")
# (in a misconception "mean" is a content word: "mean imputation" is not "median imputation";
# "means" after "k" never links)
_LINKING = frozenset("means mean refers refer called happens happen basically".split())
CLAIM_STOP = (STOPWORDS - _DIRECTIONAL - NEGATIONS) | frozenset(
    "like basically actually really um uh well just".split())
# "kind of" and "sort of" are fillers; "sort the predictions" is not
_FILLER_BEFORE_OF = frozenset(("kind", "sort"))


def _filler(words: list[str], i: int) -> bool:
    return words[i] in _FILLER_BEFORE_OF and words[i + 1: i + 2] == ["of"]
# extra synonyms for claims (on top of scoring.SYNONYM_GROUPS)
_CLAIM_SYNONYMS: list[tuple[str, ...]] = [
    ("increase", "increases", "raise", "raises", "grow", "grows", "higher", "larger", "bigger",
     "goes up", "rise", "rises"),
    ("decrease", "decreases", "lower", "lowers", "shrink", "shrinks", "smaller", "reduce",
     "reduces", "drop", "drops", "fewer", "less"),
    ("zero", "0"),
    ("remove", "removes", "eliminate", "eliminates", "drop", "drops", "discard", "discards"),
    ("weight", "weights", "coefficient", "coefficients", "parameter", "parameters"),
    ("push", "pushes", "drive", "drives", "force", "forces", "set", "sets", "shrink", "shrinks"),
    ("simple", "simplistic", "underpowered", "restrictive"),
    ("complex", "flexible", "expressive", "powerful"),
    ("sequential", "sequentially", "order", "serial", "serially", "one after another"),
    ("parallel", "independently", "independent"),
    ("model", "classifier", "network", "estimator", "predictor"),
    ("sqrt", "square root", "root"),
    ("dimension", "dimensionality", "dim", "size"),
    ("probability", "chance"),
    ("real", "actual", "actually", "genuine"),
    ("product", "products", "item", "items"),
    ("output", "outputs", "result", "results"),
    ("find", "finds", "reach", "reaches", "converge", "converges", "arrive", "arrives"),
    ("prevent", "prevents", "stop", "stops", "block", "blocks", "solve", "solves", "solved",
     "eliminate", "eliminates", "fix", "fixes"),
]


def _claim_syn_index() -> dict[str, int]:
    idx: dict[str, int] = {}
    for gi, group in enumerate(_CLAIM_SYNONYMS):
        for w in group:
            if " " not in w:
                idx.setdefault(stem(w), gi)
    return idx


_CLAIM_SYN = _claim_syn_index()


def same_word(a: str, b: str) -> bool:
    """Stems that mean the same in a claim: equal, a long shared prefix, or synonyms."""
    if _same_meaning(a, b):
        return True
    ga = _CLAIM_SYN.get(a)
    return ga is not None and ga == _CLAIM_SYN.get(b)


# ----------------------------------------------------------------------------- sentences


@dataclass
class Sentence:
    """One sentence of the answer as normalised words, their stems and the original text."""

    text: str
    words: list[str]
    stems: list[str]
    content: list[int]  # indices of content words (for claim matching)
    chunk: list[int] = field(default_factory=list)  # comma-separated part of each word
    # the sentence after each comma-separated part holding a negation (see :func:`_clauses`)
    tails: list[Sentence] = field(default_factory=list)


def sentences(text: str) -> list[Sentence]:
    out = []
    tok = Tokens.of(text)
    for s0, s1 in tok.sentences:
        raw = text[s0:s1].strip()
        if not raw:
            continue
        words: list[str] = []
        chunk: list[int] = []
        for ci, part in enumerate(re.split(r"[,:()]|\s-\s|\s–\s", raw)):
            part_words = _split_negatives(normalize(part))
            words += part_words
            chunk += [ci] * len(part_words)
        stems = [stem(w) for w in words]
        content = [i for i, w in enumerate(words)
                   if w not in CLAIM_STOP and _kept(w) and not _filler(words, i)]
        sent = Sentence(raw, words, stems, content, chunk)
        sent.tails = _clauses(sent)
        out.append(sent)
    return out


def _split_negatives(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        out += _SPLIT_NEGATIVE.get(w, (w,))
    return out


def _loose(want: tuple[str, ...]) -> tuple[str, ...]:
    """A key point's claim without its one-letter quantities: "returns the top-k most similar
    vectors" is stated by "finds the most similar vectors" (requiring the k cost an honest grade-3
    answer of tune.jsonl a level); a misconception keeps them ("k means is a supervised
    algorithm" is not said by a sentence about supervised learning that never names k)."""
    return tuple(w for w in want if w not in VARIABLES)


def _kept(w: str) -> bool:
    return len(w) > 1 or w.isdigit() or w in VARIABLES


@lru_cache(maxsize=4096)
def _claim_words(claim: str, strict: bool = False) -> tuple[tuple[str, ...], int, bool]:
    """(content stems without negations, negation parity, has an absolute word)."""
    words = _split_negatives(normalize(claim))
    neg = 0
    for i, w in enumerate(words):
        if w in NEGATIONS and not (i + 1 < len(words) and (w, words[i + 1]) in _NOT_NEGATING):
            neg += 1
    content = tuple(stem(w)
                    for i, w in enumerate(words)
                    if w not in CLAIM_STOP and w not in NEGATIONS and _kept(w)
                    and not _filler(words, i)
                    and (w not in _LINKING or (i > 0 and words[i - 1] == "k")
                         or (strict and w == "mean")))
    return content, neg % 2, any(w in ABSOLUTES for w in words)


# words that state the opposite direction: a claim said with one of them swapped says the reverse
_ANTONYMS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("increase", "increases", "raise", "raises", "higher", "larger", "bigger", "grow", "grows",
      "more", "up", "rise", "rises", "wider", "longer"),
     ("decrease", "decreases", "lower", "lowers", "smaller", "shrink", "shrinks", "less", "fewer",
      "down", "reduce", "reduces", "narrower", "shorter")),
    (("ascending",), ("descending",)),
    (("before",), ("after",)),
    (("early", "earlier", "first"), ("late", "later", "last", "final")),
    (("global",), ("local",)),
    (("biased",), ("unbiased",)),
    (("sensitive",), ("robust", "insensitive")),
    (("overfit", "overfitting"), ("underfit", "underfitting")),
    (("faster", "quicker"), ("slower",)),
    (("most",), ("least",)),
    (("maximize", "maximise", "maximizes", "maximises"),
     ("minimize", "minimise", "minimizes", "minimises")),
    (("parallel", "independently"), ("sequentially", "sequential")),
    (("general", "generic"), ("specific",)),
    (("exact", "exactly"), ("approximate", "approximately")),
    (("overestimate", "overestimates"), ("underestimate", "underestimates")),
    (("dense",), ("sparse",)),
    (("same",), ("different",)),
    (("positive", "positives"), ("negative", "negatives")),
]


def _antonym_index() -> dict[str, tuple[int, int]]:
    idx: dict[str, tuple[int, int]] = {}
    for gi, (a, b) in enumerate(_ANTONYMS):
        for w in a:
            idx.setdefault(stem(w), (gi, 0))
        for w in b:
            idx.setdefault(stem(w), (gi, 1))
    return idx


_ANTONYM = _antonym_index()


def opposite(a: str, b: str) -> bool:
    x, y = _ANTONYM.get(a), _ANTONYM.get(b)
    return x is not None and y is not None and x[0] == y[0] and x[1] != y[1]


def _same_or_opposite(a: str, b: str) -> bool:
    return same_word(a, b) or opposite(a, b)


def _lcs(want: tuple[str, ...], sent: Sentence, eq=None,
         matched: list[int] | None = None,
         positions: list[int] | None = None) -> tuple[int, int, int]:
    """Longest in-order match of the claim's stems among the sentence's content words.
    Returns (matched, first word index, last word index) of one best alignment; with
    ``eq=_same_or_opposite`` antonyms count as matches (see :func:`_opposed`). ``matched``, when
    given, receives the claim word indices of that alignment."""
    eq = eq or same_word
    cs = [sent.stems[i] for i in sent.content if sent.words[i] not in NEGATIONS]
    pos = [i for i in sent.content if sent.words[i] not in NEGATIONS]
    n, m = len(want), len(cs)
    if not n or not m:
        return 0, -1, -1
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if eq(want[i], cs[j]):
                dp[i][j] = 1 + dp[i + 1][j + 1]
            else:
                dp[i][j] = max(dp[i + 1][j], dp[i][j + 1])
    # walk one alignment to find its span
    i = j = 0
    first = last = -1
    if matched is not None:
        matched.clear()
    if positions is not None:
        positions.clear()
    while i < n and j < m:
        if eq(want[i], cs[j]) and dp[i][j] == 1 + dp[i + 1][j + 1]:
            if matched is not None:
                matched.append(i)
            if positions is not None:
                positions.append(pos[j])
            if first < 0:
                first = pos[j]
            last = pos[j]
            i += 1
            j += 1
        elif dp[i + 1][j] >= dp[i][j + 1]:
            i += 1
        else:
            j += 1
    return dp[0][0], first, last


def _negation_parity(sent: Sentence, lo: int, hi: int, anchor: int | None = None,
                     skip: set[int] | frozenset[int] = frozenset()) -> int:
    """Negations (mod 2) among words lo..hi; with ``anchor`` (the claim's first word) only those
    in the anchor's comma-separated part or after it: "where the model doesn't fit, and route
    easy requests to a small model" does not negate the routing."""
    n = 0
    first_chunk = sent.chunk[anchor] if anchor is not None and sent.chunk else None
    for i in range(max(0, lo), min(len(sent.words), hi + 1)):
        if first_chunk is not None and sent.chunk[i] < first_chunk or i in skip:
            continue
        w = sent.words[i]
        if w in NEGATIONS and not (i + 1 < len(sent.words)
                                   and (w, sent.words[i + 1]) in _NOT_NEGATING):
            n += 1
    return n % 2


# a wrong claim given as what the answer avoids: "because X would ...", "otherwise X"
_COUNTERFACTUAL = frozenset("would otherwise avoid avoids avoiding prevent prevents".split())
# "I would ..." is how a design is proposed, not a consequence avoided ("I would batch every
# request for three seconds" states the design)
_PROPOSERS = frozenset("i we you id wed youd".split())


def _counterfactual(s: Sentence, lo: int, hi: int, want: tuple[str, ...]) -> bool:
    """The claim is said as what happens otherwise, or what the answer avoids: a counterfactual
    word just before or inside it that is not one of the claim's own words ("a system prompt
    prevents injection" states the claim) and not a proposal ("I would ...")."""
    own = set(want)
    for i in range(max(0, lo - 4), hi + 1):
        w = s.words[i]
        if w not in _COUNTERFACTUAL or stem(w) in own or w in own:
            continue
        if w == "would" and i > 0 and s.words[i - 1] in _PROPOSERS:
            continue
        return True
    return False
_DISTANCE = re.compile(r"\b(?:myth|misconception|mistake|misunderstanding|people (?:often )?"
                       r"(?:think|believe|say)|it'?s wrong|is wrong|wrong to|incorrect|false that|"
                       r"not true|a common error|a common bug|pitfall|contrary to|not what|"
                       r"isn'?t what|not how|isn'?t how|(?:people|candidates|everyone) "
                       r"(?:often |usually |sometimes )?(?:get|gets|got) (?:this |it |that )?wrong|"
                       r"people (?:often )?assume|naively|"
                       # a list of bugs names errors ("typical bugs: ..., a softmax before
                       # CrossEntropyLoss"); a claim as the subject is talked about, not made
                       # ("saying there's a 95% probability ... is a Bayesian statement")
                       r"(?:typical|common|classic|usual|frequent|subtle|silent) "
                       r"(?:bugs?|culprits?|errors?|mistakes?)|bugs? (?:like|such as|include)|"
                       r"(?:^|[;:,] ?)(?:saying|claiming)|the (?:idea|claim|belief|notion) that)\b",
                       re.IGNORECASE)


# a supposition just before a claim ("if you tune on the test set, ...")
_SUPPOSE = frozenset("if assuming suppose supposing".split())
# words that make what follows a condition, not a statement
_CONDITIONAL = frozenset("assuming given if under conditional suppose supposing".split())


def _not_asserted(s: Sentence, lo: int, hi: int, own: set[str]) -> bool:
    """Words lo..hi are said but not asserted: as a condition ("the probability, assuming the
    null is true, of ..."), a supposition ("if you tune on the test set, ..."), after "rather
    than" or "instead of", softened ("almost always helps"), or as what the answer avoids ("X
    would inflate MRR"). ``own``: the claim's own words, which never count against it."""
    if set(s.words[lo: hi + 1]) & _CONDITIONAL - own \
            or set(s.words[max(0, lo - 3): lo]) & _SUPPOSE - own \
            or "would" in s.words[hi + 1: hi + 3] and "would" not in own:
        return True
    if tuple(s.words[max(0, lo - 2): lo]) in (("rather", "than"), ("instead", "of")):
        return True
    return any(s.words[i] in ABSOLUTES and s.words[i - 1] in _SOFTENERS
               for i in range(max(1, lo), min(len(s.words), hi + 1)))


_SOFTENERS = frozenset("almost nearly virtually".split())


def _clauses(s: Sentence) -> list[Sentence]:
    """The sentence's tails after each comma-separated part holding a negation: the alignment
    takes a word's first occurrence, so "it doesn't use the batch statistics, it uses running
    averages" would otherwise read the running-averages claim inside the negated part."""
    out: list[Sentence] = []
    negated = sorted({s.chunk[i] for i, w in enumerate(s.words) if w in NEGATIONS})
    for c in negated:
        tail = [i for i in s.content if s.chunk[i] > c]
        if tail and len(tail) < len(s.content):
            out.append(Sentence(s.text, s.words, s.stems, tail, s.chunk))
    return out


@dataclass
class ClaimHit:
    claim: str
    quote: str
    share: float


def match_claim(claim: str, sents: list[Sentence], strict: bool = False,
                topic: frozenset[str] = frozenset()) -> ClaimHit | None:
    """The sentence stating ``claim`` (in order, same polarity), or None.

    Lenient (key-point claims): half the content words, at least three, and most of the words
    that are not the question's own topic words (``topic``: "softmax" in a softmax question is
    named by every answer, right or vague; "logits" and "distribution" say something). Strict
    (misconceptions): all of them up to four words, all but one beyond; a hedge ("can", "often")
    in front of a claim that is a false absolute takes it back, and so does a sentence that
    distances itself ("a common myth is ...").
    """
    want, neg, absolute = _claim_words(claim, strict)
    if not strict:
        want = _loose(want)
    n = len(want)
    if n < 2:
        return None
    if strict:
        # every word: the one a long phrasing would leave out is as often the one that makes it
        # wrong ("recall is true positives over true positives plus false [positives]" fired on
        # the right formula with "negatives", 2 honest answers of the tuning sets)
        need = n
    else:
        need = min(n, max(LENIENT_MIN, math.ceil(LENIENT_SHARE * n)))
    own_words = set(normalize(claim)) if strict else set()
    best: ClaimHit | None = None
    for s in (t for whole in sents for t in (whole, *whole.tails)):
        if len(s.content) < need:
            continue
        aligned: list[int] = []
        used: list[int] = []
        got, lo, hi = _lcs(want, s, matched=aligned, positions=used)
        if got < need or lo < 0:
            continue
        if topic and not strict:
            own = [i for i, w in enumerate(want) if w not in topic]
            hit_own = sum(1 for i in aligned if want[i] not in topic)
            if own and hit_own < max(1, math.ceil(TOPIC_SHARE * len(own))):
                continue
        if hi - lo > 3 * n + 6:
            continue  # scattered over a run-on sentence: not one statement
        if strict and (hi - lo > 2 * n + 2 or s.chunk[hi] - s.chunk[lo] > 1):
            continue  # a wrong claim is said in one breath, not assembled from two clauses
        if strict:
            if _not_asserted(s, lo, hi, own_words):
                continue
            if _name_broken(claim, want, aligned, used, s):
                continue  # "missing completely at random" is not "missing at random"
            if any(opposite(s.stems[i], w) for i in s.content if lo <= i <= hi
                   and i not in used for w in want):
                continue  # "true positives plus false negatives" is not "... false positives"
            inside = sum(1 for i in s.content if lo <= i <= hi and s.words[i] not in NEGATIONS)
            if inside - got > max(1, n // 3):
                continue  # "divided by the square root of the key dimension" is another claim
        if _negation_parity(s, lo - 4, hi, lo) != neg:
            continue
        if strict:
            if _DISTANCE.search(s.text):
                continue
            window = set(s.words[max(0, lo - 4): hi + 1])
            if set(s.words[max(0, lo - 1): hi + 1]) & _CONTRAST - set(want):
                continue  # "Adam, unlike Newton's method, ..." does not say Adam is like it
            if _counterfactual(s, lo, hi, want):
                continue  # "raise an error, because silently zipping would truncate the list"
            if absolute and window & HEDGES and not window & ABSOLUTES:
                continue
        share = got / n
        if best is None or share > best.share:
            best = ClaimHit(claim, s.text, share)
    return best


def _name_broken(claim: str, want: tuple[str, ...], aligned: list[int], used: list[int],
                 s: Sentence) -> bool:
    """The phrasing opens with a name ("missing at random", "gradient boosting") and the sentence
    puts another content word inside it: "missing completely at random" names the neighbour.
    (A grade-5 answer of heldout-4 was flagged for MCAR's definition.)"""
    if len(aligned) < 2 or aligned[0] != 0 or aligned[1] != 1:
        return False
    words = normalize(claim)
    first = [i for i, w in enumerate(words) if w not in CLAIM_STOP and _kept(w)]
    if len(first) < 2 or first[1] - first[0] > 2:
        return False
    return any(i in s.content and s.words[i] not in NEGATIONS for i in range(used[0] + 1, used[1]))


def _opposed(want: tuple[str, ...], s: Sentence) -> tuple[int, int, int, int]:
    """(matched, opposite words used, first, last) of the best alignment that may use antonyms."""
    cs = [s.stems[i] for i in s.content if s.words[i] not in NEGATIONS]
    pos = [i for i in s.content if s.words[i] not in NEGATIONS]
    got, lo, hi = _lcs(want, s, _same_or_opposite)
    if got == 0:
        return 0, 0, -1, -1
    # count the antonyms along one alignment: greedy walk over the matched span
    flips, k = 0, 0
    for j, p in enumerate(pos):
        if p < lo or p > hi or k >= len(want):
            continue
        if same_word(want[k], cs[j]):
            k += 1
        elif opposite(want[k], cs[j]):
            flips += 1
            k += 1
    return got, flips, lo, hi


CONTRADICTION_SHARE = 1.0  # content words a contradicting sentence must share with the claim


def contradicts(claim: str, sents: list[Sentence]) -> ClaimHit | None:
    """A sentence that states ``claim`` reversed: the same content words in order but negated
    ("you don't need to standardise the features") or with one word turned into its opposite
    ("the early layers are the most task-specific")."""
    want, neg, _ = _claim_words(claim)
    want = _loose(want)
    n = len(want)
    if n < 4 or n > 9:
        return None
    need = max(3, math.ceil(CONTRADICTION_SHARE * n))
    for s in sents:
        got, flips, lo, hi = _opposed(want, s)
        if got < need or lo < 0 or hi - lo > 2 * n + 2 or s.chunk[hi] - s.chunk[lo] > 1:
            continue
        if _DISTANCE.search(s.text) or set(s.words[lo:hi + 1]) & (_CONTRAST | _CONDITIONAL):
            continue
        parity = (_negation_parity(s, lo - 4, hi, lo) + flips) % 2
        if flips <= 1 and parity != neg:
            return ClaimHit(claim, s.text, got / n)
    return None


# ----------------------------------------------------------------------------- key points


@dataclass
class PointClaim:
    key_point: str
    has_claims: bool
    stated: ClaimHit | None = None


def topic_words(question: Question) -> frozenset[str]:
    """Stems of the question's own words: every answer names them, so they prove nothing."""
    return frozenset(stem(w) for w in normalize(question.text) if w not in CLAIM_STOP)


def stated_claims(sents: list[Sentence], kp: KeyPoint,
                  topic: frozenset[str] = frozenset()) -> ClaimHit | None:
    best = None
    for c in kp.claims:
        hit = match_claim(c, sents, topic=topic)
        if hit and (best is None or hit.share > best.share):
            best = hit
    return best


# ----------------------------------------------------------------------------- wrong claims


@dataclass
class WrongClaim:
    """A wrong statement found in the answer, with what to say instead."""

    kind: str  # a Misconception kind, or "swapped" for a pair
    claim: str  # the wrong claim as the bank states it
    quote: str  # the answer's sentence
    correction: str = ""
    source: str = ""  # "misconception" or "pair:<id>"

    def feedback(self) -> str:
        said = self.quote if len(self.quote) <= 160 else self.quote[:157].rsplit(" ", 1)[0] + "…"
        text = f'you said "{said}"'
        if self.correction:
            text += f"; {self.correction}"
        else:
            text += f"; that is a common misconception ({self.claim})"
        return text


def find_wrong_misconceptions(sents: list[Sentence], question: Question) -> list[WrongClaim]:
    out: list[WrongClaim] = []
    topic = topic_words(question)
    for m in question.misconceptions:
        hit = _misconception_hit(sents, m, topic)
        if hit:
            out.append(WrongClaim(m.kind, m.claim, hit.quote, m.correction, "misconception"))
    return out


def _misconception_hit(sents: list[Sentence], m: Misconception,
                       topic: frozenset[str] = frozenset()) -> ClaimHit | None:
    for p in m.phrasings:
        hit = match_claim(p, sents, strict=True) or _literal_hit(p, sents)
        if hit:
            return hit
    if m.kind == "absolute":
        for p in m.phrasings:
            hit = _absolute_hit(p, sents, topic)
            if hit:
                return hit
    return None


_ABSOLUTE_MARKERS = re.compile(
    r"\b(?:always|guarantee[sd]?|eliminat\w*|solved|by construction|exactly the same|"
    r"fully|completely (?:prevents?|removes?|stops?|solves?|eliminates?|safe)|100 percent|"
    r"zero risk|no need to|don't need to|do not need to|doesn't need to|impossible|"
    # "it simply can't hallucinate"; "can't reliably separate ..." admits it sometimes can
    r"(?:can'?t|cannot|never)(?!\s+(?:reliably|always|fully|completely|entirely|perfectly|"
    r"totally|quite|really|be sure)\b))\b", re.IGNORECASE)


_SOLVE_GROUP = _CLAIM_SYN[stem("prevent")]
_SOLVED = frozenset("solved eliminated eliminates eliminate".split())


def _solved_words(phrasing: str) -> bool:
    return bool(set(normalize(phrasing)) & (_SOLVED | {"prevents", "prevent", "solves", "fixes"}))


def _solved_said(s: Sentence) -> bool:
    """The sentence calls a problem solved or eliminated ("it's a solved problem", "this
    eliminates it"), not negated ("it's not a solved problem", "nothing eliminates it")."""
    for i, w in enumerate(s.words):
        if w in _SOLVED and not set(s.words[max(0, i - 3): i]) & (NEGATIONS | HEDGES):
            return True
    return False


def _absolute_hit(phrasing: str, sents: list[Sentence], topic: frozenset[str]) -> ClaimHit | None:
    """A false absolute said in other words: most of the claim's words beyond the question's own
    (at least two), in a sentence that itself speaks in absolutes ("a solved problem", "by
    construction", "always") and does not hedge ("can", "often")."""
    want, neg, absolute = _claim_words(phrasing, True)
    if not absolute and not _ABSOLUTE_MARKERS.search(phrasing) and not _solved_words(phrasing):
        return None  # "MAPE is fine when actuals are zero" claims nothing absolute
    own = [w for w in want if w not in topic]
    if len(own) < 2:
        return None
    # the claim's "prevents" / "solves" said by the sentence as a whole ("it's a solved problem if
    # you put a strong system prompt ...": the fix named after the verb): the rest must be there
    rest = [w for w in own if _CLAIM_SYN.get(w) != _SOLVE_GROUP]
    for s in sents:
        if not _ABSOLUTE_MARKERS.search(s.text) or _DISTANCE.search(s.text):
            continue
        if len(rest) >= 2 and len(rest) < len(own) and _solved_said(s):
            got, lo, hi = _lcs(tuple(rest), s)
            if got == len(rest) and lo >= 0 and hi - lo <= 2 * len(rest) + 2 \
                    and _negation_parity(s, lo - 4, hi) == neg \
                    and not set(s.words[max(0, lo - 4): hi + 1]) & (HEDGES | _CONTRAST):
                return ClaimHit(phrasing, s.text, 1.0)
        got, lo, hi = _lcs(tuple(own), s)
        if got < max(2, math.ceil(0.75 * len(own))) or lo < 0:
            continue
        if _negation_parity(s, lo - 4, hi) != neg or s.chunk[hi] - s.chunk[lo] > 1:
            continue
        if set(s.words[lo: hi + 1]) & (_CONTRAST | {"only"}):
            continue  # "it always converges, but only to a local optimum"
        window = set(s.words[max(0, lo - 4): hi + 1])
        if window & HEDGES - {"reduce", "reduces", "reducing", "lower", "lowers", "less"}:
            continue
        return ClaimHit(phrasing, s.text, got / len(own))
    return None


def _literal_hit(phrasing: str, sents: list[Sentence]) -> ClaimHit | None:
    """The phrasing word for word (two words may come between), not negated or distanced: short
    phrasings ("rag eliminates", "p value is the probability the null is true") say it as is."""
    want = _phrase(phrasing)
    if len(want) < 2:
        return None
    neg = _claim_words(phrasing)[1]
    own = set(normalize(phrasing))
    for s in sents:
        for a, b in _find_all(s.stems, want, gap=2):
            if set(s.words[max(0, a - 4): b + 1]) & _COUNTERFACTUAL:
                continue
            second = next((i for i in range(a + 1, min(b, a + 3) + 1)
                           if same_word(s.stems[i], want[1])), a + 1)
            if any(w not in CLAIM_STOP for w in s.words[a + 1: second]):
                continue  # "missing completely at random" is not "missing at random"
            if set(s.words[max(0, a - 1): b + 1]) & _CONTRAST - own or \
                    _not_asserted(s, a, b, own):
                continue  # "embeddings are dense, unlike sparse one-hot vectors"
            if _negation_parity(s, a - 4, b) == neg and not _DISTANCE.search(s.text):
                return ClaimHit(phrasing, s.text, 1.0)
    return None


# ----------------------------------------------------------------------------- pairs

# words that bind a term to what follows it: "X is / means / measures / happens when ..."
_LINK = frozenset("""is are means mean measures measure refers refer when where which that so
captures capture describes describe tells tell answers answer counts count gives give indicates
indicate implies imply happens happen leads lead causes cause caused results result shows show
corresponds correspond uses use equals equal computes compute asks ask looks look focuses focus
was were be being called defined does do trains train builds build fits fit predicts predict
models model makes make has have learns learn works work penalizes penalize adds add produces
produce pushes push drives drive plots plot compares compare embeds embed encodes encode
processes process scores score treats treat handles handle sees see reads read takes take
combines combine runs run""".split())
_OTHER_CONCEPT = frozenset("semi self weakly non pseudo".split())
# words that name what comes after them: "the share of actual positives we catch is recall"
_NAMES = frozenset("is are was were called named known means mean defines define".split())
# words between a term and a definition it binds (12: two more adversarial answers of tune caught
# than at 8, no honest answer flagged; 14 flagged a correct one)
MAX_BETWEEN = 12
SAME_PART = 7
_LIST = frozenset("and plus or with combined alongside also".split())
_CONTRAST = frozenset("""whereas while but unlike however although though instead rather versus
vs opposed contrast""".split())


def _contrast(between: list[str]) -> bool:
    """A contrast word between a term and a definition: "whereas", "unlike", "instead of"; a bare
    "instead" goes on with the same term ("no labels, so instead the model learns from rewards")."""
    for i, w in enumerate(between):
        if w in _CONTRAST and (w != "instead" or between[i + 1:i + 2] == ["of"]):
            return True
    return False


@dataclass
class _Occ:
    start: int
    end: int  # inclusive word indices
    pair: int
    side: int
    kind: str  # "term" or "def"
    text: str


@lru_cache(maxsize=2048)
def _phrase(p: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in normalize(p))


def _find_all(stems: list[str], phrase: tuple[str, ...], gap: int = 1) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    n = len(stems)
    if not phrase:
        return out
    for i in range(n):
        if not _eq(stems[i], phrase[0]):
            continue
        pos, ok = i, True
        for w in phrase[1:]:
            nxt = next((k for k in range(pos + 1, min(n, pos + 2 + gap)) if _eq(stems[k], w)),
                       None)
            if nxt is None:
                ok = False
                break
            pos = nxt
        if ok:
            out.append((i, pos))
    return out


def _eq(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) >= 5 and len(b) >= 5 and (a.startswith(b) or b.startswith(a)):
        return abs(len(a) - len(b)) <= 3
    return False


def _side_terms(side: PairSide) -> list[str]:
    return [side.term, *side.aliases]


def _raw_occurrences(sent: Sentence, pairs: list[Pair]) -> list[_Occ]:
    """Every term and definition of every pair in the sentence, nested ones included."""
    occ: list[_Occ] = []
    for pi, pair in enumerate(pairs):
        for si, side in enumerate(pair.sides):
            for t in _side_terms(side):
                for a, b in _find_all(sent.stems, _phrase(t), gap=0):
                    if a > 0 and sent.words[a - 1] in _OTHER_CONCEPT:
                        continue  # "semi-supervised" is not "supervised"
                    occ.append(_Occ(a, b, pi, si, "term", t))
            for d in side.defines:
                for a, b in _find_all(sent.stems, _phrase(d), gap=1):
                    occ.append(_Occ(a, b, pi, si, "def", d))
    return occ


def _occurrences(occ: list[_Occ]) -> list[_Occ]:
    """The occurrences that can bind: a shorter occurrence inside a longer one is part of it
    ("encoder" in "cross-encoder", "labels" in "without labels")."""
    keep = []
    for o in occ:
        inside = any(p is not o and p.start <= o.start and o.end <= p.end
                     and (p.end - p.start) > (o.end - o.start) for p in occ)
        # both terms named together ("the bias-variance trade-off", "precision and recall")
        # bind to neither definition
        together = o.kind == "term" and any(
            p.kind == "term" and p.pair == o.pair and p.side != o.side
            and (0 <= p.start - o.end <= 3 or 0 <= o.start - p.end <= 3) for p in occ)
        # definitions of both sides over the same words ("the probability, assuming the null
        # hypothesis is true, ..."): neither is stated
        clash = o.kind == "def" and any(
            p.kind == "def" and p.pair == o.pair and p.side != o.side
            and p.start <= o.end and o.start <= p.end for p in occ)
        if not inside and not together and not clash:
            keep.append(o)
    return keep


# words that say two names are one thing: "L1, which is ridge", "L2, also called lasso"
_EQUATE = frozenset("which is are also called known as aka ie namely basically".split())
_EQUATES = frozenset("is are called known aka ie namely".split())


def _equated_terms(s: Sentence, occ: list[_Occ]) -> list[tuple[int, int, str, str]]:
    """(pair, side named first, its term, the other side's term) for each place the sentence
    names one side's term as the other's: "L1, which is ridge regression, adds the squared
    weights" swaps the names whatever definition follows. ``occ``: :func:`_raw_occurrences`."""
    terms = [o for o in occ if o.kind == "term"]
    out = []
    for o1 in terms:
        for o2 in terms:
            between = s.words[o1.end + 1: o2.start]
            if o2.pair == o1.pair and o2.side != o1.side and 1 <= len(between) <= 4 \
                    and set(between) <= _EQUATE and set(between) & _EQUATES:
                out.append((o1.pair, o1.side, o1.text, o2.text))
    return out


_PRONOUNS = frozenset("i you we it they he she this that one".split())


def _own_subject(s: Sentence, lo: int, d_start: int) -> bool:
    """The definition's comma-separated part has a subject of its own between the term's part
    and its link word: "L2 as a robust default, and elastic net when I want sparsity" says
    sparsity of elastic net, not of L2 (a grade-5 answer of heldout-5 was flagged for it).
    The part must open (after "and", "or") with a content word, not a pronoun or a function word,
    and hold two content words before the link word."""
    part = s.chunk[d_start]
    if s.chunk[lo] == part:
        return False
    idx = [i for i in range(lo, d_start) if s.chunk[i] == part]
    link = next((i for i in idx if s.words[i] in _LINK), None)
    if link is None:
        return False
    before = [i for i in idx if i < link and s.words[i] not in _LIST]
    # "..., it's a second-order optimiser that uses the Hessian" goes on about the same subject
    if not before or s.words[before[0]] in _PRONOUNS or s.words[before[0]] in CLAIM_STOP:
        return False
    content = set(s.content)  # by index: "like" or "sort" is a filler in some places only
    return sum(1 for i in before if i in content and s.words[i] not in _PRONOUNS) >= 2


def find_swapped_pairs(sents: list[Sentence], pairs: list[Pair]) -> list[WrongClaim]:
    """Sentences that bind one side's term to the other side's definition.

    A definition binds to the nearest term of its pair before it in the sentence (or, when none
    comes before, the nearest after: "overfitting is caused by high bias"), provided a linking word
    ("is", "means", "when", "so") joins them, no contrast word ("whereas", "unlike", "rather
    than") and no negation ("not", "never") stands between them, and they are at most eight
    words apart. Bound to the partner's term, the sentence states the pair the wrong way round.
    """
    out: list[WrongClaim] = []
    seen: set[tuple[int, str]] = set()
    for s in sents:
        if _DISTANCE.search(s.text):
            continue
        raw = _raw_occurrences(s, pairs)
        for pi, side, mine_t, theirs_t in _equated_terms(s, raw):
            if (pi, s.text) in seen:
                continue
            seen.add((pi, s.text))
            pair = pairs[pi]
            mine, theirs = pair.sides[side], pair.sides[1 - side]
            out.append(WrongClaim(
                "swapped", f"{mine_t} is {theirs_t}", s.text,
                f"{mine.term} and {theirs.term} are different things: {mine.term} is "
                f"{mine.defines[0]}, {theirs.term} is {theirs.defines[0]}", f"pair:{pair.id}"))
        occ = _occurrences(raw)
        for d in (o for o in occ if o.kind == "def"):
            terms = [o for o in occ if o.kind == "term" and o.pair == d.pair]
            if not terms:
                continue
            before = [t for t in terms if t.end < d.start]
            after = [t for t in terms if t.start > d.end]
            t = max(before, key=lambda o: o.end) if before else \
                (min(after, key=lambda o: o.start) if after else None)
            if t is None or t.side == d.side:
                continue
            # a term of the definition's own side right beside it, in the same comma-separated
            # part, owns it ("one too complex overfits", "the sparse L1 penalty"); across a comma
            # it starts the next clause ("... edges and textures, while the early layers ...")
            if any(o.side == d.side and (0 <= o.start - d.end <= 3 or 0 <= d.start - o.end <= 2)
                   and s.chunk[o.start] == s.chunk[d.start] for o in terms):
                continue
            lo, hi = (t.end + 1, d.start - 1) if t.end < d.start else (d.end + 1, t.start - 1)
            between = s.words[lo: hi + 1]
            if len(between) > MAX_BETWEEN:
                continue
            # another definition of the term's own side in between: "precision, rather than..."
            if any(o.kind == "def" and o.pair == d.pair and o.side == t.side
                   and lo <= o.start <= hi for o in occ):
                continue
            # joined by a linking verb, or close together within one comma-separated part
            same_part = s.chunk[t.start] == s.chunk[d.start] and len(between) <= SAME_PART \
                and not set(between) & _LIST
            # "IVF, the inverted file, compresses each vector": the term right before the
            # definition across one comma is its subject
            same_part = same_part or (not between and t.end < d.start
                                      and s.chunk[d.start] - s.chunk[t.end] == 1)
            if not set(between) & _LINK and not same_part:
                continue
            if t.end < d.start and _own_subject(s, lo, d.start):
                continue
            if t.start > d.end and (s.chunk[t.start] != s.chunk[d.start]
                                    or not set(between) & _NAMES):
                # a definition before its term binds only as "<definition> is / is called
                # <term>" within one clause: "both are sensitive to outliers, so I'd mention MAE
                # as the robust one" does not call MAE sensitive
                continue
            # a negation that is part of a definition ("no labels", "without labels") says what
            # the definition says, not that the binding is denied
            in_defs = {i for o in occ if o.kind == "def" for i in range(o.start, o.end + 1)}
            if _contrast(between) or _negation_parity(s, lo - 1, hi, skip=in_defs) or \
                    _negation_parity(s, t.start - 3, t.start - 1, skip=in_defs):
                continue
            if _DISTANCE.search(s.text):
                continue
            pair = pairs[d.pair]
            key = (d.pair, s.text)
            if key in seen:
                continue
            seen.add(key)
            mine, theirs = pair.sides[t.side], pair.sides[d.side]
            correction = (f"\"{d.text}\" describes {theirs.term}, not {mine.term}: "
                          f"{mine.term} is {mine.defines[0]}, {theirs.term} is "
                          f"{theirs.defines[0]}")
            out.append(WrongClaim("swapped", f"{mine.term} is {d.text}", s.text, correction,
                                  f"pair:{pair.id}"))
    return out


# ----------------------------------------------------------------------------- the verdict


@dataclass
class ClaimReport:
    """What the answer states: key points by claim, and wrong claims with their corrections."""

    points: list[PointClaim] = field(default_factory=list)
    wrong: list[WrongClaim] = field(default_factory=list)

    @property
    def with_claims(self) -> list[PointClaim]:
        return [p for p in self.points if p.has_claims]

    @property
    def stated(self) -> list[PointClaim]:
        return [p for p in self.points if p.stated is not None]


def read_claims(text: str, question: Question, pairs: list[Pair] | None = None) -> ClaimReport:
    sents = sentences(text)
    topic = topic_words(question)
    points = [PointClaim(kp.id, bool(kp.claims),
                         stated_claims(sents, kp, topic) if kp.claims else None)
              for kp in question.key_points]
    wrong = find_wrong_misconceptions(sents, question)
    if CONTRADICTIONS:
        wrong += find_contradictions(sents, question, points, {w.quote for w in wrong})
    if pairs:
        quoted = {w.quote for w in wrong}
        wrong += [w for w in find_swapped_pairs(sents, pairs) if w.quote not in quoted]
    return ClaimReport(points, wrong)


CONTRADICTIONS = True  # reversed key-point claims count as wrong claims


def find_contradictions(sents: list[Sentence], question: Question, points: list[PointClaim],
                        quoted: set[str]) -> list[WrongClaim]:
    """Key-point claims the answer states reversed; the general check beyond the listed
    misconceptions (an effect in the wrong direction, a "you don't need to ...")."""
    out: list[WrongClaim] = []
    stated = {p.key_point: p.stated.quote for p in points if p.stated}
    for kp in question.key_points:
        for c in kp.claims:
            hit = contradicts(c, sents)
            if hit and hit.quote not in quoted and hit.quote != stated.get(kp.id):
                out.append(WrongClaim("direction", c, hit.quote,
                                      f"the opposite holds: {kp.point}", f"key point {kp.id}"))
                quoted.add(hit.quote)
                break
    return out


def relevant_pairs(question: Question, pairs: list[Pair], text: str = "") -> list[Pair]:
    """The pairs whose terms the question, its key points or the answer mention: what a grader's
    prompt needs, without the whole list."""
    hay = " ".join([question.text, *(k.point for k in question.key_points), text])
    stems = [stem(w) for w in normalize(hay)]
    out = []
    for p in pairs:
        if any(_find_all(stems, _phrase(t), gap=0) for side in p.sides for t in _side_terms(side)):
            out.append(p)
    return out
