"""Acoustic verification: looser proposals kept only when the audio supports them.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from mockinterview.schema import Correction, Transcript
from mockinterview.speech.audio import SAMPLE_RATE
from mockinterview.textnorm import normalize
from mockinterview.vocab.correction import _norm_words, _pure_edit, _score, _stems
from mockinterview.vocab.fusion import _looping, _term_hits
from mockinterview.vocab.rebuild import _W, _dress, _flatten, _raw_index_map, _rebuild, _replace
from mockinterview.vocab.soundkeys import _disjoint, _heard_words, _key, _orth
from mockinterview.vocab.terms import (
    _inflection_of_common,
    _prepare,
    _prepared,
    _Term,
)
from mockinterview.vocab.words import FUNCTION_WORDS, is_common

log = logging.getLogger(__name__)

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


def _windows(words: list[_W], duration: float,
             window_s: float) -> list[tuple[int, int, float, float]]:
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


