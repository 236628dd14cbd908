"""The order of the vocabulary passes over one answer (`transcribe_with_vocabulary`).

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from mockinterview.schema import Transcript
from mockinterview.vocab.correction import correct
from mockinterview.vocab.fusion import fuse
from mockinterview.vocab.options import CorrectionOptions, FusionOptions
from mockinterview.vocab.spelling import respell
from mockinterview.vocab.terms import hotwords_for
from mockinterview.vocab.verification import VerifyOptions, verify

# ----------------------------------------------------------------------------- one call


def transcribe_with_vocabulary(transcriber, audio, terms: Sequence[str], options=None,
                               correction: CorrectionOptions | None = None,
                               fusion: FusionOptions | None = None,
                               wider_terms: Sequence[str] = (),
                               verification: VerifyOptions | None = None,
                               check_audio: bool = True) -> Transcript:
    """Plain decoding, biased decoding, guarded fusion, correction, then acoustic verification:
    what the interview does with every recorded answer. ``transcriber`` is a
    :class:`~mockinterview.speech.transcribe.Transcriber` (its ``scorer`` scores the verified
    pass's proposals against the audio; ``check_audio=False`` skips that pass);
    ``options`` its TranscribeOptions; ``audio`` a path or 16 kHz float32 samples; ``terms`` the
    question's vocabulary; ``wider_terms`` more terms the verified pass may propose (the bank's,
    :func:`bank_terms`). With no terms this is plain decoding. The result's ``raw_text`` is the
    plain decoding, ``text`` the corrected text and ``corrections`` every change.

    Cost, measured by ``benchmarks/terms.py`` with tiny.en on 2 cores: plain decoding 0.06 s per
    second of speech, the biased decoding as much again, the verified pass 0.07 s.
    """
    from mockinterview.speech.audio import load_audio

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
    if check_audio:
        out = verify(out, audio, transcriber.scorer, terms, wider_terms, biased, verification)
    return respell(out, terms, wider_terms)
