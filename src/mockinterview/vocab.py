"""Transcription that knows the vocabulary of the current question.

A good answer heard as "DNA impurity" instead of "Gini impurity" is scored as a bad one, so the
transcript must get the candidate's technical words right. Three mechanisms, all driven by the
vocabulary the bank expects for the question being answered (never by a list of known errors):

1. **Biased decoding** (:func:`hotwords_for`): faster-whisper's ``hotwords`` prompt, filled with the
   question's most distinctive terms first. Measured on this project's benchmark
   (``benchmarks/terms.py``) it lifts technical-term recall a lot, but with the bundled tiny.en it
   also, now and then, loops on a hotword, copies the hotword list into the transcript, skips the
   start of a window or appends a hotword after the speech ends. So biased decoding is never used
   alone:
2. **Guarded fusion** (:func:`fuse`): the answer is decoded twice, plain and biased. The plain
   transcript is the base; from the biased one only the stretches that carry an expected term are
   imported, and only where both decodings have words over the same stretch of time (aligned by
   word timestamps) that sound alike. Hallucinated insertions, loops and dropped spans of the biased
   pass cannot reach the result.
3. **Correction** (:func:`correct`): a conservative pass that maps near misses to expected terms by
   sound-alike (Metaphone keys of the spoken form, with letters and digits spelled the way people say
   them) and edit distance over word sequences of 1-4 words ("regular nation" -> "regularization",
   "ex g boost" -> "XGBoost", "el two" -> "L2"). Conservative by construction: a single common
   English word is never replaced; a sequence of common words only when it sounds like the term
   as a whole; letters only change in words the decoder itself was unsure of (word probability);
   a correction never just adds or drops words or changes an inflection; function words are only
   absorbed by spelled acronyms when they sound like letters ("are a g" -> RAG). With the whole
   bank's vocabulary it changes nothing in the real human clips of ``../shared/speech``.

4. **Acoustic verification** (:func:`verify`): looser proposals (sound-alike matches with the
   question's terms and the whole bank's, and every stretch where the biased decoding heard
   something else) are each scored by the same Whisper model against the audio (teacher-forced
   log-probability of the window's text with and without the edit,
   ``WhisperTranscriber.scorer``); an edit is kept only when the audio supports it, with a small
   prior for the question's own terms. Beam search with tiny.en often settles on a wrong hearing
   that the model itself finds far less likely than the right one once it is proposed.

Every change is listed in ``Transcript.corrections`` (position = index in the raw transcript's word
list, i.e. the segments' words in order), ``raw_text`` keeps the decoder's text, ``text`` is what
scoring reads, and the segments' words are rewritten consistently (a merged n-gram becomes one word
spanning the first word's start to the last word's end).
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import jellyfish
import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .audio import SAMPLE_RATE
from .models import Correction, Question, SectionRubric, Segment, Transcript, Word
from .textnorm import american, normalize

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class CorrectionOptions:
    """Thresholds of the correction pass. Defaults were chosen to change nothing on real human
    speech (``../shared/speech``) under any question's vocabulary while fixing near misses.

    - ``max_ngram=4``: transcript word sequences of 1-4 words are compared with each term (a term
      spelled as letters, "ex g boost", takes three words).
    - ``threshold=0.8``: similarity (0-1, the better of spelling and sound) a sequence that holds at
      least one uncommon word needs to be replaced.
    - ``common_threshold=0.85``: the stricter bar for a sequence of two or more common English
      words ("regular nation"): the sequence as a whole must sound like the term.
    - ``min_key_len=4``: sound-alike keys shorter than this are too coarse to trust unless equal.
    - ``unsure_common=0.5`` / ``unsure_rare=0.75``: a correction that changes letters (not just
      spacing, "drop out" -> dropout) needs the decoder to have been unsure of every word it
      changes: word probability below 0.5 for sequences of common words ("regular nation" came
      out at 0.04 and 0.11), below 0.75 otherwise. Transcripts without word probabilities
      (typed answers, probability 1.0) therefore only get spacing fixes.
    """

    max_ngram: int = 4
    threshold: float = 0.8
    common_threshold: float = 0.85
    min_key_len: int = 4
    unsure_common: float = 0.5
    unsure_rare: float = 0.75


@dataclass(frozen=True)
class FusionOptions:
    """How the biased decoding may override the plain one (see :func:`fuse`).

    - ``boundary_tol_s=0.35``: the plain and biased word runs must start and end within this many
      seconds of each other (tiny.en's word timestamps wander by 0.1-0.3 s).
    - ``max_extend=4``: how many words a run may grow on each side while looking for agreeing
      boundaries.
    - ``min_similarity=0.5``: sound-alike similarity the plain run needs with the biased run.
    - ``terms_only=True``: only stretches where the biased pass heard an expected term are
      imported. Importing every confident difference lowered WER on synthesised answers (17.8%
      -> 17.5%) but changed a correct word of real human speech ("cotton" -> "carton").
    - ``term_margin`` / ``word_margin``: how much surer (mean word probability) the biased run
      must be than the plain run, for term stretches / other stretches.
    """

    boundary_tol_s: float = 0.35
    max_extend: int = 4
    min_similarity: float = 0.5
    terms_only: bool = True
    term_margin: float = -1.0
    word_margin: float = 0.0


# ----------------------------------------------------------------------------- common English

# Words never consumed by a correction unless the term itself contains them: replacing "the SNE"
# by "t-SNE" is right once and wrong a hundred times.
FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for from with and or but nor so if as is are was were be been "
    "being am do does did have has had it its it's this that these those there here he she they "
    "we you i me my our your his her their them us what which who whom whose when where why how "
    "not no yes can could will would shall should may might must just then than also very too "
    "up down out over under about into onto off again say like well now dont cant isnt id im "
    "ive youre thats theres wont didnt doesnt arent wasnt werent lets ill youll weve".split())

# Words that sound like a letter's name: the only function words a spelled acronym may absorb
# ("are a g" -> RAG).
LETTER_HOMOPHONES = frozenset(
    "a are our you why see sea be bee oh owe eye i tea tee pea pee queue cue jay kay el em en "
    "ex ef gee dee ess vee zee zed double".split())

_LETTER_NAMES = {
    "a": "ay", "b": "bee", "c": "see", "d": "dee", "e": "ee", "f": "ef", "g": "gee",
    "h": "aitch", "i": "eye", "j": "jay", "k": "kay", "l": "el", "m": "em", "n": "en", "o": "oh",
    "p": "pee", "q": "queue", "r": "ar", "s": "ess", "t": "tee", "u": "you", "v": "vee",
    "w": "double you", "x": "ex", "y": "why", "z": "zee",
}
_LETTER_WORDS = frozenset(w for v in _LETTER_NAMES.values() for w in v.split())
_NUMBER_WORDS = frozenset(["zero", "one", "two", "three", "four", "five", "six", "seven",
                           "eight", "nine", "ten"])
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> list[str]:
    """Spoken words for 0..9999 ("25" -> twenty five); larger numbers digit by digit."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 10000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    return [_ONES[int(d)] for d in str(n)]


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Common English words: those Whisper's tokenizer holds as one whole-word token.

    Why this list: it ships with the model (no extra download), covers about 20,000 frequent
    words, names and acronyms, and a word missing from it ("impurity", "backpropagation") is, by
    construction, one the decoder finds hard to produce, which is exactly where corrections help.
    """
    path = _tokenizer_path()
    if path is None:
        return frozenset()
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError):
        return frozenset()
    out = set()
    for tok in vocab:
        if tok.startswith("\u0120") and len(tok) > 2 and tok[1:].isalpha() and tok[1:].isascii():
            out.add(tok[1:].lower())
    return frozenset(out)


def _tokenizer_path() -> Path | None:
    env = os.environ.get("MOCKINTERVIEW_TOKENIZER")
    if env and Path(env).exists():
        return Path(env)
    try:
        from .transcribe import embedded_model_path

        p = embedded_model_path() / "tokenizer.json"
        return p if p.exists() else None
    except Exception:
        return None


def is_common(word: str) -> bool:
    """True for a common English word (see :func:`common_words`); function words always."""
    w = word.lower()
    if w in FUNCTION_WORDS:
        return True
    words = common_words()
    if not words:  # no tokenizer: treat every alphabetic word as common, the safest choice
        return w.isalpha()
    return w in words


@functools.lru_cache(maxsize=4096)
def bpe_pieces(text: str) -> int:
    """How many Whisper tokens a phrase takes (its cost in the hotwords budget)."""
    tok = _tokenizer()
    if tok is None:
        return max(1, len(text) // 3)
    return len(tok.encode(" " + text.strip(), add_special_tokens=False).ids)


@functools.lru_cache(maxsize=1)
def _tokenizer():
    path = _tokenizer_path()
    if path is None:
        return None
    try:
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(path))
    except Exception:
        return None


# ----------------------------------------------------------------------------- spoken forms

_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_VOWELS = set("aeiouy")


def _spell(letters: str) -> list[str]:
    out: list[str] = []
    for ch in letters.lower():
        out.extend(_LETTER_NAMES.get(ch, ch).split())
    return out


def _token_forms(tok: str) -> list[list[str]]:
    """Ways a written token is said: as a word, as letters (acronyms), digits as number words."""
    if tok.isdigit():
        return [number_words(int(tok))]
    parts = _CAMEL_RE.findall(tok)
    if not parts:
        return [[tok.lower()]]
    forms: list[list[str]] = [[tok.lower()]]
    spoken: list[str] = []
    spelled_any = False
    for p in parts:
        if p.isdigit():
            spoken.extend(number_words(int(p)))
        elif (p.isupper() and len(p) <= 5) or (len(p) <= 4 and not (set(p.lower()) & _VOWELS)):
            spoken.extend(_spell(p))
            spelled_any = True
        else:
            spoken.append(p.lower())
    if spelled_any or len(parts) > 1:
        forms.append(spoken)
    if any(p.isdigit() for p in parts) and not spelled_any:
        forms.append(spoken)
    return forms


def spoken_forms(term: str, limit: int = 8) -> list[list[str]]:
    """The word sequences a term may be heard as ("XGBoost" -> [xgboost], [ex, gee, boost])."""
    raw = [t for t in re.split(r"[\s\-/_]+", term.strip()) if t]
    forms: list[list[str]] = [[]]
    for tok in raw:
        tok = re.sub(r"[^\w']", "", tok)
        if not tok:
            continue
        options = _token_forms(tok)
        forms = [f + o for f in forms for o in options][:limit]
    return [f for f in forms if f]


def _heard_words(word: str) -> list[str]:
    """How a transcript word sounds, as plain words: letters and digits are spelled out."""
    toks = normalize(word)
    out: list[str] = []
    for t in toks:
        m = re.fullmatch(r"([a-z])(\d+)", t)
        if m:  # "l2"
            out.extend(_spell(m.group(1)) + number_words(int(m.group(2))))
        elif t.isdigit():
            out.extend(number_words(int(t)))
        elif len(t) == 1 and t not in ("a", "i"):
            out.extend(_spell(t))
        elif len(toks) == 1 and 2 <= len(t) <= 5 and word.strip(".,!?;:-'\"").isupper():
            out.extend(_spell(t))  # an acronym: "PCA" is said letter by letter
        else:
            out.append(t)
    return out


def _disjoint(items: list, span_of) -> list:
    """Greedily keep items (already sorted best first) whose word spans don't overlap."""
    taken: set[int] = set()
    keep = []
    for item in items:
        a, b = span_of(item)
        span = set(range(a, b + 1))
        if span & taken:
            continue
        taken |= span
        keep.append(item)
    return keep


def _key(words: Sequence[str]) -> str:
    return "".join(jellyfish.metaphone(w) for w in words if w).upper()


def _orth(words: Sequence[str]) -> str:
    return "".join(words)


def _sim(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return Levenshtein.normalized_similarity(a, b)


# ----------------------------------------------------------------------------- terms


@dataclass
class _Term:
    text: str
    norm: tuple[str, ...]
    orth: str
    keys: list[str]  # Metaphone keys of the spoken forms
    said: list[str]  # the spoken form behind each key, letters joined ("eltwo")
    words_lower: frozenset[str] = field(default_factory=frozenset)
    spelled: bool = False  # has a form said letter by letter (RAG, L2, XGBoost)

    @classmethod
    def of(cls, text: str) -> _Term | None:
        norm = tuple(normalize(text))
        if not norm:
            return None
        forms = spoken_forms(text)
        by_key: dict[str, str] = {}
        for f in forms:
            if _key(f) and _key(f) not in by_key:
                by_key[_key(f)] = _orth(f)
        keys = sorted(by_key)
        said = [by_key[k] for k in keys]
        spelled = any(any(w in _LETTER_WORDS for w in f) for f in forms)
        return cls(text=text.strip(), norm=norm, orth=_orth(norm), keys=keys, said=said,
                   words_lower=frozenset(norm), spelled=spelled)


def _prepare(terms: Iterable[str]) -> list[_Term]:
    seen: set[tuple[str, ...]] = set()
    out: list[_Term] = []
    for t in terms:
        if not t or not t.strip():
            continue
        term = _Term.of(t)
        if term is None or term.norm in seen or len(term.orth) < 2:
            continue
        seen.add(term.norm)
        out.append(term)
    return out


@functools.lru_cache(maxsize=4)
def _prepared(terms: tuple[str, ...]) -> list[_Term]:
    """:func:`_prepare` once per term list: the bank's 4,000 terms cost 0.1 s each time."""
    return _prepare(terms)


_ACRONYM_RE = re.compile(r"\b(?:[A-Z][A-Za-z]*[A-Z][A-Za-z0-9]*|[A-Za-z]+\d+[A-Za-z0-9]*|[a-z]+[A-Z]\w*)\b")
_LETTER_COMPOUND_RE = re.compile(r"(?<![\w-])[A-Za-z][-/][A-Za-z]\w*")  # k-means, t-SNE, A/B
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]")


def is_technical(phrase: str) -> bool:
    """A phrase worth biasing towards: it holds an acronym, a digit, a camel-cased word or a word
    that is not common English (one the decoder finds hard). Long phrasings (sentences) are not."""
    words = phrase.split()
    if not words or len(words) > 4:
        return False
    if _ACRONYM_RE.search(phrase) or _LETTER_COMPOUND_RE.search(phrase):
        return True
    for w in re.split(r"[\s\-/]+", phrase):
        w = w.strip("'.,()")
        if len(w) >= 3 and w.isalpha() and not is_common(w) and not _inflection_of_common(w):
            us = american(w.lower())
            if us != w.lower() and (is_common(us) or _inflection_of_common(us)):
                continue  # "maximise": a British spelling of a common word
            return True
    return False


def _inflection_of_common(word: str) -> bool:
    """'labelled', 'clusters', 'annotated': an inflected common word, not a technical term."""
    w = word.lower()
    for suffix in ("s", "es", "ed", "led", "d", "ing", "ling", "ly", "er"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and is_common(w[: -len(suffix)]):
            return True
    return False


def _terms_in_text(text: str) -> list[str]:
    """Technical single words and acronyms pulled from a key point's prose."""
    out: list[str] = []
    for m in _ACRONYM_RE.finditer(text):
        out.append(m.group(0))
    for m in _WORD_RE.finditer(text):
        w = m.group(0)
        parts = [p for p in w.split("-") if p]
        if "-" in w and any(is_technical(p) for p in parts):
            out.append(w)
        elif w.isalpha() and len(w) >= 4 and is_technical(w):
            out.append(w.lower() if not w[1:].islower() or w[0].islower() else w.lower())
    return out


def question_terms(question: Question | None, rubric: SectionRubric | None) -> list[str]:
    """The vocabulary expected while this question is answered, most specific first.

    Order: the technical phrasings of the question's key points, technical words pulled from the
    key point texts (and the question text), the key points' other two- and three-word phrasings,
    then the section's ``common_terms`` (most distinctive first). Duplicates (after
    normalisation) are dropped. Either argument may be None (a question missing from the bank falls
    back to the section's terms).
    """
    ordered: list[str] = []
    if question is not None:
        for kp in question.key_points:
            ordered.extend(p for p in kp.phrasings if is_technical(p))
        for kp in question.key_points:
            ordered.extend(_terms_in_text(kp.point))
        # then the short multi-word phrasings made of common words ("prompt injection",
        # "multiple comparisons"): the decoder gets them wrong too, and as phrases they are
        # specific enough to import from the biased pass or to correct towards
        for kp in question.key_points:
            ordered.extend(p for p in kp.phrasings if 2 <= len(p.split()) <= 3)
        ordered.extend(_terms_in_text(question.text))
    if rubric is not None:
        # the section's list is long: its most distinctive terms first, so a token budget keeps
        # the ones the decoder needs help with
        ranked = sorted(enumerate(rubric.common_terms), key=lambda it: (-distinctiveness(it[1]),
                                                                       it[0]))
        ordered.extend(t for _i, t in ranked)
    if question is not None:
        # last, so that they never crowd the hotwords: the question's own subject ("prompt
        # injection": two content words of its text) and the technical words of its model
        # answer, which the key points may only paraphrase
        ordered.extend(_subject_phrases(question.text))
        if question.outline:
            ordered.extend(_terms_in_text(question.outline))
    return _dedupe(ordered)


def _subject_phrases(text: str) -> list[str]:
    """Pairs of adjacent content words in a question ("prompt injection", "feature store")."""
    out = []
    for clause in re.split(r"[,.;:?!()]", text):
        words = re.findall(r"[A-Za-z][A-Za-z0-9'\-]*", clause)
        for a, b in zip(words, words[1:], strict=False):
            if all(len(w) >= 3 and w.lower() not in FUNCTION_WORDS
                   and w.lower() not in _QUESTION_WORDS for w in (a, b)):
                out.append(f"{a} {b}")
    return out


# verbs and fillers of interview questions: never part of the subject
_QUESTION_WORDS = frozenset(
    "explain describe walk tell give design compare choose use using used would could should "
    "does mean means work works between difference differences handle approach example "
    "examples happen happens make good bad best way ways things thing time times against "
    "including within without across through after before during fit fits".split())


def _dedupe(terms: Iterable[str]) -> list[str]:
    """Terms once each (by normalised words), in first-seen order, each in its best-cased
    spelling: "LightGBM" over "lightgbm", since the decoder scores the written form."""
    index: dict[tuple[str, ...], int] = {}
    out: list[str] = []
    for t in terms:
        t = t.strip()
        key = tuple(normalize(t))
        if not key:
            continue
        if key not in index:
            index[key] = len(out)
            out.append(t)
        elif out[index[key]].islower() and not t.islower():
            out[index[key]] = t
    return out


# ----------------------------------------------------------------------------- hotwords

HOTWORDS_BUDGET = 120  # tokens; faster-whisper truncates at 223, and shorter prompts loop less


def distinctiveness(term: str) -> float:
    """How much a term needs biasing: Whisper tokens per word (rare words split into many
    pieces), plus one for an acronym or digit. Common words ("precision") score lowest."""
    words = max(1, len(term.split()))
    score = bpe_pieces(term) / words
    if _ACRONYM_RE.search(term):
        score += 1.0
    if all(is_common(w) for w in re.findall(r"[A-Za-z]+", term)):
        score -= 1.0
    return score


def hotwords_for(terms: Sequence[str], max_tokens: int = HOTWORDS_BUDGET) -> str:
    """The ``hotwords`` string for faster-whisper: the terms in the order given (pass the
    question's own terms first, as :func:`question_terms` returns them), skipping terms made only
    of common English words (the decoder gets those right unaided), within ``max_tokens`` Whisper
    tokens.

    Terms are joined by spaces: separated by commas, tiny.en was measured to repeat the list
    ("XGBoost, XGBoost, ...") far more often.
    """
    chosen: list[str] = []
    used = 0
    for t in terms:
        t = t.strip() if t else ""
        if not t or distinctiveness(t) <= 0:
            continue
        cost = bpe_pieces(t)
        if used + cost > max_tokens:
            continue
        chosen.append(t)
        used += cost
    return " ".join(chosen)


# ----------------------------------------------------------------------------- word lists


@dataclass
class _W:
    """A transcript word while we edit: its text, times, probability, and raw-word index."""

    word: str
    start: float
    end: float
    probability: float
    raw: int  # index in the raw word list of its first raw word
    seg: int
    changed: bool = False  # rewritten by this pass (its segment's text is rebuilt)
    fixed: bool = False  # written by an earlier pass: never changed again, so that every raw
    # word is changed at most once and the corrections replay in position order


def _flatten(t: Transcript) -> list[_W]:
    out: list[_W] = []
    if t.segments and any(s.words for s in t.segments):
        for si, s in enumerate(t.segments):
            for w in s.words:
                out.append(_W(w.word, w.start, w.end, w.probability, len(out), si))
    else:
        for w in t.text.split():
            out.append(_W(w, 0.0, 0.0, 1.0, len(out), 0))
    return out


def _raw_index_map(t: Transcript, words: list[_W]) -> None:
    """Give the current words of ``t`` their raw-word indices by replaying its corrections."""
    if not t.corrections:
        return
    raw_pos = 0
    cur = 0
    for c in sorted(t.corrections, key=lambda c: c.position):
        while raw_pos < c.position and cur < len(words):
            words[cur].raw = raw_pos
            raw_pos += 1
            cur += 1
        n_new = max(1, len(c.corrected.split()))
        for k in range(n_new):
            if cur + k < len(words):
                words[cur + k].raw = c.position
                words[cur + k].fixed = True
        cur += n_new
        raw_pos = c.position + max(1, len(c.original.split()))
    while cur < len(words):
        words[cur].raw = raw_pos
        raw_pos += 1
        cur += 1


def _rebuild(t: Transcript, words: list[_W], corrections: list[Correction]) -> Transcript:
    """A new Transcript from edited words; untouched segments keep their decoder text."""
    raw_text = t.raw_text if t.raw_text is not None else t.text
    all_corr = sorted(list(t.corrections) + corrections, key=lambda c: c.position)
    if not t.segments or not any(s.words for s in t.segments):
        text = " ".join(w.word for w in words)
        return t.model_copy(update={"text": text, "raw_text": raw_text, "corrections": all_corr})
    changed = {w.seg for w in words if w.changed}
    by_seg: dict[int, list[_W]] = {}
    for w in words:
        by_seg.setdefault(w.seg, []).append(w)
    segs: list[Segment] = []
    for si, s in enumerate(t.segments):
        ws = by_seg.get(si, [])
        new_words = [Word(word=w.word, start=w.start, end=w.end, probability=w.probability)
                     for w in ws]
        if si in changed or len(ws) != len(s.words):
            if not ws:
                continue  # every word moved into the previous segment by a merge
            text = _join(w.word for w in ws)
            start, end = min(s.start, ws[0].start), max(ws[-1].end, ws[0].start)
            segs.append(Segment(start=start, end=end, text=text, words=new_words))
        else:
            segs.append(Segment(start=s.start, end=s.end, text=s.text, words=new_words))
    text = " ".join(s.text for s in segs if s.text).strip()
    return t.model_copy(update={"text": text, "raw_text": raw_text, "corrections": all_corr,
                                "segments": segs})


def _join(words: Iterable[str]) -> str:
    """Words back into text the way Whisper wrote them: its word pieces "-means" and "'s" are
    glued to the word before ("k-means", not "k -means")."""
    out = ""
    for w in words:
        glue = out and w[:1] in "-'" and w[1:2].isalnum() and out[-1:].isalnum()
        out += w if glue else (" " if out else "") + w
    return out


_LEAD_PUNCT = re.compile(r"^[^\w]+")
_TRAIL_PUNCT = re.compile(r"[^\w]+$")


def _dress(term: str, first: str, last: str) -> str:
    """The term with the original's leading/trailing punctuation and sentence capital."""
    lead = _LEAD_PUNCT.match(first)
    trail = _TRAIL_PUNCT.search(last)
    core = term
    body = first[lead.end():] if lead else first
    if body[:1].isupper() and core[:1].islower() and core == core.lower():
        core = core[0].upper() + core[1:]
    trail_s = trail.group(0) if trail else ""
    if trail_s.startswith("'"):
        trail_s = ""
    return (lead.group(0) if lead else "") + core + trail_s


def _replace(words: list[_W], a: int, b: int, new_texts: list[str],
             times: list[tuple[float, float]] | None = None) -> list[_W]:
    """Replace words[a..b] (inclusive) by new words spanning the same time."""
    start, end = words[a].start, words[b].end
    seg = words[a].seg
    raw = words[a].raw
    prob = min(w.probability for w in words[a:b + 1])
    out: list[_W] = []
    if times is None:
        weights = [max(1, len(t)) for t in new_texts]
        total = sum(weights)
        t0 = start
        times = []
        for wt in weights:
            t1 = t0 + (end - start) * wt / total
            times.append((round(t0, 3), round(t1, 3)))
            t0 = t1
        times[-1] = (times[-1][0], end)
    for k, txt in enumerate(new_texts):
        out.append(_W(txt, times[k][0], times[k][1], prob, raw, seg, changed=True))
    return words[:a] + out + words[b + 1:]


# ----------------------------------------------------------------------------- correction


def _norm_words(words: Sequence[_W]) -> list[tuple[str, ...]]:
    return [tuple(normalize(w.word)) for w in words]


def _score(gram: Sequence[str], term: _Term, min_key_len: int) -> float:
    """Similarity of a heard word sequence to a term: best of spelling and sound."""
    orth = _orth(gram)
    s_orth = _sim(orth, term.orth)
    heard = [h for g in gram for h in _heard_words(g)]
    key = _key(heard)
    s_key = 0.0
    spoken = _orth(heard)
    for k, said in zip(term.keys, term.said, strict=True):
        if min(len(k), len(key)) < min_key_len:
            # a short key is coarse ("radian" and "right now" are both R-T-N): equal keys count
            # only when the spelling of what was said is close too
            s = 1.0 if k == key and len(k) >= 3 and _sim(spoken, said) >= 0.5 else 0.0
        else:
            s = _sim(key, k)
        s_key = max(s_key, s)
    return max(s_orth, s_key)


def correct(transcript: Transcript, terms: Sequence[str],
            options: CorrectionOptions | None = None) -> Transcript:
    """Map near misses in ``transcript`` to the expected ``terms`` (see the module doc).

    Returns a new Transcript: ``raw_text`` is kept (set from ``text`` when it was None), ``text``
    is the corrected text, ``corrections`` lists each change and the segments' words are
    rewritten. Without a near miss the transcript comes back unchanged (except ``raw_text``).
    """
    opts = options or CorrectionOptions()
    prepared = _prepare(terms)
    words = _flatten(transcript)
    _raw_index_map(transcript, words)
    if not prepared or not words:
        return _rebuild(transcript, words, [])
    single_terms = {t.norm[0] for t in prepared if len(t.norm) == 1}
    norms = _norm_words(words)
    candidates: list[tuple[float, int, int, _Term]] = []
    protected: set[int] = set()
    n_words = len(words)
    # words already forming an expected term are protected from every change
    for i in range(n_words):
        for n in range(1, opts.max_ngram + 1):
            j = i + n - 1
            if j >= n_words or words[j].seg != words[i].seg:
                break
            flat = tuple(x for k in range(i, j + 1) for x in norms[k])
            if any(flat == t.norm for t in prepared):
                protected.update(range(i, j + 1))
    for i in range(n_words):
        for n in range(1, opts.max_ngram + 1):
            j = i + n - 1
            if j >= n_words or words[j].seg != words[i].seg:
                break
            if words[j].fixed:
                break
            gram = [x for k in range(i, j + 1) for x in norms[k]]
            if not gram or any(not g.isalnum() for g in gram):
                continue
            orth = _orth(gram)
            for term in prepared:
                if gram == list(term.norm):
                    continue
                # a word already forming an expected term only joins a term that contains it
                if any(k in protected and not set(norms[k]) <= term.words_lower
                       for k in range(i, j + 1)):
                    continue
                if not 0.5 * len(term.orth) <= len(orth) <= 2.0 * len(term.orth) + 2:
                    continue
                # a function word at either end, or an expected term the term lacks, is only
                # consumed on an exact match ("drop out" -> dropout, "are a g" -> RAG)
                edge = {gram[0], gram[-1]}
                loose = [e for e in edge if e in FUNCTION_WORDS and e not in term.words_lower]
                if loose and not (term.spelled or orth == term.orth):
                    continue
                if any(e not in LETTER_HOMOPHONES for e in loose) and orth != term.orth:
                    continue  # "tedious to" is never "t-test"
                needs_exact = bool(loose)
                if orth != term.orth and any(g in single_terms and g not in term.words_lower
                                             for g in gram):
                    continue  # an expected term is only absorbed by a spacing fix ("light GBM")
                if any(g.isdigit() for g in gram) and not any(
                        ch.isdigit() for ch in term.orth) and not _spelled_digits(term):
                    continue
                if _pure_edit(gram, list(term.norm)):
                    continue  # only inserts/deletes words or changes an inflection
                if needs_exact and orth != term.orth and not all(
                        _letter_like(g) or g in term.words_lower for g in gram):
                    continue  # "a reset" is not R-C-T: a spelled term takes only letters
                originals = [_bare(words[k].word) for k in range(i, j + 1)]
                all_common = all(is_common(o) or _inflection_of_common(o) for o in originals)
                if all_common and n == 1 and orth != term.orth:
                    continue  # one common word is never turned into a term
                if orth != term.orth:
                    # letters change: the decoder must have been unsure of the words that change
                    changed = [k for k in range(i, j + 1)
                               if not all(_kept(x, term) for x in norms[k])]
                    unsure = opts.unsure_common if all_common else opts.unsure_rare
                    if any(words[k].probability >= unsure for k in changed):
                        continue
                    if len(term.orth) <= 4:
                        needs_exact = True  # short terms (RCT, NLP): a near miss is noise
                score = _score(gram, term, opts.min_key_len)
                bar = opts.common_threshold if all_common else opts.threshold
                if needs_exact:
                    bar = max(bar, 0.99)
                if score >= bar:
                    candidates.append((score, i, j, term))
    if not candidates:
        return _rebuild(transcript, words, [])
    # best first; a longer span wins a tie
    candidates.sort(key=lambda c: (-c[0], -(c[2] - c[1])))
    chosen = _disjoint(candidates, lambda c: (c[1], c[2]))
    corrections: list[Correction] = []
    for score, i, j, term in sorted(chosen, key=lambda c: -c[1]):  # right to left keeps indices
        original = " ".join(w.word for w in words[i:j + 1])
        dressed = _dress(term.text, words[i].word, words[j].word)
        new = dressed.split()
        corrections.append(Correction(original=original, corrected=dressed,
                                      position=words[i].raw, score=round(score, 3),
                                      via="sound-alike"))
        words = _replace(words, i, j, new)
    return _rebuild(transcript, words, corrections)


def _bare(word: str) -> str:
    """A transcript word without surrounding punctuation or hyphens ("-squared," -> squared)."""
    return re.sub(r"^[^\w]+|[^\w]+$", "", word)


def _kept(tok: str, term: _Term) -> bool:
    """A heard word the correction keeps: a word of the term, or the start or end of a term
    written as one word ("regular" in regularization, "boost" in XGBoost)."""
    if any(_same_word(tok, w) for w in term.norm):
        return True
    return len(tok) >= 4 and (term.orth.startswith(tok) or term.orth.endswith(tok))


def _letter_like(tok: str) -> bool:
    return (len(tok) == 1 or tok in LETTER_HOMOPHONES or tok in _LETTER_WORDS or tok.isdigit()
            or tok in _NUMBER_WORDS or bool(re.fullmatch(r"[a-z]\d+", tok)))


_INFLECTIONS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly")


def _stems(tok: str) -> set[str]:
    out = {tok}
    for suf in _INFLECTIONS:
        if tok.endswith(suf) and len(tok) - len(suf) >= 3:
            out.add(tok[: -len(suf)])
    return out


def _same_word(a: str, b: str) -> bool:
    return a == b or bool(_stems(a) & _stems(b))


def _pure_edit(gram: list[str], term: list[str]) -> bool:
    """True when turning gram into term only adds or drops whole words, or only changes
    inflections ("regularization" -> "L1 regularization", "eigenvalue" -> "eigenvalues",
    "class imbalance say" -> "class imbalance"): that is not a mis-hearing to repair."""
    shorter, longer = (gram, term) if len(gram) <= len(term) else (term, gram)
    pos = 0
    for x in shorter:  # is the shorter one a subsequence of the longer one?
        while pos < len(longer) and not _same_word(x, longer[pos]):
            pos += 1
        if pos == len(longer):
            return False
        pos += 1
    return True


def _spelled_digits(term: _Term) -> bool:
    return any(k for k in term.keys if any(ch.isdigit() for ch in k))


# ----------------------------------------------------------------------------- fusion


def _term_hits(norms: list[tuple[str, ...]], prepared: list[_Term]
               ) -> list[tuple[tuple[str, ...], tuple[int, int]]]:
    """(term, (first word, last word)) of every expected term occurring in a word list."""
    toks: list[str] = []
    owner: list[int] = []
    for wi, n in enumerate(norms):
        for x in n:
            toks.append(x)
            owner.append(wi)
    hits: set[tuple[tuple[str, ...], tuple[int, int]]] = set()
    for term in prepared:
        k = len(term.norm)
        for s in range(len(toks) - k + 1):
            if tuple(toks[s:s + k]) == term.norm:
                hits.add((term.norm, (owner[s], owner[s + k - 1])))
    return sorted(hits, key=lambda h: (h[1], h[0]))


def _looping(norms: Sequence[tuple[str, ...]]) -> bool:
    flat = [x for n in norms for x in n]
    for size in (1, 2, 3):
        for s in range(0, max(0, len(flat) - 3 * size + 1)):
            a = flat[s:s + size]
            if a == flat[s + size:s + 2 * size] == flat[s + 2 * size:s + 3 * size]:
                return True
    return False


def fuse(plain: Transcript, biased: Transcript, terms: Sequence[str],
         options: FusionOptions | None = None) -> Transcript:
    """The plain transcript, with the stretches where the biased decoding heard an expected term
    imported from it (see the module doc). Each import is listed as a correction."""
    opts = options or FusionOptions()
    prepared = _prepare(terms)
    P = _flatten(plain)
    B = _flatten(biased)
    if not prepared or not P or not B or not (plain.segments and biased.segments):
        return _rebuild(plain, P, [])
    pn, bn = _norm_words(P), _norm_words(B)
    plain_hits = _term_hits(pn, prepared)
    biased_hits = _term_hits(bn, prepared)
    tol = opts.boundary_tol_s

    def accept(a: int, b: int, i: int, j: int) -> float | None:
        """Similarity when B[i..j] may replace P[a..b], None when it may not."""
        if a < 0 or i < 0 or b >= len(P) or j >= len(B) or a > b or i > j:
            return None
        if abs(P[a].start - B[i].start) > tol or abs(P[b].end - B[j].end) > tol:
            return None  # not the same stretch of audio
        p_run, b_run = pn[a:b + 1], bn[i:j + 1]
        if [x for n in p_run for x in n] == [x for n in b_run for x in n]:
            return None
        # never trade away an expected term the plain pass heard
        p_terms = {t for t, (ha, hb) in plain_hits if a <= ha and hb <= b}
        b_terms = {t for t, (ha, hb) in biased_hits if i <= ha and hb <= j}
        if not p_terms <= b_terms:
            return None
        if opts.terms_only and not b_terms:
            return None
        # confidence: outside expected terms, the biased words must be clearly surer
        p_conf = sum(w.probability for w in P[a:b + 1]) / (b - a + 1)
        b_conf = sum(w.probability for w in B[i:j + 1]) / (j - i + 1)
        margin = opts.term_margin if b_terms else opts.word_margin
        if b_conf < p_conf + margin:
            return None
        if _looping(b_run) or _looping(bn[max(0, i - 6):j + 7]):
            return None
        p_heard = [h for n in p_run for x in n for h in _heard_words(x)]
        b_heard = [h for n in b_run for x in n for h in _heard_words(x)]
        # acronyms as said letter by letter ("AUC" -> ay you see), from the decoder's casing
        p_said = [h for w in P[a:b + 1] for h in _heard_words(w.word)]
        b_said = [h for w in B[i:j + 1] for h in _heard_words(w.word)]
        pl, bl = len(_orth(p_heard)), len(_orth(b_heard))
        if not (0.5 * bl <= pl <= 2.0 * bl):
            return None
        if _pure_edit([x for n in p_run for x in n], [x for n in b_run for x in n]):
            return None  # only drops or adds words: not a different hearing of the same sounds
        sim = max(_sim(_key(p_heard), _key(b_heard)), _sim(_orth(p_heard), _orth(b_heard)),
                  _sim(_key(p_said), _key(b_said)))
        return sim + len(b_terms) if sim >= opts.min_similarity else None

    edits: list[tuple[int, int, int, int, float]] = []  # P a..b <- B i..j
    # 1. where the two decodings disagree word for word (difflib alignment of the word lists)
    matcher = difflib.SequenceMatcher(a=[" ".join(n) for n in pn], b=[" ".join(n) for n in bn],
                                      autojunk=False)
    for op, a, b_end, i, j_end in matcher.get_opcodes():
        if op == "replace":
            sim = accept(a, b_end - 1, i, j_end - 1)
            if sim is not None:
                edits.append((a, b_end - 1, i, j_end - 1, sim))
    # 2. around each expected term the biased pass heard, growing both runs until they start
    #    and end together (catches terms the word alignment split differently)
    for _term, (i0, j0) in biased_hits:
        s, e = B[i0].start, B[j0].end
        over = [k for k, w in enumerate(P) if w.end > s + 0.02 and w.start < e - 0.02]
        if not over:
            continue  # nothing was heard there by the plain pass: an insertion
        a, b, i, j = over[0], over[-1], i0, j0
        for _ in range(2 * opts.max_extend + 2):
            ds = P[a].start - B[i].start
            de = P[b].end - B[j].end
            if abs(ds) <= tol and abs(de) <= tol:
                sim = accept(a, b, i, j)
                if sim is not None:
                    edits.append((a, b, i, j, sim))
                break
            if ds > tol:  # plain run starts later: take one more plain word on the left
                a -= 1
            elif ds < -tol:
                i -= 1
            if de < -tol:
                b += 1
            elif de > tol:
                j += 1
            if a < 0 or i < 0 or b >= len(P) or j >= len(B):
                break
            if (i0 - i) > opts.max_extend or (j - j0) > opts.max_extend:
                break
    # keep non-overlapping edits, best first: the most expected terms imported, then the most
    # similar (accept() returns similarity + number of terms)
    edits.sort(key=lambda x: -x[4])
    keep = _disjoint(edits, lambda ed: (ed[0], ed[1]))
    words = P
    corrections: list[Correction] = []
    for a, b, i, j, sim in sorted(keep, key=lambda x: -x[0]):
        lo, hi = P[a].start, P[b].end
        times = []
        prev = lo
        for w in B[i:j + 1]:
            st = min(max(w.start, prev), hi)
            en = min(max(w.end, st), hi)
            times.append((round(st, 3), round(en, 3)))
            prev = en
        new = [w.word for w in B[i:j + 1]]
        corrections.append(Correction(original=" ".join(w.word for w in P[a:b + 1]),
                                      corrected=" ".join(new), position=P[a].raw,
                                      score=round(sim % 1.0 or 1.0, 3), via="biased"))
        words = _replace(words, a, b, new, times)
    return _rebuild(plain, words, corrections)


# ----------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerifyOptions:
    """Acoustic verification of candidate edits (see :func:`verify`).

    - ``window_s=28``: the answer is scored in windows of at most this long (the encoder sees
      30 s), cut in the widest pauses between words.
    - ``match=0.62``: how alike (0-1, the better of spelling and sound) a word sequence and a term
      must be for the edit to be proposed at all; loose on purpose, the audio decides.
    - ``question_bonus=2.0`` / ``bank_bonus=0.0``: the prior, in nats, of a term expected for
      this question / of any other term of the bank: an edit is kept when the model's
      log-probability of the window with it, plus the bonus, beats the window without it by
      ``margin``. The question bonus is contextual biasing (the interviewer just asked about
      it); a bank term gets none, the audio alone must prefer it.
    - ``margin=1.0``: nats an edit with a prior must gain.
    - ``plain_margin=2.5`` / ``strong=6.0``: an edit without a prior (a bank term, or a stretch of
      the biased decoding holding none of the question's terms) must gain 2.5 nats, and unless
      it gains 6 its words must be known ones (common English or a bank term): below that,
      tiny.en's preference between two garbled hearings ("cross-validation" against
      "cross-malination") was measured to be noise.
    - ``bank_match=0.7``: the stricter likeness asked of a bank term outside the question's
      vocabulary (there are thousands).
    - ``max_candidates=12``: per window, the most alike proposals of the question's terms are
      scored, and as many of the bank's (each costs one decoder pass, about 35 ms for a 28 s
      window with tiny.en). Measured on ``benchmarks/terms.py``: 32 gave the same transcripts
      at 1.6x the cost (0.117 against 0.072 s per second of speech).
    """

    window_s: float = 28.0
    match: float = 0.62
    bank_match: float = 0.7
    question_bonus: float = 2.0
    bank_bonus: float = 0.0
    margin: float = 1.0
    plain_margin: float = 2.5
    strong: float = 6.0
    max_candidates: int = 12


@dataclass
class _Edit:
    i: int
    j: int
    new: list[str]
    prior: float  # nats added to the gain
    sim: float
    source: str  # "term" (the question's), "bank" or "biased"


def _known(word: str, vocab_words: set[str]) -> bool:
    """A word the verified pass may write without strong evidence: common English (or an
    inflection of it), a word of a known term, a number or a single letter."""
    toks = normalize(word)
    return all(t.isdigit() or len(t) == 1 or t in vocab_words or is_common(t)
               or _inflection_of_common(t) or any(s in vocab_words for s in _stems(t))
               for t in toks)


def bank_terms(bank) -> list[str]:
    """Every question's vocabulary and every section's common terms, once each: the wider net
    the verified pass may use (each candidate must still be supported by the audio)."""
    key = id(bank)
    cached = _BANK_TERMS.get(key)
    if cached is not None and cached[0] is bank:
        return cached[1]
    every: list[str] = []
    for q in bank.questions.values():
        every.extend(question_terms(q, None))
    for r in bank.sections.values():
        every.extend(r.common_terms)
    out = _dedupe(every)
    _BANK_TERMS.clear()
    _BANK_TERMS[key] = (bank, out)
    return out


_BANK_TERMS: dict[int, tuple[object, list[str]]] = {}


def _windows(words: list[_W], duration: float, window_s: float) -> list[tuple[int, int, float, float]]:
    """(first word, last word + 1, start s, end s) windows of at most ``window_s``, cut in the
    widest gap between words in the second half of each window."""
    out = []
    a = 0
    t0 = 0.0
    n = len(words)
    while a < n:
        if duration - t0 <= window_s or words[-1].end - t0 <= window_s - 0.5:
            out.append((a, n, t0, duration))
            break
        limit = t0 + window_s
        last = a
        while last + 1 < n and words[last + 1].end < limit - 0.3:
            last += 1
        # the widest gap after word k, for k in the second half of the window
        best, cut = -1.0, last
        for k in range(a, last):
            if words[k].end - t0 < window_s / 2:
                continue
            gap = words[k + 1].start - words[k].end
            if gap > best:
                best, cut = gap, k
        end_t = (words[cut].end + words[cut + 1].start) / 2 if cut + 1 < n else duration
        end_t = max(end_t, words[cut].end)
        out.append((a, cut + 1, t0, min(end_t, t0 + 30.0)))
        a, t0 = cut + 1, end_t
    return out


def _term_candidates(words: list[_W], norms: list[tuple[str, ...]], a: int, b: int,
                     question: list[_Term], others: list[_Term], protected: set[int],
                     opts: VerifyOptions) -> list[_Edit]:
    grams: list[tuple[int, int, list[str]]] = []
    for i in range(a, b):
        if words[i].word[:1] in "-'":
            continue  # a Whisper word piece ("-sign" of "psycho-sign") belongs to the word before
        for n in range(1, 5):
            j = i + n - 1
            if j >= b or words[j].fixed:
                break
            gram = [x for k in range(i, j + 1) for x in norms[k]]
            if not gram or any(not g.isalnum() for g in gram):
                continue
            if all(g in FUNCTION_WORDS for g in gram):
                continue
            grams.append((i, j, gram))
    if not grams:
        return []
    terms = question + others
    n_q = len(question)
    heard = [[h for g in gram for h in _heard_words(g)] for _i, _j, gram in grams]
    g_keys = [_key(h) for h in heard]
    g_orth = [_orth(gram) for _i, _j, gram in grams]
    t_keys: list[str] = []
    owner: list[int] = []
    for ti, t in enumerate(terms):
        for k in t.keys:
            t_keys.append(k)
            owner.append(ti)
    t_orth = [t.orth for t in terms]
    by_key = process.cdist(g_keys, t_keys, scorer=Levenshtein.normalized_similarity,
                           score_cutoff=opts.match, workers=1)
    by_orth = process.cdist(g_orth, t_orth, scorer=Levenshtein.normalized_similarity,
                            score_cutoff=opts.match, workers=1)
    best: dict[tuple[int, int, int], float] = {}
    for gi, ki in zip(*np.nonzero(by_key), strict=True):
        k = t_keys[ki]
        if min(len(k), len(g_keys[gi])) < 3:
            continue
        key = (grams[gi][0], grams[gi][1], owner[ki])
        best[key] = max(best.get(key, 0.0), float(by_key[gi, ki]))
    for gi, ti in zip(*np.nonzero(by_orth), strict=True):
        key = (grams[gi][0], grams[gi][1], int(ti))
        best[key] = max(best.get(key, 0.0), float(by_orth[gi, ti]))
    gram_of = {(i, j): gram for i, j, gram in grams}
    edits: list[_Edit] = []
    for (i, j, ti), sim in best.items():
        term = terms[ti]
        gram = gram_of[(i, j)]
        if ti >= n_q and sim < opts.bank_match:
            continue
        if _orth(gram) == term.orth or _pure_edit(gram, list(term.norm)):
            continue  # only spacing, added or dropped words, an inflection: not a mishearing
        if not 0.5 * len(term.orth) <= len(_orth(gram)) <= 2.0 * len(term.orth) + 2:
            continue
        if any(k in protected and not set(norms[k]) <= term.words_lower
               for k in range(i, j + 1)):
            continue
        loose = [e for e in {gram[0], gram[-1]} if e in FUNCTION_WORDS
                 and e not in term.words_lower]
        if loose and sim < 0.8:
            continue
        prior, source = (opts.question_bonus, "term") if ti < n_q else (opts.bank_bonus, "bank")
        for text in _number_forms(term.text, gram[-1]):
            dressed = _dress(text, words[i].word, words[j].word)
            edits.append(_Edit(i, j, dressed.split(), prior, sim, source))
    return edits


def _number_forms(term: str, heard_last: str) -> list[str]:
    """The term, and when the heard words end in the other grammatical number, the term in that
    number too: a vocabulary lists "scalers", the candidate said "the scaler" (heard "the
    scalar"); the audio tells "scaler" from "scalars", not from "scalers"."""
    last = term.split()[-1] if term.split() else ""
    if not last.isalpha() or len(last) < 4:
        return [term]
    plural_term = last.endswith("s") and not last.endswith(("ss", "is", "us", "as"))
    plural_heard = heard_last.endswith("s") and not heard_last.endswith(("ss", "is", "us", "as"))
    if plural_term and not plural_heard:
        return [term, term[:-1]]
    if plural_heard and not plural_term:
        return [term, term + "s"]
    return [term]


def _biased_candidates(words: list[_W], biased: list[_W], a: int, b: int,
                       terms: list[_Term], prior: float) -> list[_Edit]:
    B = [w for w in biased if words[a].start - 1.0 <= w.start <= words[b - 1].end + 1.0]
    if not B:
        return []
    cur = [" ".join(normalize(w.word)) for w in words[a:b]]
    alt = [" ".join(normalize(w.word)) for w in B]
    matcher = difflib.SequenceMatcher(a=cur, b=alt, autojunk=False)
    edits = []
    for op, p0, p1, q0, q1 in matcher.get_opcodes():
        if op != "replace":
            continue
        i, j = a + p0, a + p1 - 1
        if any(w.fixed for w in words[i:j + 1]):
            continue
        # the word alignment anchors the stretch; the times only rule out a match far away (a
        # garbled plain stretch gets squeezed timestamps, off by 2 s)
        if abs(words[i].start - B[q0].start) > 2.5 or abs(words[j].end - B[q1 - 1].end) > 2.5:
            continue
        p_norm = [x for w in words[i:j + 1] for x in normalize(w.word)]
        b_norm = [x for w in B[q0:q1] for x in normalize(w.word)]
        if _pure_edit(p_norm, b_norm) or _looping([tuple(normalize(w.word)) for w in B[q0:q1]]):
            continue
        # no length check: the plain pass often skips words the biased one heard ("turn will
        # do" for "effect size and the confidence interval too"); the audio decides
        new = [w.word for w in B[q0:q1]]
        # the question's prior when the biased pass heard one of its terms here
        hit = {t for t, _span in _term_hits([tuple(normalize(w)) for w in new], terms)}
        had = {t for t, _span in _term_hits([tuple(normalize(w.word)) for w in words[i:j + 1]],
                                            terms)}
        edits.append(_Edit(i, j, new, prior if hit - had else 0.0, 1.0, "biased"))
        for variant in _refined(new, terms)[:3]:
            edits.append(_Edit(i, j, variant, prior, 1.0, "biased"))
    return edits


def _refined(new: list[str], terms: list[_Term]) -> list[list[str]]:
    """The biased stretch with a near-miss term in it replaced by the term ("defect size" ->
    "effect size"): the biased pass often lands close to a term without reaching it."""
    out: list[tuple[float, list[str]]] = []
    norms = [normalize(w) for w in new]
    for i in range(len(new)):
        for n in range(1, 5):
            j = i + n - 1
            if j >= len(new):
                break
            gram = [x for k in range(i, j + 1) for x in norms[k]]
            if not gram or any(not g.isalnum() for g in gram) or all(
                    g in FUNCTION_WORDS for g in gram):
                continue
            for term in terms:
                if gram == list(term.norm) or _pure_edit(gram, list(term.norm)):
                    continue
                if not 0.5 * len(term.orth) <= len(_orth(gram)) <= 2.0 * len(term.orth) + 2:
                    continue
                sim = _score(gram, term, 4)
                if sim >= 0.75:
                    dressed = _dress(term.text, new[i], new[j]).split()
                    out.append((sim, new[:i] + dressed + new[j + 1:]))
    out.sort(key=lambda x: -x[0])
    return [v for _s, v in out]


def verify(transcript: Transcript, audio, scorer_for, terms: Sequence[str],
           wider_terms: Sequence[str] = (), biased: Transcript | None = None,
           options: VerifyOptions | None = None) -> Transcript:
    """Edits the audio supports: candidate terms (from ``terms``, the question's vocabulary,
    and ``wider_terms``, e.g. :func:`bank_terms`) proposed by loose sound-alike matching, and
    the stretches where ``biased`` (the hotwords decoding) heard something else, each kept only
    when the model, scoring the window's text against its audio (``scorer_for(samples)`` returns
    a text -> log-probability function, see ``WhisperTranscriber.scorer``), prefers the edited
    text by ``margin`` nats (after the term's prior). Each kept edit is listed in
    ``corrections``; words changed by an earlier pass are left alone.
    """
    opts = options or VerifyOptions()
    words = _flatten(transcript)
    _raw_index_map(transcript, words)
    if not words or not transcript.segments or not any(s.words for s in transcript.segments):
        return _rebuild(transcript, words, [])
    question = _prepare(terms)
    seen = {t.norm for t in question}
    others = [t for t in _prepared(tuple(wider_terms)) if t.norm not in seen]
    norms = _norm_words(words)
    protected: set[int] = set()
    # words already forming one of the question's terms are kept (the bank's 3,000-odd terms
    # include everyday words such as "steps", which must stay open to a better hearing)
    for _t, (ha, hb) in _term_hits(norms, question):
        protected.update(range(ha, hb + 1))
    vocab_words = {w for t in question + others for w in t.norm}
    duration = len(audio) / SAMPLE_RATE
    biased_words = _flatten(biased) if biased is not None else []
    accepted: list[tuple[_Edit, float]] = []
    for a, b, t0, t1 in _windows(words, duration, opts.window_s):
        proposed = _term_candidates(words, norms, a, b, question, others, protected, opts)
        proposed.sort(key=lambda e: (-e.sim, e.i))
        cands = [e for e in proposed if e.source == "term"][: opts.max_candidates]
        cands += [e for e in proposed if e.source == "bank"][: opts.max_candidates]
        if biased is not None:
            cands += _biased_candidates(words, biased_words, a, b, question,
                                        opts.question_bonus)
        if not cands:
            continue
        score = scorer_for(audio[int(t0 * SAMPLE_RATE):int(t1 * SAMPLE_RATE)])
        texts = [w.word for w in words[a:b]]

        def with_edits(edits: list[_Edit], texts=texts, a=a) -> str:
            out = list(texts)
            for e in sorted(edits, key=lambda e: -e.i):
                out[e.i - a:e.j - a + 1] = e.new
            return " ".join(out)

        base = score(" ".join(texts))
        gains = []
        for e in cands:
            g = score(with_edits([e])) - base + e.prior
            if e.prior > 0:
                ok = g > opts.margin
            else:
                # without a prior the model's preference alone decides, and with small margins
                # tiny.en's scores of a garbled window are noise ("with" -> "will"): ask for
                # more, and for a new word it was not sure of, that it be a known word
                ok = g > opts.plain_margin and (g > opts.strong or all(
                    _known(w, vocab_words) for w in e.new))
            log.debug("verify %r -> %r (%s, sim %.2f): %+.2f nats%s",
                      " ".join(w.word for w in words[e.i:e.j + 1]), " ".join(e.new), e.source,
                      e.sim, g, " kept" if ok else "")
            if ok:
                gains.append((g, e))
        gains.sort(key=lambda x: -x[0])
        chosen = _disjoint(gains, lambda x: (x[1].i, x[1].j))
        # together they must still beat the window as it was; else keep only the best
        if len(chosen) > 1:
            together = score(with_edits([e for _g, e in chosen])) - base + sum(
                e.prior for _g, e in chosen)
            if together <= opts.margin:
                chosen = chosen[:1]
        accepted.extend((e, g) for g, e in chosen)
    corrections: list[Correction] = []
    for e, g in sorted(accepted, key=lambda x: -x[0].i):
        original = " ".join(w.word for w in words[e.i:e.j + 1])
        corrections.append(Correction(original=original, corrected=" ".join(e.new),
                                      position=words[e.i].raw, score=round(min(1.0, e.sim), 3),
                                      via="verified", gain=round(g, 2)))
        words = _replace(words, e.i, e.j, e.new)
    return _rebuild(transcript, words, corrections)


# ----------------------------------------------------------------------------- spelling


@functools.lru_cache(maxsize=8)
def _spellings(terms: tuple[str, ...]) -> dict[str, _Term]:
    """Letters -> term, for the terms :func:`respell` may write (built once per term list: the
    bank's 4,100 terms take 0.1 s)."""
    by_orth: dict[str, _Term] = {}
    for t in _prepare(terms):
        if is_technical(t.text) and len(t.orth) >= 4:
            by_orth.setdefault(t.orth, t)
    return by_orth


def respell(transcript: Transcript, terms: Sequence[str],
            wider_terms: Sequence[str] = ()) -> Transcript:
    """Write the terms the transcript holds with other spacing the way the vocabulary spells
    them: "light GBM" -> "LightGBM", "Q LoRA" -> "QLoRA", "k means" stays "k means" (the term's
    own words). Why: the decoder heard the term (the letters are the term's, in order), but
    scoring and search match words, so "light gbm" never meets a key point naming LightGBM.

    Unlike the other passes this also rewrites words an earlier pass wrote (a biased stretch
    often brings the term in split). Only exact letter matches of a term holding an acronym or
    an uncommon word are rewritten ("any more" never becomes "anymore"); each is listed with
    ``via="spelling"``. ``terms`` are the question's, ``wider_terms`` more (the bank's); the
    question's spelling wins.
    """
    words = _flatten(transcript)
    _raw_index_map(transcript, words)
    by_orth = {**_spellings(tuple(wider_terms)), **_spellings(tuple(terms))}
    if not words or not by_orth:
        return _rebuild(transcript, words, [])
    norms = _norm_words(words)
    found: list[tuple[int, int, _Term]] = []
    for i in range(len(words)):
        for n in range(1, 5):
            j = i + n - 1
            # across a segment boundary too, when the words follow each other closely: Whisper
            # ends segments inside terms ("... or light" | "GBM, built ...")
            if j >= len(words):
                break
            if j > i and words[j].seg != words[j - 1].seg and (
                    words[j].start - words[j - 1].end > 0.5):
                break
            gram = [x for k in range(i, j + 1) for x in norms[k]]
            if not gram or any(not g.isalnum() for g in gram):
                break
            term = by_orth.get(_orth(gram))
            if term is not None and tuple(gram) != term.norm:
                found.append((i, j, term))
    chosen = _disjoint(sorted(found, key=lambda f: -(f[1] - f[0])), lambda f: (f[0], f[1]))
    corrections = []
    for i, j, term in sorted(chosen, key=lambda f: -f[0]):
        original = " ".join(w.word for w in words[i:j + 1])
        dressed = _dress(term.text, words[i].word, words[j].word)
        corrections.append(Correction(original=original, corrected=dressed,
                                      position=words[i].raw, score=1.0, via="spelling"))
        words = _replace(words, i, j, dressed.split())
    return _rebuild(transcript, words, corrections)


# ----------------------------------------------------------------------------- one call


def transcribe_with_vocabulary(transcriber, audio, terms: Sequence[str], options=None,
                               correction: CorrectionOptions | None = None,
                               fusion: FusionOptions | None = None,
                               wider_terms: Sequence[str] = (),
                               verification: VerifyOptions | None = None,
                               check_audio: bool = True) -> Transcript:
    """Plain decoding, biased decoding, guarded fusion, correction, then acoustic verification:
    what the interview does with every recorded answer. ``transcriber`` is a
    :class:`~mockinterview.transcribe.WhisperTranscriber` (anything with ``transcribe(audio,
    options)`` and ``options``; with a ``scorer(samples)`` method too, and ``check_audio``,
    the verified pass runs);
    ``options`` its TranscribeOptions; ``audio`` a path or 16 kHz float32 samples; ``terms`` the
    question's vocabulary; ``wider_terms`` more terms the verified pass may propose (the bank's,
    :func:`bank_terms`). With no terms this is plain decoding. The result's ``raw_text`` is the
    plain decoding, ``text`` the corrected text and ``corrections`` every change.

    Cost, measured by ``benchmarks/terms.py`` with tiny.en on 2 cores: plain decoding 0.06 s per
    second of speech, the biased decoding as much again, the verified pass 0.07 s.
    """
    from .audio import load_audio

    if not isinstance(audio, np.ndarray):
        audio = load_audio(audio)
    base = options or getattr(transcriber, "options", None)
    plain = transcriber.transcribe(audio, base)
    terms = [t for t in terms if t and t.strip()]
    if not terms or not plain.text.strip():
        return plain
    hot = hotwords_for(terms)
    biased = None
    if hot and base is not None:
        biased = transcriber.transcribe(audio, replace(base, hotwords=hot))
        plain = fuse(plain, biased, terms, fusion)
    out = correct(plain, terms, correction)
    scorer = getattr(transcriber, "scorer", None)
    if check_audio and scorer is not None:
        out = verify(out, audio, scorer, terms, wider_terms, biased, verification)
    return respell(out, terms, wider_terms)
