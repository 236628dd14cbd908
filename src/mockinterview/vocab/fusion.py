"""Fusion: import from the biased decoding only the stretches that carry an expected term.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from mockinterview.schema import Correction, Transcript
from mockinterview.vocab.correction import _norm_words, _pure_edit
from mockinterview.vocab.options import FusionOptions
from mockinterview.vocab.rebuild import _flatten, _rebuild, _replace
from mockinterview.vocab.soundkeys import _disjoint, _heard_words, _key, _orth, _sim
from mockinterview.vocab.terms import _prepare, _Term

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


