"""Term lists: the vocabulary a question (or the bank) expects, and hotwords for biased decoding.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mockinterview.schema import Question, SectionRubric
from mockinterview.textnorm import american, normalize
from mockinterview.vocab.soundkeys import _key, _orth, spoken_forms
from mockinterview.vocab.words import _LETTER_WORDS, FUNCTION_WORDS, bpe_pieces, is_common

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


_ACRONYM_RE = re.compile(r"\b(?:[A-Z][A-Za-z]*[A-Z][A-Za-z0-9]*|[A-Za-z]+\d+[A-Za-z0-9]*"
                         r"|[a-z]+[A-Z]\w*)\b")
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


