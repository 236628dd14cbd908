"""Spoken forms and sound keys: how a term is said aloud and what it sounds like.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jellyfish
from rapidfuzz.distance import Levenshtein

from mockinterview.textnorm import normalize
from mockinterview.vocab.words import _LETTER_NAMES, number_words

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


