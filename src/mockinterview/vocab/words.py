"""Common English: the words a correction must never replace, letter and number names.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

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
        from mockinterview.speech.transcribe import embedded_model_path

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


