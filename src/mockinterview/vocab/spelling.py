"""Respelling: a term heard with other spacing is written the vocabulary's way.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from mockinterview.schema import Correction, Transcript
from mockinterview.vocab.correction import _norm_words
from mockinterview.vocab.rebuild import _dress, _flatten, _raw_index_map, _rebuild, _replace
from mockinterview.vocab.soundkeys import _disjoint, _orth
from mockinterview.vocab.terms import _prepare, _Term, is_technical

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


