"""Correction: conservative sound-alike mapping of near misses to expected terms.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mockinterview.schema import Correction, Transcript
from mockinterview.textnorm import normalize
from mockinterview.vocab.options import CorrectionOptions
from mockinterview.vocab.rebuild import _W, _dress, _flatten, _raw_index_map, _rebuild, _replace
from mockinterview.vocab.soundkeys import _disjoint, _heard_words, _key, _orth, _sim
from mockinterview.vocab.terms import _inflection_of_common, _prepare, _Term
from mockinterview.vocab.words import (
    _LETTER_WORDS,
    _NUMBER_WORDS,
    FUNCTION_WORDS,
    LETTER_HOMOPHONES,
    is_common,
)

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


