"""Phonemes of heard words and of terms, for sound-alike matching in the vocabulary pass.

Why: Metaphone keys (what :mod:`mockinterview.vocab` matched on first) drop the vowels and merge
consonants, so "up to my" and "optimizer", or "psycho sign" and "cosine", share little; their
phonemes share most. English letter-to-sound rules come from espeak-ng (already installed for
the interviewer's voice), run as one batch per call and cached per text; without espeak-ng,
:func:`phonemes` returns None and the pass matches on spelling and Metaphone alone.

The IPA is simplified for comparison: stress and length marks and spaces go, and the vowel
variants espeak writes for unstressed syllables are folded together ("ᵻ" and "ɪ" -> "i", "ɐ" -> "ə").
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Sequence

_CACHE: dict[str, str] = {}
_LOCK = threading.Lock()
_FOLD = str.maketrans({"ˈ": None, "ˌ": None, "ː": None, "ˑ": None, " ": None, "‿": None,
                       "ᵻ": "i", "ɐ": "ə", "ɜ": "ə", "ɚ": "ə", "ɾ": "t", "ɹ": "r", "ɡ": "g",
                       "ɑ": "a", "ɒ": "a", "ʌ": "ə", "æ": "a", "ɔ": "o", "ʊ": "u", "ɪ": "i",
                       "ɛ": "e", "ʒ": "ʃ", "ð": "θ"})
_UNSAFE = re.compile(r"[^A-Za-z0-9' ]+")  # punctuation would end espeak's clause (one line each)
BATCH_TIMEOUT_S = 60


def _clean(text: str) -> str:
    return " ".join(_UNSAFE.sub(" ", text).split())


def fold(ipa: str) -> str:
    """Simplified IPA: what two pronunciations of one word are compared on."""
    return ipa.translate(_FOLD)


def _espeak(texts: list[str]) -> list[str] | None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, "-q", "--ipa", "-v", "en-us"],
                              input="".join(f"{t}.\n" for t in texts), capture_output=True,
                              text=True, timeout=BATCH_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.splitlines()
    return lines if proc.returncode == 0 and len(lines) == len(texts) else None


def phonemes(texts: Sequence[str]) -> list[str] | None:
    """Folded phonemes of each text ("" for a text without letters or digits); None when
    espeak-ng is missing or failed."""
    cleaned = [_clean(t) for t in texts]
    with _LOCK:
        missing = list(dict.fromkeys(c for c in cleaned if c and c not in _CACHE))
        if missing:
            got = _espeak(missing)
            if got is None and len(missing) > 1:
                # a text espeak split into two lines: one call each, so the others still count
                got = []
                for t in missing:
                    one = _espeak([t])
                    if one is None:
                        return None
                    got.extend(one)
            if got is None:
                return None
            for t, ipa in zip(missing, got, strict=True):
                _CACHE[t] = fold(ipa)
        return [_CACHE[c] if c else "" for c in cleaned]
